#!/usr/bin/env python3
"""Training cost of docclass and its peers: wall time, peak RSS and held-out accuracy.

Tools, each trained in its own process under GNU time (`/usr/bin/time -f "%e %M"`: elapsed
wall seconds and peak RSS in KiB of the whole process: start-up, reading the data, fitting and,
where there is a test set, predicting it):
  * docclass:      `docclass train --name cmp --train TRAIN [--test TEST] --model-registry TMP
                   --overwrite -q`, no tuning flags (the settings search runs, as for a
                   Comprehend user; all cores). Its accuracy is
                   DocumentClassifierProperties.ClassifierMetadata.EvaluationMetrics.Accuracy
                   from the JSON it prints.
  * sklearn-hash:  HashingVectorizer(n_features=2**20, word 1-2 grams, alternate_sign=False,
                   norm=None) + TfidfTransformer(sublinear_tf=True) + LogisticRegression.
                   norm=None: TfidfTransformer must see raw counts (1 + ln tf of an already
                   L2-normalised value would be negative); it normalises afterwards.
  * sklearn-tfidf: TfidfVectorizer(word 1-2 grams, sublinear_tf=True) + LogisticRegression.
  * fasttext:      fasttext.train_supervised(wordNgrams=2, epoch=5, lr=0.1, i.e. the fastText
                   defaults, peers_cv.py's "ft5"; peers_cv.py's best SMS setting was epoch 25,
                   lr 0.5), threads = all cores, on a prepared `__label__y text` file (lower-cased,
                   one line, lines shuffled with random.Random(20261129) as in peers_cv.py;
                   writing it is inside the measured process, outside "fit s").
LogisticRegression is set as in peers_cv.py: C=100 (of the C = 1, 10, 100 that peers_cv.py
scores, C=100 did best on sms_spam: 0.9823, README "What the search chose, and measured
quality"), max_iter=1000, random_state=0, solver liblinear for two labels and lbfgs
(multinomial) for more. liblinear is single-threaded.
Peers run as `train_compare.py peer --tool T --train A [--test B]`, which prints one JSON line:
{"accuracy", "fit_seconds" (vectorising + fitting only), "docs" (training documents), ...}.

sizes: N SMS-length documents for each --sizes N (default 100000 1000000 5000000), written by
make_train.py (seed 20261205; reused when WORK already holds that file). Row i of that file is
base message i mod B of sms_spam/train.csv (B rows, read from the file) plus two random words and
a reference number, so a random split would put copies of one message on both sides. Rows are
therefore grouped by base message, base messages whose normalised text is identical (lower-case,
only [a-z0-9 ] kept, spaces collapsed) merged into one group, and 10% of the groups (shuffled
with random.Random(20261205)) held out: WORK/sms_N.train.csv and WORK/sms_N.test.csv, written
with the csv module (RFC 4180 quoting, LF) like the input. Near duplicates that differ in more
than case and punctuation are not merged. Every tool trains on the train file and is scored on
the test file ("held-out accuracy").

corpora: sms_spam (train.csv), spamassassin and 20news (LABEL_FOLDERS; docclass with
`--format LABEL_FOLDERS --on-invalid-utf8 lossy`, peers decode files as UTF-8 with
errors="replace" in (label, file name) order, as peers_cv.py loads them): each tool trains on
the whole corpus. Accuracy is not re-measured here: grouped 5-fold CV of the same settings is
peers_cv.py's job. docclass's own figure (accuracy on the 10% it holds out when given no --test)
is reported as printed. docclass therefore fits 90% of each corpus here, the peers all of it.

Tools run once per size or corpus, in an order rotated by one for each size/corpus, so no tool
is always first or last. The docclass binary is copied to WORK/bin first, so a rebuild during
the run does not change the program measured. A tool that fails or is killed (out of memory:
exit 137, signal 9) is reported as such in the table and the run goes on. Each size's or
corpus's table is printed as markdown when its tools are done; every measurement is appended to
WORK/train_compare.jsonl with the date, `nproc`, the load average and the exact command line.

Run, with the peers' virtualenv (requirements-peers.txt; `benches/compare/run` makes
benches/compare/.venv, or: python3 -m venv /work/peers-venv &&
/work/peers-venv/bin/pip install -r benches/compare/requirements-peers.txt):
  benches/compare/.venv/bin/python benches/compare/train_compare.py sizes --sizes 100000
  benches/compare/.venv/bin/python benches/compare/train_compare.py sizes \
      --sizes 100000 1000000 5000000 --work /tmp/train_compare
  benches/compare/.venv/bin/python benches/compare/train_compare.py corpora --data ../shared/data
Heavy at 1M and 5M rows (the generated 5M file is ~0.5 GB; scikit-learn's TF-IDF vocabulary of
unique reference numbers and bigrams may not fit in memory): run it alone, e.g. under nice.

Caveats: one run per tool and size, not a median; on a shared machine other processes' CPU use
inflates wall times (the load average before each run is in the JSON lines). Wall time covers
different work per tool: docclass searches settings (bounded by its --search-seconds, default
40) and then trains; the peers fit one fixed setting. Peak RSS is the process's own maximum
resident set, which for the peers includes the Python interpreter and the loaded data;
fastText's includes its 2,000,000-bucket x 100-dim n-gram matrix (~800 MB) at any size. With
more than one thread fastText is not deterministic. sklearn-hash keeps n-grams never seen in
training (here: every test row's reference number) in a test vector's L2 norm, where
TfidfVectorizer drops them, which shrinks the known features and costs held-out accuracy on this
data (10,000 rows: 0.967; 0.986 with unseen columns zeroed; TfidfVectorizer 0.988).
"""

import argparse
import csv
import datetime
import json
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

from folders import load_folders

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GNU_TIME = "/usr/bin/time"
MAKE_TRAIN = os.path.join(HERE, "make_train.py")

MAKE_SEED = 20261205   # make_train.py's default: same N and seed give the same bytes
SPLIT_SEED = 20261205  # which groups are held out
SHUFFLE_SEED = 20261129  # fastText training lines, as in peers_cv.py
HOLD_OUT = 0.10
C = 100.0

TOOLS = ["docclass", "sklearn-hash", "sklearn-tfidf", "fasttext"]
PEERS = TOOLS[1:]
FOLDERS = "LABEL_FOLDERS"
CSV = "COMPREHEND_CSV"

# corpus -> (path under --data, format)
CORPORA = {
    "sms_spam": ("sms_spam/train.csv", CSV),
    "spamassassin": ("spamassassin/train", FOLDERS),
    "20news": ("20news/train", FOLDERS),
}
CV_NOTE = "grouped 5-fold CV: see peers_cv.py"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ loading

def load_csv(path):
    """(labels, texts) from label,text rows, in file order."""
    labels, texts = [], []
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.reader(f):
            if row:
                labels.append(row[0])
                texts.append(row[1])
    return labels, texts


def load(path, fmt):
    return load_folders(path) if fmt == FOLDERS else load_csv(path)


# ------------------------------------------------------------------ peer sub-command

def fit_sklearn(tool, texts, labels, multiclass):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    if tool == "sklearn-hash":
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
        vec = make_pipeline(
            HashingVectorizer(n_features=2**20, ngram_range=(1, 2), alternate_sign=False,
                              norm=None),
            TfidfTransformer(sublinear_tf=True))
    else:
        from sklearn.feature_extraction.text import TfidfVectorizer
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    clf = LogisticRegression(C=C, max_iter=1000, random_state=0,
                             solver="lbfgs" if multiclass else "liblinear")
    clf.fit(vec.fit_transform(texts), labels)
    return lambda docs: list(clf.predict(vec.transform(docs)))


def ft_clean(text):
    """fastText input: lower-cased, one line."""
    return text.lower().replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def prepare_fasttext(texts, labels, scratch):
    # fastText reads the file in order; folder corpora are sorted by label.
    lines = [f"__label__{y} {ft_clean(t)}\n" for y, t in zip(labels, texts)]
    random.Random(SHUFFLE_SEED).shuffle(lines)
    path = os.path.join(scratch, "fasttext.train.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines)
    return path


def fit_fasttext(path):
    import fasttext

    model = fasttext.train_supervised(input=path, wordNgrams=2, epoch=5, lr=0.1,
                                      thread=os.cpu_count() or 1, seed=0, verbose=0)

    def predict(docs):
        # The list form of predict: fasttext-wheel 0.9.2's single-string form fails on numpy 2.
        out, _ = model.predict([ft_clean(d) for d in docs], k=1)
        return [lab[0][len("__label__"):] if lab else "" for lab in out]
    return predict


def peer_main(a):
    labels, texts = load(a.train, a.format)
    multiclass = len(set(labels)) > 2
    if a.tool == "fasttext":
        with tempfile.TemporaryDirectory(dir=a.scratch) as scratch:
            path = prepare_fasttext(texts, labels, scratch)
            t0 = time.perf_counter()
            predict = fit_fasttext(path)
            fit_seconds = time.perf_counter() - t0
    else:
        t0 = time.perf_counter()
        predict = fit_sklearn(a.tool, texts, labels, multiclass)
        fit_seconds = time.perf_counter() - t0
    result = {"accuracy": None, "fit_seconds": round(fit_seconds, 3), "docs": len(texts),
              "labels": len(set(labels))}
    if a.test:
        test_labels, test_texts = load(a.test, a.format)
        t0 = time.perf_counter()
        pred = predict(test_texts)
        result["predict_seconds"] = round(time.perf_counter() - t0, 3)
        result["test_docs"] = len(test_texts)
        result["accuracy"] = sum(p == y for p, y in zip(pred, test_labels)) / len(test_labels)
    print(json.dumps(result))


# ------------------------------------------------------------------ data for `sizes`

def normalise(text):
    text = re.sub(r"\s+", " ", text.lower())
    return re.sub(r" +", " ", re.sub(r"[^a-z0-9 ]", "", text)).strip()


def base_groups(base_csv):
    """Group id of each base row: the first row with the same normalised text."""
    _, texts = load_csv(base_csv)
    first = {}
    return [first.setdefault(normalise(t), i) for i, t in enumerate(texts)]


def generate(n, work, base_csv):
    path = os.path.join(work, f"sms_{n}_seed{MAKE_SEED}.csv")
    if os.path.exists(path):
        log(f"data: reusing {path}")
        return path
    log(f"data: writing {n:,} rows to {path}")
    tmp = path + ".tmp"
    subprocess.run([sys.executable, MAKE_TRAIN, str(n), tmp, "--data", base_csv,
                    "--seed", str(MAKE_SEED)], check=True)
    os.replace(tmp, path)
    return path


def split(n, source, work, groups):
    """Grouped hold-out of source: (train path, test path, split facts)."""
    stem = os.path.join(work, f"sms_{n}_seed{MAKE_SEED}_split{SPLIT_SEED}")
    train, test, meta = stem + ".train.csv", stem + ".test.csv", stem + ".json"
    if all(os.path.exists(p) for p in (train, test, meta)):
        log(f"data: reusing {train} and {test}")
        with open(meta) as f:
            return train, test, json.load(f)
    present = sorted({groups[i % len(groups)] for i in range(min(n, len(groups)))})
    random.Random(SPLIT_SEED).shuffle(present)
    held = set(present[:max(1, round(HOLD_OUT * len(present)))])
    counts = [0, 0]
    with open(source, encoding="utf-8", newline="") as src, \
            open(train + ".tmp", "w", encoding="utf-8", newline="") as ftr, \
            open(test + ".tmp", "w", encoding="utf-8", newline="") as fte:
        writers = [csv.writer(ftr, lineterminator="\n"), csv.writer(fte, lineterminator="\n")]
        for i, row in enumerate(csv.reader(src)):
            side = groups[i % len(groups)] in held
            writers[side].writerow(row)
            counts[side] += 1
    if sum(counts) != n:
        sys.exit(f"{source}: expected {n} rows, read {sum(counts)}")
    facts = {"train_rows": counts[0], "test_rows": counts[1], "groups": len(present),
             "held_out_groups": len(held), "base_rows": len(groups)}
    os.replace(train + ".tmp", train)
    os.replace(test + ".tmp", test)
    with open(meta, "w") as f:
        json.dump(facts, f)
    log(f"data: {counts[0]:,} train / {counts[1]:,} test rows "
        f"({len(held)} of {len(present)} groups held out)")
    return train, test, facts


# ------------------------------------------------------------------ measuring

class Runner:
    def __init__(self, a, mode):
        self.a, self.mode = a, mode
        self.work = a.work
        self.logs = os.path.join(a.work, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.jsonl = os.path.join(a.work, "train_compare.jsonl")
        self.nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
        self.driver = shlex.join([sys.executable] + sys.argv)
        # The measured program stays fixed even if the repo's binary is rebuilt meanwhile.
        self.binary = os.path.join(a.work, "bin", "docclass")
        if "docclass" in a.tools:
            os.makedirs(os.path.dirname(self.binary), exist_ok=True)
            shutil.copy2(a.docclass, self.binary)

    def command(self, tool, train, test, fmt, registry):
        if tool == "docclass":
            cmd = [self.binary, "train", "--name", "cmp", "--train", train]
            if test:
                cmd += ["--test", test]
            if fmt == FOLDERS:
                cmd += ["--format", FOLDERS, "--on-invalid-utf8", "lossy"]
            return cmd + ["--model-registry", registry, "--overwrite", "-q"]
        cmd = [sys.executable, os.path.abspath(__file__), "peer", "--tool", tool,
               "--train", train, "--format", fmt, "--scratch", self.work]
        return cmd + (["--test", test] if test else [])

    def run(self, tool, subject, train, test, fmt, extra):
        """One timed run of tool; appends its record to the JSON lines and returns it."""
        tag = f"{subject}.{tool}"
        out, err, stats = (os.path.join(self.logs, f"{tag}.{s}") for s in ("out", "err", "time"))
        registry = tempfile.mkdtemp(prefix="models.", dir=self.work)
        cmd = [GNU_TIME, "-f", "%e %M", "-o", stats] + self.command(tool, train, test, fmt,
                                                                    registry)
        rec = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "nproc": self.nproc, "loadavg_before": os.getloadavg(), "mode": self.mode,
               **extra, "tool": tool, "command": shlex.join(cmd), "driver": self.driver}
        log(f"{subject}: {tool} ...")
        try:
            with open(out, "w") as fo, open(err, "w") as fe:
                code = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=fo,
                                      stderr=fe).returncode
        finally:
            shutil.rmtree(registry, ignore_errors=True)
        with open(stats) as f:
            time_lines = [line for line in f.read().splitlines() if line.strip()]
        wall, rss = time_lines[-1].split() if time_lines else (None, None)
        rec.update(exit_code=code, wall_s=wall and float(wall), peak_rss_kb=rss and int(rss))
        rec.update(parse_result(tool, code, time_lines, out, err))
        with open(self.jsonl, "a") as f:
            f.write(json.dumps(rec) + "\n")
        acc = rec.get("accuracy")
        log(f"{subject}: {tool}: {rec['status']}, {rec['wall_s']} s, "
            f"{(rec['peak_rss_kb'] or 0) / 1024:.0f} MiB"
            + ("" if acc is None else f", accuracy {acc:.4f}"))
        return rec


def parse_result(tool, code, time_lines, out, err):
    """status, accuracy and facts from a finished run's outputs."""
    if code != 0:
        signalled = next((l for l in time_lines if "terminated by signal" in l), None)
        if signalled or code > 128:
            sig = int(signalled.split()[-1]) if signalled else code - 128
            status = f"killed by signal {sig}" + (" (out of memory?)" if sig == 9 else "")
        else:
            status = f"failed: exit {code}"
        with open(err, errors="replace") as f:
            tail = [l for l in f.read().splitlines() if l.strip()][-20:]
        if tail:
            status += f": {tail[-1][:160]}"
        return {"status": status, "accuracy": None, "stderr_tail": tail}
    with open(out) as f:
        text = f.read()
    try:
        if tool == "docclass":
            meta = json.loads(text)["DocumentClassifierProperties"]["ClassifierMetadata"]
            return {"status": "ok", "accuracy": meta["EvaluationMetrics"]["Accuracy"],
                    "train_docs": meta["NumberOfTrainedDocuments"],
                    "test_docs": meta["NumberOfTestDocuments"]}
        peer = json.loads(text.strip().splitlines()[-1])
        return {"status": "ok", "accuracy": peer["accuracy"], "fit_seconds": peer["fit_seconds"],
                "train_docs": peer["docs"], "test_docs": peer.get("test_docs")}
    except (ValueError, KeyError, IndexError) as e:
        return {"status": f"exit 0 but unreadable output ({e!r})", "accuracy": None}


def notes(rec):
    if rec["status"] != "ok":
        return rec["status"].replace("|", "/")
    tool = rec["tool"]
    parts = []
    if tool == "docclass":
        parts.append(f"settings search, {rec['nproc']} threads")
    elif tool == "fasttext":
        parts.append(f"epoch 5, lr 0.1, {rec['nproc']} threads; fit {rec['fit_seconds']:.1f} s")
    else:
        parts.append(f"C={C:g}, 1 thread; fit {rec['fit_seconds']:.1f} s")
    if rec.get("train_docs") is not None:
        docs = f"{rec['train_docs']:,} train"
        if rec.get("test_docs"):
            docs += f" / {rec['test_docs']:,} test"
        parts.append(docs + " docs")
    return "; ".join(parts)


def table(records, accuracy_cell, accuracy_header):
    lines = [f"| tool | wall s | peak RSS MiB | {accuracy_header} | notes |",
             "|---|---:|---:|---|---|"]
    for r in sorted(records, key=lambda r: TOOLS.index(r["tool"])):
        wall = "-" if r["wall_s"] is None else f"{r['wall_s']:.1f}"
        rss = "-" if r["peak_rss_kb"] is None else f"{r['peak_rss_kb'] / 1024:.0f}"
        lines.append(f"| {r['tool']} | {wall} | {rss} | {accuracy_cell(r)} | {notes(r)} |")
    return "\n".join(lines)


def rotated(tools, k):
    k %= len(tools)
    return tools[k:] + tools[:k]


# ------------------------------------------------------------------ modes

def sizes_main(a):
    runner = Runner(a, "sizes")
    groups = base_groups(a.base)
    log(f"base: {len(groups)} rows of {a.base}, {len(set(groups))} after merging "
        "identical normalised texts")
    for k, n in enumerate(a.sizes):
        source = generate(n, a.work, a.base)
        train, test, facts = split(n, source, a.work, groups)
        records = [runner.run(tool, f"sms_{n}", train, test, CSV,
                              {"size": n, "order": i, **facts})
                   for i, tool in enumerate(rotated(a.tools, k))]
        acc = lambda r: "-" if r["accuracy"] is None else f"{r['accuracy']:.4f}"  # noqa: E731
        print(f"\n### {n:,} SMS-length documents: {facts['train_rows']:,} train / "
              f"{facts['test_rows']:,} held-out rows ({facts['held_out_groups']} of "
              f"{facts['groups']} message groups)\n")
        print(table(records, acc, "held-out accuracy"))
        print(f"\n{records[0]['date']}, nproc {runner.nproc}, one run per tool, "
              f"order {', '.join(r['tool'] for r in records)}", flush=True)


def warm(path):
    """Untimed read, so the first tool does not pay for a cold page cache alone."""
    for root, _, files in os.walk(path) if os.path.isdir(path) else [("", [], [path])]:
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                while f.read(1 << 20):
                    pass


def corpora_main(a):
    runner = Runner(a, "corpora")
    for k, corpus in enumerate(a.corpora):
        rel, fmt = CORPORA[corpus]
        path = os.path.join(a.data, rel)
        warm(path)
        records = [runner.run(tool, corpus, path, None, fmt, {"corpus": corpus, "order": i})
                   for i, tool in enumerate(rotated(a.tools, k))]

        def acc(r):
            if r["tool"] == "docclass" and r["accuracy"] is not None:
                return f"{r['accuracy']:.4f} on its own 10% hold-out; {CV_NOTE}"
            return CV_NOTE
        print(f"\n### {corpus}: whole-corpus training ({path})\n")
        print(table(records, acc, "accuracy"))
        print(f"\n{records[0]['date']}, nproc {runner.nproc}, one run per tool, "
              f"order {', '.join(r['tool'] for r in records)}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="mode", required=True)

    def common(p):
        p.add_argument("--work", default=os.path.join(HERE, "work"),
                       help="scratch folder: data, logs, train_compare.jsonl")
        p.add_argument("--docclass", default=os.path.join(REPO, "target", "release", "docclass"))
        p.add_argument("--tools", nargs="+", choices=TOOLS, default=TOOLS)

    p = sub.add_parser("sizes", help="generated SMS-length data, grouped 10%% hold-out")
    common(p)
    p.add_argument("--sizes", nargs="+", type=int, default=[100_000, 1_000_000, 5_000_000])
    p.add_argument("--base", default=os.path.join(REPO, "..", "shared", "data", "sms_spam",
                                                  "train.csv"),
                   help="the set make_train.py cycles")
    p = sub.add_parser("corpora", help="whole-corpus training on the shared corpora")
    common(p)
    p.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    p.add_argument("--corpora", nargs="+", choices=list(CORPORA), default=list(CORPORA))
    p = sub.add_parser("peer", help="fit one peer (and score it on --test): one JSON line")
    p.add_argument("--tool", choices=PEERS, required=True)
    p.add_argument("--train", required=True)
    p.add_argument("--test")
    p.add_argument("--format", choices=[CSV, FOLDERS], default=CSV)
    p.add_argument("--scratch", default=tempfile.gettempdir(),
                   help="folder for fastText's prepared training file")
    a = ap.parse_args()

    if a.mode == "peer":
        return peer_main(a)
    if not os.access(GNU_TIME, os.X_OK):
        sys.exit(f"{GNU_TIME} is needed for wall time and peak RSS (apt-get install time)")
    a.work = os.path.abspath(a.work)
    os.makedirs(a.work, exist_ok=True)
    if "docclass" in a.tools and not os.access(a.docclass, os.X_OK):
        sys.exit(f"no docclass binary at {a.docclass} (cargo build --release, or --docclass)")
    if a.mode == "sizes":
        if min(a.sizes) < 1:
            ap.error("--sizes must be positive")
        a.base = os.path.abspath(a.base)
        sizes_main(a)
    else:
        a.data = os.path.abspath(a.data)
        corpora_main(a)


if __name__ == "__main__":
    main()
