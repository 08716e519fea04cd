#!/usr/bin/env bash
# One docclass job across Apache Spark (local[2,3]: 2 cores, 3 attempts per task) and a one-node
# Ray cluster (`ray start --head`), through the runners in deploy/spark and deploy/ray, over a
# real S3-compatible server: for a line corpus and a document corpus the merged output.tar.gz must
# equal, byte for byte, a one-process run of the same job. In a third run per engine one shard's
# first attempt is killed (SIGKILL) and another's fails after writing its part; the engine
# retries both and the archive is still the same. Every process started here is stopped by PID
# on exit.
#
# Needs: s3s-fs, the AWS CLI (AWS_CLI), a release build (DOCCLASS_BIN), a Python with pyspark
# and ray (ENGINES_PYTHON: the venv of deploy/requirements-engines.txt), Java 17+ for Spark, and
# ../shared/data/sms_spam.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${DOCCLASS_BIN:-$repo/target/release/docclass}"
py="${ENGINES_PYTHON:-$repo/target/engines-venv/bin/python}"
aws="${AWS_CLI:-aws}"
s3s="${S3S_FS:-$(command -v s3s-fs || echo "$HOME/.cargo/bin/s3s-fs")}"
venv_bin="$(dirname "$py")"
data="$repo/../shared/data/sms_spam/train.csv"
for need in "$bin" "$s3s" "$data" "$py" "$venv_bin/spark-submit" "$venv_bin/ray"; do
  [ -e "$need" ] || { echo "engines test: missing $need" >&2; exit 1; }
done
command -v java >/dev/null || { echo "engines test: Spark needs Java (apt-get install -y openjdk-17-jre-headless)" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
# Every descendant of the processes started here (Ray's daemons and workers, Spark's Python
# workers), listed before any is signalled so that none is missed when its parent goes first.
descendants() {
  local p
  for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$p"
    descendants "$p"
  done
}
cleanup() {
  local all=() p
  for p in "${pids[@]}"; do
    all+=("$p")
    while read -r d; do all+=("$d"); done < <(descendants "$p")
  done
  for p in "${all[@]}"; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for p in "${all[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "${all[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
fail() { echo "engines test: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print(round($(now) - $1, 1))"; }
# Runs a command in $work/cwd in the background, tracked for cleanup, and waits for it: its
# stdout and stderr go to $work/logs/$1.{out,err}.
tracked() {
  local name=$1; shift
  (cd "$work/cwd" && exec "$@") >"$work/logs/$name.out" 2>"$work/logs/$name.err" &
  local pid=$!
  pids+=("$pid")
  wait "$pid"
}
mkdir -p "$work/logs" "$work/bin" "$work/cwd"
# The binary under its own name, so that `spark-submit --files` ships it as `docclass` and PATH
# finds it.
cp "$bin" "$work/bin/docclass"
bin="$work/bin/docclass"

# --- S3: s3s-fs on a free port, both corpora uploaded with the AWS CLI
port="$(free_port)"
mkdir -p "$work/s3/in-bucket" "$work/s3/out-bucket"
"$s3s" --host 127.0.0.1 --port "$port" --access-key engineskey --secret-key enginessecret "$work/s3" \
  >"$work/logs/s3s.log" 2>&1 &
pids+=($!)
export AWS_ACCESS_KEY_ID=engineskey AWS_SECRET_ACCESS_KEY=enginessecret AWS_REGION=us-east-1 \
  AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
  AWS_ENDPOINT_URL="http://127.0.0.1:$port" SOURCE_DATE_EPOCH=1700000000
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do sleep 0.1; done
# Lines: the SMS texts repeated into files of different sizes (a big one is split between
# shards). Documents: the PDF and Word fixtures (no images: no OCR needed) in a few folders,
# beside text files of a few messages each.
python3 - "$data" "$repo/tests/fixtures/docs" "$work" <<'PY'
import csv, os, shutil, sys
data, fixtures, work = sys.argv[1:]
texts = [row[1].replace("\n", " ").replace("\r", " ") for row in csv.reader(open(data, encoding="utf-8"))]
def write(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in lines)
for name, n in [("a.txt", 120_000), ("b.txt", 7), ("c/d.txt", 60_000), ("e.txt", 250_000)]:
    write(os.path.join(work, "lines", name), (texts[i % len(texts)] for i in range(n)))
for folder in ["mail", "scans/2024", "zz"]:
    for fixture in ["two-pages.pdf", "letter.docx", "encrypted.pdf"]:
        os.makedirs(os.path.join(work, "docs", folder), exist_ok=True)
        shutil.copy(os.path.join(fixtures, fixture), os.path.join(work, "docs", folder, fixture))
for i in range(150):
    write(os.path.join(work, "docs", "sms", f"{i:03}.txt"), texts[i * 5:i * 5 + 1 + i % 5])
PY
"$aws" s3 cp --recursive --only-show-errors "$work/lines/" s3://in-bucket/lines/
"$aws" s3 cp --recursive --only-show-errors "$work/docs/" s3://in-bucket/docs/
model="$repo/models/spam-ham"

# --- The one-process reference archives (same job ids, same archive time)
lines_id=11e5 docs_id=d0c5
"$bin" classify --input s3://in-bucket/lines/ --model "$model" --output s3://out-bucket/single/ \
  --job-id "$lines_id" --job-store "$work/jobs/single" -q >/dev/null || [ $? = 3 ]
"$bin" classify --input s3://in-bucket/docs/ --input-format ONE_DOC_PER_FILE --model "$model" \
  --output s3://out-bucket/single/ --job-id "$docs_id" --job-store "$work/jobs/single" -q >/dev/null || [ $? = 3 ]
"$aws" s3 cp --only-show-errors "s3://out-bucket/single/000000000000-CLN-$lines_id/output/output.tar.gz" "$work/lines.tar.gz"
"$aws" s3 cp --only-show-errors "s3://out-bucket/single/000000000000-CLN-$docs_id/output/output.tar.gz" "$work/docs.tar.gz"

# The merged archive of run $1 (job $2) must be the reference $3 byte for byte, its parts gone.
same_as_one_process() {
  "$aws" s3 cp --only-show-errors "s3://out-bucket/$1/000000000000-CLN-$2/output/output.tar.gz" "$work/$1.tar.gz"
  cmp "$work/$1.tar.gz" "$3" || fail "$1: the merged archive differs from the one-process archive"
  local left
  left="$("$aws" s3 ls --recursive "s3://out-bucket/$1/" | grep -c parts/ || true)"
  [ "$left" = 0 ] || fail "$1: $left part objects left after the merge"
  grep -q '"JobStatus": "COMPLETED"' "$work/logs/$1.out" || fail "$1: the runner printed no COMPLETED job"
}

# The binary of retry run $1 (its marks in $work/marks-$1, named in the script: Ray's workers
# do not get the driver's environment): shard 1's first attempt is killed by SIGKILL before
# docclass starts; shard 0's first attempt writes its part and then fails, so its retry writes
# the part again. mkdir is atomic: exactly one attempt of each shard takes its marker.
flaky_binary() {
  local marks="$work/marks-$1" wrapper="$work/bin/flaky-$1"
  mkdir "$marks"
  cat >"$wrapper" <<WRAP
#!/usr/bin/env bash
index=merge prev=
for arg in "\$@"; do [ "\$prev" = --shard-index ] && index=\$arg; prev=\$arg; done
echo "shard \$index" >>"$marks/calls"
if [ "\$index" = 1 ] && mkdir "$marks/killed-1" 2>/dev/null; then kill -9 \$\$; fi
if [ "\$index" = 0 ] && mkdir "$marks/failed-0" 2>/dev/null; then "$bin" "\$@" >/dev/null; exit 1; fi
exec "$bin" "\$@"
WRAP
  chmod +x "$wrapper"
  echo "$wrapper"
}
# Both first attempts were spoiled, both shards ran again, and the archive is still the same.
check_retries() {
  local marks="$work/marks-$1"
  [ -d "$marks/killed-1" ] && [ -d "$marks/failed-0" ] || fail "$1: the flaky binary never spoiled an attempt"
  [ "$(grep -c '^shard 1$' "$marks/calls")" = 2 ] || fail "$1: shard 1 was not run exactly twice: $(sort "$marks/calls" | uniq -c | tr '\n' ' ')"
  [ "$(grep -c '^shard 0$' "$marks/calls")" = 2 ] || fail "$1: shard 0 was not run exactly twice: $(sort "$marks/calls" | uniq -c | tr '\n' ' ')"
  same_as_one_process "$1" "$lines_id" "$work/lines.tar.gz"
}

# --- Spark: local[2,3]. The line job ships the binary with --files and the model with
# --archives (found by name on the workers); the document job finds docclass on PATH.
export PYSPARK_PYTHON="$py" PYSPARK_DRIVER_PYTHON="$py" SPARK_LOCAL_IP=127.0.0.1
spark_job() {
  local name=$1; shift
  tracked "$name" "$venv_bin/spark-submit" --master 'local[2,3]' \
    --conf spark.ui.enabled=false --conf spark.ui.showConsoleProgress=false "$@" ||
    { tail -n 30 "$work/logs/$name.err" >&2; fail "$name: spark-submit failed"; }
}
tar -czf "$work/spam-ham.tar.gz" -C "$model" .
started=$(now)
spark_job spark-lines --files "$bin" --archives "$work/spam-ham.tar.gz#spam-ham" "$repo/deploy/spark/docclass_spark.py" \
  --input s3://in-bucket/lines/ --model spam-ham --output s3://out-bucket/spark-lines/ \
  --job-id "$lines_id" -- --job-store "$work/jobs/spark-lines"
same_as_one_process spark-lines "$lines_id" "$work/lines.tar.gz"
echo "spark: line job, 2 shards + merge in $(since "$started") s (spark-submit included): merged = one process"
started=$(now)
PATH="$work/bin:$PATH" spark_job spark-docs "$repo/deploy/spark/docclass_spark.py" --shards 3 \
  --input s3://in-bucket/docs/ --input-format ONE_DOC_PER_FILE --model "$model" \
  --output s3://out-bucket/spark-docs/ --job-id "$docs_id" -- --job-store "$work/jobs/spark-docs"
same_as_one_process spark-docs "$docs_id" "$work/docs.tar.gz"
echo "spark: document job, 3 shards + merge in $(since "$started") s: merged = one process"
flaky="$(flaky_binary spark-retry)"
started=$(now)
spark_job spark-retry "$repo/deploy/spark/docclass_spark.py" \
  --docclass "$flaky" --input s3://in-bucket/lines/ --model "$model" \
  --output s3://out-bucket/spark-retry/ --job-id "$lines_id" -- --job-store "$work/jobs/spark-retry"
check_retries spark-retry
grep -q 'Lost task 1.0 in stage' "$work/logs/spark-retry.err" || fail "spark-retry: Spark's log shows no lost task 1.0"
# spark-submit passes the Python driver's stderr on through its own stdout.
grep -q 'shard 1 of 2: .*, attempt 2$' "$work/logs/spark-retry.out" || fail "spark-retry: shard 1 did not succeed on attempt 2"
grep -q 'shard 0 of 2: .*, attempt 2$' "$work/logs/spark-retry.out" || fail "spark-retry: shard 0 did not succeed on attempt 2"
echo "spark: shard 1 killed (SIGKILL), shard 0 failed after writing its part: both retried (attempt 2), merged = one process in $(since "$started") s"

# --- Ray: a one-node cluster of 2 CPUs, its daemons children of `ray start --block` (stopped by
# PID on exit). Its PATH has docclass, for the document job; the line job names the binary.
ray_port="$(free_port)"
started=$(now)
PATH="$work/bin:$PATH" "$venv_bin/ray" start --head --block --port "$ray_port" --num-cpus 2 \
  --disable-usage-stats --include-dashboard=false --object-store-memory 100000000 \
  --temp-dir "$work/ray" >"$work/logs/ray-start.log" 2>&1 &
ray_pid=$!
pids+=("$ray_pid")
for _ in $(seq 1 600); do
  grep -q 'Ray runtime started' "$work/logs/ray-start.log" && break
  kill -0 "$ray_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q 'Ray runtime started' "$work/logs/ray-start.log" ||
  { tail -n 30 "$work/logs/ray-start.log" >&2; fail "ray start --head did not start"; }
echo "ray: cluster started in $(since "$started") s"
ray_job() {
  local name=$1; shift
  tracked "$name" "$py" "$repo/deploy/ray/docclass_ray.py" --address "127.0.0.1:$ray_port" "$@" ||
    { tail -n 30 "$work/logs/$name.err" >&2; fail "$name: the Ray runner failed"; }
}
started=$(now)
ray_job ray-lines --docclass "$bin" --input s3://in-bucket/lines/ --model "$model" \
  --output s3://out-bucket/ray-lines/ --job-id "$lines_id" -- --job-store "$work/jobs/ray-lines"
same_as_one_process ray-lines "$lines_id" "$work/lines.tar.gz"
echo "ray: line job, 2 shards + merge in $(since "$started") s: merged = one process"
# Local paths, relative to the driver's folder (the runner makes them absolute for the workers):
# the same files under the same names as from S3.
ray_job ray-local --docclass "$bin" --input ../lines/ --model "$model" --output ../local/ \
  --job-id "$lines_id" -- --job-store "$work/jobs/ray-local"
cmp "$work/local/000000000000-CLN-$lines_id/output/output.tar.gz" "$work/lines.tar.gz" ||
  fail "ray-local: the archive of local input differs from the one of the same files on S3"
echo "ray: the line job on local paths = the same files from S3"
started=$(now)
PATH="$work/bin:$PATH" ray_job ray-docs --shards 3 --input s3://in-bucket/docs/ --input-format ONE_DOC_PER_FILE \
  --model "$model" --output s3://out-bucket/ray-docs/ --job-id "$docs_id" -- --job-store "$work/jobs/ray-docs"
same_as_one_process ray-docs "$docs_id" "$work/docs.tar.gz"
echo "ray: document job, 3 shards + merge in $(since "$started") s: merged = one process"
flaky="$(flaky_binary ray-retry)"
started=$(now)
ray_job ray-retry --docclass "$flaky" --max-retries 2 \
  --input s3://in-bucket/lines/ --model "$model" --output s3://out-bucket/ray-retry/ \
  --job-id "$lines_id" -- --job-store "$work/jobs/ray-retry"
check_retries ray-retry
echo "ray: shard 1 killed (SIGKILL), shard 0 failed after writing its part: both retried, merged = one process in $(since "$started") s"

# --- No binary anywhere: the runner stops before any task, saying every way to provide one.
if PATH="$venv_bin:/usr/bin:/bin" tracked ray-nobinary "$py" "$repo/deploy/ray/docclass_ray.py" \
  --address "127.0.0.1:$ray_port" --input s3://in-bucket/lines/ --model "$model" --output s3://out-bucket/none/; then
  fail "ray-nobinary: the runner succeeded without a docclass binary"
fi
grep -q 'error: job .*no docclass binary on .*pass --docclass PATH' "$work/logs/ray-nobinary.err" ||
  fail "ray-nobinary: unexpected message: $(tail -n 1 "$work/logs/ray-nobinary.err")"
echo "engines: a missing binary is one line naming --docclass and PATH; 7 engine runs merged = one process"
