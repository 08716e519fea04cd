#!/usr/bin/env bash
# A sharded job on a real Slurm cluster (one node on loopback) over a real S3-compatible server:
# `sbatch --array` runs docclass once per shard (shards from SLURM_ARRAY_TASK_ID/COUNT, job id
# from SLURM_ARRAY_JOB_ID), a dependent job merges the parts, and the merged output.tar.gz must
# equal, byte for byte, a one-machine run of the same job. Every daemon started here is stopped
# by PID on exit.
#
# Needs: root (slurmd), Debian's slurm-wlm (munge, slurmctld, slurmd), s3s-fs, the AWS CLI
# (AWS_CLI, default `aws`), a release build (DOCCLASS_BIN) and ../shared/data/sms_spam.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${DOCCLASS_BIN:-$repo/target/release/docclass}"
aws="${AWS_CLI:-aws}"
s3s="${S3S_FS:-$(command -v s3s-fs || echo "$HOME/.cargo/bin/s3s-fs")}"
shards="${SHARDS:-4}"
data="$repo/../shared/data/sms_spam/train.csv"
for need in "$bin" "$s3s" "$data"; do
  [ -e "$need" ] || { echo "slurm test: missing $need" >&2; exit 1; }
done
command -v slurmctld >/dev/null || { echo "slurm test: slurm-wlm is not installed (apt-get install -y slurm-wlm)" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
munge_pid=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$munge_pid" ] && kill "$munge_pid" 2>/dev/null || true
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# --- S3: s3s-fs on a free port, the corpus uploaded with the AWS CLI
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/s3/in-bucket" "$work/s3/out-bucket"
"$s3s" --host 127.0.0.1 --port "$port" --access-key slurmkey --secret-key slurmsecret "$work/s3" \
  >"$work/s3s.log" 2>&1 &
pids+=($!)
export AWS_ACCESS_KEY_ID=slurmkey AWS_SECRET_ACCESS_KEY=slurmsecret AWS_REGION=us-east-1 \
  AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
  AWS_ENDPOINT_URL="http://127.0.0.1:$port" SOURCE_DATE_EPOCH=1700000000
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do sleep 0.1; done
# Texts of the SMS corpus (second CSV column), repeated into files of different sizes.
python3 - "$data" "$work/corpus" <<'PY'
import csv, os, sys
texts = [row[1].replace("\n", " ").replace("\r", " ") for row in csv.reader(open(sys.argv[1], encoding="utf-8"))]
os.makedirs(sys.argv[2])
for name, n in [("a.txt", 120_000), ("b.txt", 7), ("c/d.txt", 60_000), ("e.txt", 250_000)]:
    path = os.path.join(sys.argv[2], name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(texts[i % len(texts)] + "\n" for i in range(n))
PY
"$aws" s3 cp --recursive --only-show-errors "$work/corpus/" s3://in-bucket/corpus/

# --- Slurm: munge, slurmctld, slurmd on loopback
host="$(hostname)"
mkdir -p "$work/slurm/state" "$work/slurm/spool" "$work/slurm/log"
cat >"$work/slurm/slurm.conf" <<CONF
ClusterName=docclass
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$work/slurm/state
SlurmdSpoolDir=$work/slurm/spool
SlurmctldPidFile=$work/slurm/slurmctld.pid
SlurmdPidFile=$work/slurm/slurmd.pid
SlurmctldLogFile=$work/slurm/log/slurmctld.log
SlurmdLogFile=$work/slurm/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
echo "CgroupPlugin=cgroup/v1" >"$work/slurm/cgroup.conf"
export SLURM_CONF="$work/slurm/slurm.conf"
mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
[ -s /etc/munge/munge.key ] || { /usr/sbin/mungekey --create --force 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  rm -f /run/munge/docclass-test.pid
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/docclass-test.pid
  until [ -s /run/munge/docclass-test.pid ]; do sleep 0.1; done
  munge_pid="$(cat /run/munge/docclass-test.pid)"
fi
slurmctld -D -f "$SLURM_CONF" >"$work/slurm/log/ctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$work/slurm/log/d.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 0.2; done
sinfo -h -o %T | grep -q idle || { echo "slurm test: the node never became idle" >&2; tail -n 20 "$work/slurm/log/"*.log >&2; exit 1; }

# --- The sharded job: one array task per shard, then a merge that waits for all of them.
cat >"$work/shard.sh" <<JOB
#!/usr/bin/env bash
exec "$bin" classify --input s3://in-bucket/corpus/ --model "$repo/models/spam-ham" \
  --output s3://out-bucket/sharded/ --threads 1 -q
JOB
cat >"$work/merge.sh" <<JOB
#!/usr/bin/env bash
exec "$bin" merge --output s3://out-bucket/sharded/ --job-id "\$1" --job-store "$work/jobs"
JOB
chmod +x "$work/shard.sh" "$work/merge.sh"
started=$(date +%s.%N)
array_id="$(sbatch --parsable --array=0-$((shards - 1)) -D "$work" -o "$work/shard-%a.log" "$work/shard.sh")"
merge_id="$(sbatch --parsable --dependency=afterok:"$array_id" -D "$work" -o "$work/merge.log" "$work/merge.sh" "$array_id")"
# Wait for the merge (it runs once every shard succeeded).
for _ in $(seq 1 600); do
  state="$(scontrol show job "$merge_id" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 || true)"
  case "$state" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY) break ;; esac
  sleep 0.2
done
finished=$(date +%s.%N)
if [ "$state" != COMPLETED ]; then
  echo "slurm test: merge job $merge_id ended $state" >&2
  tail -n 20 "$work"/shard-*.log "$work/merge.log" >&2 || true
  exit 1
fi
echo "slurm: $shards shards + merge over S3 in $(python3 -c "print(round($finished - $started, 2))") s (array job $array_id)"

# --- The same job on one machine, and the comparison.
"$bin" classify --input s3://in-bucket/corpus/ --model "$repo/models/spam-ham" \
  --output s3://out-bucket/single/ --job-id "$array_id" --job-store "$work/jobs-single" -q >/dev/null || [ $? = 3 ]
key="000000000000-CLN-$array_id/output/output.tar.gz"
"$aws" s3 cp --only-show-errors "s3://out-bucket/sharded/$key" "$work/sharded.tar.gz"
"$aws" s3 cp --only-show-errors "s3://out-bucket/single/$key" "$work/single.tar.gz"
cmp "$work/sharded.tar.gz" "$work/single.tar.gz"
left="$("$aws" s3 ls --recursive "s3://out-bucket/sharded/" | grep -c parts/ || true)"
[ "$left" = 0 ] || { echo "slurm test: $left part objects left after the merge" >&2; exit 1; }
lines="$(python3 -c "import tarfile,sys; t=tarfile.open(sys.argv[1]); print(sum(1 for _ in t.extractfile('predictions.jsonl')))" "$work/sharded.tar.gz")"
[ "$lines" = 430007 ] || { echo "slurm test: $lines predictions, expected 430007" >&2; exit 1; }
echo "slurm: merged archive = one-machine archive ($(stat -c %s "$work/sharded.tar.gz") bytes, $lines predictions), parts removed"
