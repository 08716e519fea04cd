#!/usr/bin/env python3
"""End-to-end batch-prediction throughput: docclass vs scikit-learn, fastText, VW.

Run through benches/compare/run (which prepares the peers' virtualenv):

  1. Corpus: the SMS texts of sms_spam/train.csv repeated in file order to N
     lines (newlines inside texts become spaces) -> work/sms_N.txt, plus
     work/sms_N.vw, the same lines lower-cased and tokenized (\\w+) in Vowpal
     Wabbit's input format ("| tok tok ...").
  2. Models, all trained on train.csv: docclass (`docclass train`, hashed
     2^18 word 1-2 grams + char 1-4 grams, C=10, balanced), scikit-learn
     (TfidfVectorizer word 1-2 grams, sublinear tf + LogisticRegression C=10,
     joblib), fastText supervised (wordNgrams 2, epoch 25, lr 0.5, .bin) and
     VW (logistic loss, --ngram 2, -b 18, 10 passes with cache).
  3. Every tool predicts every line of the corpus, as a fresh process, timed
     from spawn to exit (wall clock, time.perf_counter) with peak RSS and CPU
     time from GNU time (/usr/bin/time -f "%M %U %S"). Tools alternate:
     each of the R rounds runs all tools, in an order rotated by one per round.
     pigz (`pigz -p 2 -6`) compresses docclass's own predictions.jsonl (made once,
     untimed, before the rounds): the output must be compressed, so that time is
     the floor for a job that writes output.tar.gz.
  4. Table of medians over rounds -> stdout, work/results.md, work/results.json,
     with the medians of per-round ratios docclass-2t/pigz and fasttext/docclass-2t.

Every tool writes its predictions to a file under work/out/ (docclass: its
output.tar.gz job archive), which is checked (line count, resubstitution
accuracy against the known labels) in the first round and deleted after each
run. The docclass binary is copied to work/bin/ first, so a rebuild during the
run does not change the program being measured.

Shared machines: before each measurement the driver waits (up to
--quiet-wait s) for the CPUs to go idle, and it compares the machine's busy
CPU time (/proc/stat) with the tool's own; a measurement during which other
processes used CPU is re-run (up to --retries times) and, if kept, counted
in the notes under the table.

Note: docclass trains on 90% of train.csv (it holds 10% out for its
evaluation metrics); the peers train on all rows.
"""

import argparse
import csv
import datetime
import hashlib
import io
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from importlib import metadata

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WORKER = os.path.join(HERE, "peer_predict.py")
SEED = 20261129  # shuffles the training lines of the SGD learners
CORPUS_FORMAT = 1  # bump when the corpus layout changes (forces a rebuild)

# Tools in table order: id -> (label, processes/threads description).
TOOLS = {
    "cat": ("cat file > /dev/null (floor)", "1 proc"),
    "docclass-2t": ("docclass classify", "1 proc, 2 threads"),
    "docclass-1t": ("docclass classify", "1 proc, 1 thread"),
    "fasttext": ("fastText predict-prob (Python API)", "1 proc"),
    "fasttext-2p": ("fastText predict-prob (Python API)", "2 procs"),
    "sklearn": ("scikit-learn tfidf+LR predict_proba", "1 proc"),
    "sklearn-2p": ("scikit-learn tfidf+LR predict_proba", "2 procs"),
    "vw": ("Vowpal Wabbit -t (pre-tokenized input)", "1 proc"),
    "pigz": ("pigz -6 of docclass's own predictions.jsonl (compression alone)", "1 proc, 2 threads"),
}
# Ratios reported as medians of per-round ratios (the tools alternate within each round):
# docclass-2t's time over pigz's (the goal: at most 2.8) and fastText's over docclass-2t's.
RATIOS = [("docclass-2t", "pigz"), ("fasttext", "docclass-2t")]
BASELINE = "docclass-2t"


# ------------------------------------------------------------------ corpus

def read_train(path):
    """[(label, text)] from a Comprehend CSV (label,text), newlines -> spaces."""
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.reader(f):
            if row:
                label, text = row[0], ",".join(row[1:])
                rows.append((label, re.sub(r"\r\n|\r|\n", " ", text)))
    return rows


def vw_tokens(text):
    """Lower-cased word tokens; \\w+ never contains VW's special | or :."""
    return " ".join(re.findall(r"\w+", text.lower()))


def write_repeated(path, lines, n):
    """Write lines cyclically (in order) until n lines are written."""
    cycle = "".join(s + "\n" for s in lines)
    full, rest = divmod(n, len(lines))
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for _ in range(full):
            f.write(cycle)
        f.writelines(s + "\n" for s in lines[:rest])
    os.replace(tmp, path)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_corpus(rows, n, work, train_sha):
    """work/sms_N.txt and work/sms_N.vw; reused when already built from the same data."""
    raw, vw = os.path.join(work, f"sms_{n}.txt"), os.path.join(work, f"sms_{n}.vw")
    meta_path = os.path.join(work, f"sms_{n}.meta.json")
    meta = {"format": CORPUS_FORMAT, "lines": n, "train_sha256": train_sha}
    try:
        with open(meta_path) as f:
            if json.load(f) == meta and os.path.exists(raw) and os.path.exists(vw):
                log(f"corpus: reusing {raw}")
                return raw, vw
    except (OSError, ValueError):
        pass
    log(f"corpus: writing {n} lines to {raw} and {vw}")
    write_repeated(raw, [t for _, t in rows], n)
    write_repeated(vw, ["| " + vw_tokens(t) for _, t in rows], n)
    with open(meta_path, "w") as f:
        json.dump(meta, f)
    return raw, vw


# ------------------------------------------------------------------ training

def train_docclass(binary, train_csv, models):
    # No tuning flags: the settings search chooses, as for the shipped model.
    cmd = [binary, "train", "--name", "spam-ham", "--train", train_csv,
           "--model-registry", models, "--overwrite", "-q"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return os.path.join(models, "spam-ham")


def train_sklearn(rows, models):
    import joblib
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    x = vec.fit_transform([t for _, t in rows])
    clf = LogisticRegression(C=10, solver="liblinear", max_iter=1000, random_state=0)
    clf.fit(x, [y for y, _ in rows])
    path = os.path.join(models, "sklearn.joblib")
    joblib.dump((vec, clf), path)
    return path


def shuffled(lines):
    """SGD learners see one pass in file order; the file is not mixed enough."""
    lines = list(lines)
    random.Random(SEED).shuffle(lines)
    return lines


def train_fasttext(rows, models):
    import fasttext

    train = os.path.join(models, "fasttext.train.txt")
    with open(train, "w", encoding="utf-8") as f:
        f.writelines(shuffled(f"__label__{y} {t.lower()}\n" for y, t in rows))
    # thread=1 + seed=0: deterministic.
    model = fasttext.train_supervised(input=train, wordNgrams=2, epoch=25, lr=0.5,
                                      thread=1, seed=0, verbose=0)
    path = os.path.join(models, "fasttext.bin")
    model.save_model(path)
    return path


def train_vw(rows, models, positive):
    train = os.path.join(models, "vw.train.txt")
    with open(train, "w", encoding="utf-8") as f:
        f.writelines(shuffled(f"{1 if y == positive else -1} | {vw_tokens(t)}\n"
                              for y, t in rows))
    path = os.path.join(models, "vw.model")
    cache = os.path.join(models, "vw.cache")
    if os.path.exists(cache):
        os.remove(cache)
    subprocess.run([sys.executable, WORKER, "vw", "-d", train, "--loss_function", "logistic",
                    "--link", "logistic", "--ngram", "2", "-b", "18", "--passes", "10",
                    "-c", "--cache_file", cache, "--holdout_off", "-f", path, "--quiet"],
                   check=True)
    return path


# ------------------------------------------------------------------ measuring

def spawn(cmd, stdout, stderr):
    """Start cmd with stdout/stderr redirected to files; return its pid."""
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
               (os.POSIX_SPAWN_OPEN, 2, stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)]
    return os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=actions)


GNU_TIME = "/usr/bin/time"


def measure(cmds, logs, stats_dir):
    """Run cmds concurrently; wall seconds until all exit, summed peak RSS and CPU.

    Each command runs under GNU time (-f "%M %U %S": peak RSS KiB, user and
    system CPU seconds), which forks it from a tiny process: os.wait4 on a
    child spawned straight from this (large) Python process would report
    this process's RSS as the child's peak. Without GNU time, os.wait4 is
    used and RSS is only an upper bound. With several commands RSS is the
    sum of their peaks.
    """
    use_time = os.access(GNU_TIME, os.X_OK)
    stats = [os.path.join(stats_dir, f"time.{i}.txt") for i in range(len(cmds))]
    busy0 = busy_cpu_seconds()
    t0 = time.perf_counter()
    pids = [spawn([GNU_TIME, "-f", "%M %U %S", "-o", st] + c if use_time else c, *lf)
            for c, lf, st in zip(cmds, logs, stats)]
    usages = []
    for pid in pids:
        _, status, ru = os.wait4(pid, 0)
        usages.append((os.waitstatus_to_exitcode(status), ru))
    wall = time.perf_counter() - t0
    busy = busy_cpu_seconds() - busy0
    for (code, _), cmd, (_, err) in zip(usages, cmds, logs):
        if code != 0:
            with open(err, errors="replace") as f:
                tail = f.read()[-2000:]
            raise RuntimeError(f"exit {code}: {' '.join(cmd)}\n{tail}")
    if use_time:
        kib = cpu = 0.0
        for st in stats:
            with open(st) as f:
                rss, user, system = f.read().split("\n")[-2].split()
            kib, cpu = kib + float(rss), cpu + float(user) + float(system)
            os.remove(st)
    else:
        kib = sum(ru.ru_maxrss for _, ru in usages)
        cpu = sum(ru.ru_utime + ru.ru_stime for _, ru in usages)
    # CPU time the rest of the machine used meanwhile (0 on a quiet machine;
    # GNU time rounds to 10 ms, so small negative values are noise).
    return {"seconds": wall, "rss_mib": kib / 1024, "cpu_seconds": cpu,
            "other_cpu_seconds": round(busy - cpu, 2)}


def busy_cpu_seconds():
    """Non-idle CPU seconds of the whole machine since boot (/proc/stat)."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # without guest time


def wait_for_quiet(max_wait, window=0.5, idle_cores=0.1):
    """Wait (up to max_wait s) for a window in which the machine is idle.

    Idle: less than idle_cores cores' worth of CPU time used in the window.
    Returns the seconds waited; a busy machine only delays, never stops, a run.
    """
    t0 = time.perf_counter()
    while True:
        busy0 = busy_cpu_seconds()
        time.sleep(window)
        waited = time.perf_counter() - t0
        if busy_cpu_seconds() - busy0 < idle_cores * window or waited >= max_wait:
            if waited > 2 * window:
                log(f"  waited {waited:.0f}s for other processes to go idle")
            return waited


def split_at_line(path):
    """Byte offset of the first line start at or after the middle of path."""
    with open(path, "rb") as f:
        f.seek(os.path.getsize(path) // 2)
        f.readline()
        return f.tell()


class Bench:
    """Builds each tool's commands and checks and removes its outputs."""

    def __init__(self, a):
        self.a = a  # namespace: paths of binary, corpus, models, out/logs dirs
        self.mid = split_at_line(a.raw)
        self.size = os.path.getsize(a.raw)

    def commands(self, tool):
        a, py = self.a, sys.executable
        out = lambda name: os.path.join(a.out, name)  # noqa: E731
        if tool == "cat":
            return [["cat", a.raw]], [os.devnull]
        if tool == "pigz":
            return [["pigz", "-p", "2", "-6", "-c", a.predictions]], [out("pigz.gz")]
        if tool.startswith("docclass"):
            threads = {"docclass-2t": "2", "docclass-1t": "1"}[tool]
            return [[a.binary, "classify", "--input", a.raw, "--model", a.docclass_model,
                     "--output", out(tool) + "/", "--threads", threads, "-q",
                     "--job-store", os.path.join(a.work, "jobs")]], [out(tool + ".job.json")]
        if tool in ("sklearn", "fasttext"):
            model = a.sklearn_model if tool == "sklearn" else a.fasttext_model
            return [[py, WORKER, tool, model, a.raw, out(tool + ".txt")]], [os.devnull]
        if tool in ("sklearn-2p", "fasttext-2p"):
            base = tool[:-3]
            model = a.sklearn_model if base == "sklearn" else a.fasttext_model
            ranges = [(0, self.mid), (self.mid, self.size)]
            return ([[py, WORKER, base, model, a.raw, out(f"{tool}.{i}.txt"),
                      "--start", str(s), "--end", str(e)] for i, (s, e) in enumerate(ranges)],
                    [os.devnull, os.devnull])
        if tool == "vw":
            return [[py, WORKER, "vw", "-t", "-i", a.vw_model, "-d", a.vw_corpus,
                     "--link", "logistic", "-p", out("vw.txt"), "--quiet"]], [os.devnull]
        raise ValueError(tool)

    def run(self, tool, round_no):
        cmds, stdouts = self.commands(tool)
        logs = [(o, os.path.join(self.a.logs, f"{tool}.{i}.r{round_no}.err"))
                for i, o in enumerate(stdouts)]
        # A measurement during which other processes took noticeable CPU time
        # (the machine is shared) is repeated, up to --retries times.
        for attempt in range(self.a.retries + 1):
            self.clean(tool)
            wait_for_quiet(self.a.quiet_wait)
            result = measure(cmds, logs, self.a.logs)
            result["contended"] = result["other_cpu_seconds"] > 0.1 + 0.05 * result["seconds"]
            result["attempt"] = attempt + 1
            if not result["contended"]:
                break
            log(f"  {tool}: other processes used {result['other_cpu_seconds']:.2f} CPU s "
                f"during {result['seconds']:.2f} s" + ("; retrying" if attempt < self.a.retries
                                                      else "; keeping it (no retries left)"))
        if round_no == 0:
            result.update(self.check(tool))
        self.clean(tool)
        return result

    # -- outputs: (predicted labels of the first len(labels) lines, line count)

    def predictions(self, tool):
        a = self.a
        m = min(len(a.labels), a.lines)  # lines whose label is checked
        if tool in ("cat", "pigz"):
            return None, None
        if tool.startswith("docclass"):
            with open(os.path.join(a.out, tool + ".job.json")) as f:
                counts = json.load(f)["DocumentClassificationJobProperties"]["Docclass"]["Counts"]
            if counts["Errors"]:
                raise RuntimeError(f"{tool}: {counts['Errors']} document errors")
            archive = next(os.path.join(d, f) for d, _, fs in os.walk(os.path.join(a.out, tool))
                           for f in fs if f == "output.tar.gz")
            first = {}
            with tarfile.open(archive, "r:gz") as tar:
                for member in tar:
                    if not member.isfile():
                        continue
                    for line in io.TextIOWrapper(tar.extractfile(member), encoding="utf-8"):
                        rec = json.loads(line)
                        if int(rec["Line"]) < m:
                            first[int(rec["Line"])] = max(rec["Classes"],
                                                          key=lambda c: c["Score"])["Name"]
                        if len(first) == m:
                            break
            return [first.get(i) for i in range(m)], counts["Predictions"]
        if tool == "vw":
            files, parse = [os.path.join(a.out, "vw.txt")], (
                lambda s: a.positive if float(s.split()[0]) > 0.5 else a.negative)
        else:
            files = ([os.path.join(a.out, f"{tool}.{i}.txt") for i in range(2)]
                     if tool.endswith("-2p") else [os.path.join(a.out, tool + ".txt")])
            parse = lambda s: s.split(" ", 1)[0]  # noqa: E731
        labels, count = [], 0
        for path in files:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if len(labels) < m:
                        labels.append(parse(line))
                    count += 1
        return labels, count

    def check(self, tool):
        pred, count = self.predictions(tool)
        if pred is None:
            return {}
        if count != self.a.lines:
            raise RuntimeError(f"{tool}: {count} predictions for {self.a.lines} lines")
        gold = self.a.labels[:len(pred)]
        acc = sum(p == g for p, g in zip(pred, gold)) / len(gold)
        return {"train_accuracy": acc, "predictions": count}

    def clean(self, tool):
        for name in os.listdir(self.a.out):
            if name == tool or name.startswith(tool + "."):
                path = os.path.join(self.a.out, name)
                shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


# ------------------------------------------------------------------ report

def docclass_predictions(a):
    """Runs docclass once (untimed) and keeps its predictions.jsonl for pigz to compress."""
    path = os.path.join(a.work, f"predictions_{a.lines}.jsonl")
    job = os.path.join(a.out, "pigz-source")
    shutil.rmtree(job, ignore_errors=True)
    subprocess.run([a.binary, "classify", "--input", a.raw, "--model", a.docclass_model,
                    "--output", job + "/", "-q", "--job-store", os.path.join(a.work, "jobs")],
                   check=True, stdout=subprocess.DEVNULL)
    archive = next(os.path.join(d, f) for d, _, fs in os.walk(job) for f in fs
                   if f == "output.tar.gz")
    with tarfile.open(archive, "r:gz") as tar, open(path, "wb") as out:
        shutil.copyfileobj(tar.extractfile("predictions.jsonl"), out)
    shutil.rmtree(job)
    return path


def ratios(samples):
    """{"a/b": median over rounds of a's seconds / b's seconds} for the pairs in RATIOS."""
    out = {}
    for a, b in RATIOS:
        if a in samples and b in samples:
            per_round = [x["seconds"] / y["seconds"] for x, y in zip(samples[a], samples[b])]
            out[f"{a}/{b}"] = {"median": statistics.median(per_round),
                               "rounds": [round(r, 3) for r in per_round]}
    return out


def versions(binary):
    v = {"python": platform.python_version()}
    for dist in ("scikit-learn", "numpy", "scipy", "fasttext-wheel", "vowpalwabbit"):
        try:
            v[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            v[dist] = None
    v["docclass"] = subprocess.run([binary, "--version"], capture_output=True,
                                   text=True).stdout.strip()
    return v


def git_head():
    def git(*args):
        r = subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None
    head, dirty = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain", "--", "src")
    return head and (head + ("+dirty(src)" if dirty else ""))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def summarize(samples, n_lines, n_bytes):
    rows = {}
    for tool, runs in samples.items():
        secs = statistics.median(r["seconds"] for r in runs)
        rows[tool] = {
            "tool": TOOLS[tool][0], "mode": TOOLS[tool][1],
            "median_seconds": secs,
            "docs_per_second": n_lines / secs,
            "mb_per_second": n_bytes / 1e6 / secs,
            "peak_rss_mib": statistics.median(r["rss_mib"] for r in runs),
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
            "train_accuracy": runs[0].get("train_accuracy"),
            "seconds_all_rounds": [round(r["seconds"], 4) for r in runs],
        }
    base = rows.get(BASELINE)
    for row in rows.values():
        row["time_vs_docclass_2t"] = row["median_seconds"] / base["median_seconds"] if base else None
    return rows


def table(rows):
    """Markdown table (also readable as plain text)."""
    head = ["tool", "mode", "median s", "docs/s", "MB/s", "peak RSS MiB", "CPU s",
            "time / docclass-2t", "train acc"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for tool in TOOLS:
        if tool not in rows:
            continue
        r = rows[tool]
        ratio = r["time_vs_docclass_2t"]
        acc = r["train_accuracy"]
        cells = [r["tool"], r["mode"], f"{r['median_seconds']:.2f}",
                 f"{r['docs_per_second']:,.0f}", f"{r['mb_per_second']:.1f}",
                 f"{r['peak_rss_mib']:.0f}", f"{r['cpu_seconds']:.2f}",
                 "-" if ratio is None else f"{ratio:.2f}x",
                 "-" if acc is None else f"{acc:.4f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(
        description="Batch-prediction throughput of docclass vs scikit-learn, fastText, VW.")
    ap.add_argument("--lines", type=int, default=1_000_000, help="corpus lines (default 1000000)")
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds per tool (default 3)")
    ap.add_argument("--retries", type=int, default=2,
                    help="re-run a measurement disturbed by other processes' CPU use "
                         "up to this many times (default 2)")
    ap.add_argument("--quiet-wait", type=float, default=120,
                    help="before each measurement, wait up to this many seconds for "
                         "other processes to leave the CPUs idle (default 120)")
    ap.add_argument("--tools", nargs="+", choices=list(TOOLS), default=list(TOOLS),
                    help="subset of tools (default: all)")
    ap.add_argument("--data", default=os.environ.get(
        "DATA", os.path.join(REPO, "..", "shared", "data", "sms_spam", "train.csv")),
        help="training CSV (label,text); env DATA")
    ap.add_argument("--docclass", default=os.environ.get(
        "DOCCLASS", os.path.join(REPO, "target", "release", "docclass")),
        help="docclass binary; env DOCCLASS")
    ap.add_argument("--docclass-model", help="use this trained docclass model folder "
                    "(e.g. models/spam-ham) instead of training one")
    ap.add_argument("--work", default=os.path.join(HERE, "work"), help="scratch folder")
    a = ap.parse_args()
    if a.lines < 2 or a.rounds < 1:
        ap.error("--lines must be >= 2 and --rounds >= 1")
    if not os.access(GNU_TIME, os.X_OK):
        log(f"warning: no {GNU_TIME} (apt-get install time); peak RSS falls back to "
            "os.wait4 and includes this driver's own RSS")

    a.data = os.path.abspath(a.data)
    a.work = os.path.abspath(a.work)
    a.models, a.out, a.logs = (os.path.join(a.work, d) for d in ("models", "out", "logs"))
    shutil.rmtree(os.path.join(a.work, "jobs"), ignore_errors=True)  # old job records
    for d in (a.work, a.models, a.out, a.logs, os.path.join(a.work, "bin")):
        os.makedirs(d, exist_ok=True)
    started = datetime.datetime.now().astimezone()

    # Snapshot the binary: the measured program stays fixed for the whole run.
    src = os.path.abspath(a.docclass)
    a.binary = os.path.join(a.work, "bin", "docclass")
    shutil.copy2(src, a.binary)
    binary_info = {"source": src, "sha256": sha256_file(a.binary),
                   "mtime": datetime.datetime.fromtimestamp(
                       os.path.getmtime(a.binary)).astimezone().isoformat(timespec="seconds")}
    log(f"docclass: {src} (built {binary_info['mtime']}, sha256 {binary_info['sha256'][:12]})")

    rows = read_train(a.data)
    classes = sorted({y for y, _ in rows})
    if len(classes) != 2:
        sys.exit(f"expected 2 labels in {a.data}, found {classes}")
    a.positive = "spam" if "spam" in classes else classes[1]
    a.negative = next(c for c in classes if c != a.positive)
    # Line i of the corpus is document i mod len(rows): its label is known.
    a.labels = [y for y, _ in rows]
    a.raw, a.vw_corpus = build_corpus(rows, a.lines, a.work, sha256_file(a.data))
    n_bytes = os.path.getsize(a.raw)
    log(f"corpus: {a.lines} lines, {n_bytes / 1e6:.1f} MB raw, "
        f"{os.path.getsize(a.vw_corpus) / 1e6:.1f} MB VW format")

    train_seconds = {}

    def timed(name, fn, *args):
        t0 = time.perf_counter()
        result = fn(*args)
        train_seconds[name] = round(time.perf_counter() - t0, 3)
        log(f"trained {name} in {train_seconds[name]:.2f}s -> {result}")
        return result

    tools = a.tools
    if a.docclass_model:
        a.docclass_model = os.path.abspath(a.docclass_model)
    elif any(t.startswith("docclass") for t in tools):
        a.docclass_model = timed("docclass", train_docclass, a.binary, a.data, a.models)
    if any(t.startswith("sklearn") for t in tools):
        a.sklearn_model = timed("sklearn", train_sklearn, rows, a.models)
    if any(t.startswith("fasttext") for t in tools):
        a.fasttext_model = timed("fasttext", train_fasttext, rows, a.models)
    if "vw" in tools:
        a.vw_model = timed("vw", train_vw, rows, a.models, a.positive)

    if "pigz" in tools:
        if not shutil.which("pigz"):
            sys.exit("--tools pigz: pigz is not installed (apt-get install pigz)")
        if not any(t.startswith("docclass") for t in tools):
            a.docclass_model = a.docclass_model or timed("docclass", train_docclass, a.binary,
                                                         a.data, a.models)
        a.predictions = docclass_predictions(a)
        log(f"pigz input: {a.predictions} ({os.path.getsize(a.predictions) / 1e6:.1f} MB)")

    bench = Bench(a)
    # Untimed warm-up read: every tool then reads the corpus from the page cache.
    for path in (a.raw, a.vw_corpus):
        subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)

    samples = {t: [] for t in tools}
    load = {"before": os.getloadavg()}
    for r in range(a.rounds):
        k = r % len(tools)
        for tool in tools[k:] + tools[:k]:  # rotate the order every round
            res = bench.run(tool, r)
            samples[tool].append(res)
            extra = f", train acc {res['train_accuracy']:.4f}" if "train_accuracy" in res else ""
            log(f"round {r + 1}/{a.rounds} {tool:<12} {res['seconds']:7.2f}s "
                f"rss {res['rss_mib']:6.0f} MiB cpu {res['cpu_seconds']:7.2f}s "
                f"(others {res['other_cpu_seconds']:5.2f}s){extra}")
    load["after"] = os.getloadavg()

    summary = summarize(samples, a.lines, n_bytes)
    ratio = ratios(samples)
    others = max(r["other_cpu_seconds"] for runs in samples.values() for r in runs)
    kept = [r for runs in samples.values() for r in runs]
    contended = sum(r["contended"] for r in kept)
    retried = sum(r["attempt"] - 1 for r in kept)
    info = {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join([os.path.relpath(os.path.join(HERE, "run"), os.getcwd())]
                            + sys.argv[1:]),
        "lines": a.lines, "bytes": n_bytes, "vw_bytes": os.path.getsize(a.vw_corpus),
        "rounds": a.rounds, "data": a.data,
        "host": {"cpu": cpu_model(), "cores": os.cpu_count(), "nice": os.nice(0),
                 "loadavg": load},
        "max_other_cpu_seconds": others, "retried": retried, "contended_kept": contended,
        "rss_source": "GNU time %M" if os.access(GNU_TIME, os.X_OK) else "os.wait4",
        "docclass_binary": binary_info, "docclass_model": getattr(a, "docclass_model", None),
        "git_head": git_head(),
        "versions": versions(a.binary), "train_seconds": train_seconds,
    }
    md = table(summary)
    if ratio:
        md += "\n\n" + "\n".join(f"{k}: median of per-round ratios {v['median']:.2f} "
                                   f"(rounds: {', '.join(f'{r:.2f}' for r in v['rounds'])})"
                                   for k, v in ratio.items())
    note = (f"{a.lines:,} lines ({n_bytes / 1e6:.1f} MB) of sms_spam texts, median of "
            f"{a.rounds} round(s); {info['started']}; {info['host']['cpu']}, "
            f"{info['host']['cores']} cores; docclass {info['git_head']} "
            f"(binary {binary_info['mtime']}).\n"
            "Times are whole processes (startup, model load, read, predict, write). "
            "MB/s = raw corpus bytes / time for every tool (VW reads its pre-tokenized "
            f"{info['vw_bytes'] / 1e6:.1f} MB file). 2 procs = two processes on the two "
            "halves of the file, RSS summed. train acc = accuracy on the first "
            f"{min(len(a.labels), a.lines)} lines (the training set itself), a sanity check only. "
            f"Other processes' CPU time during a kept measurement: at most {others:.2f} s; "
            f"{retried} disturbed measurement(s) re-run, {contended} of {len(kept)} kept "
            "measurements still disturbed.\n"
            f"Versions: {json.dumps(info['versions'])}")
    print(md)
    print()
    print(note)
    with open(os.path.join(a.work, "results.md"), "w") as f:
        f.write(f"# Batch prediction throughput\n\n{md}\n\n{note}\n")
    with open(os.path.join(a.work, "results.json"), "w") as f:
        json.dump({"info": info, "results": summary, "ratios": ratio,
                   "samples": {t: s for t, s in samples.items()}}, f, indent=2)
    log(f"wrote {os.path.join(a.work, 'results.md')} and results.json")


if __name__ == "__main__":
    main()
