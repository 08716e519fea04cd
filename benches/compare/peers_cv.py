#!/usr/bin/env python3
"""Duplicate-aware 5-fold cross-validation of docclass and its peers, on the same folds.

For each corpus, `docclass cross-validate --write-folds` runs first, with no tuning flags (what
a Comprehend user gets): it groups exact and near duplicates and threads, keeps each group
inside one fold, scores itself, and writes every document's fold. The peers are then scored on
exactly those folds:
  * scikit-learn: TfidfVectorizer(1-2 grams, sublinear tf) + LogisticRegression, C = 1, 10, 100;
  * fastText supervised (wordNgrams=2), epoch=25/lr=0.5 and the defaults epoch=5/lr=0.1.

Corpora and document order (docclass reads them in the same order):
  * sms_spam:     rows of sms_spam/train.csv in file order.
  * spamassassin: spamassassin/train/<label>/<file>, sorted by (label, file name).
  * 20news:       20news/train/<label>/<file>, sorted by (label, file name).
Files are decoded as UTF-8 with errors="replace" (docclass: --on-invalid-utf8 lossy).

Metrics: accuracy is the mean (and sample standard deviation) over the 5 folds. Spam
precision/recall/F1 (binary corpora) and macro-F1 (20news) are computed once over the pooled
out-of-fold predictions. Training time is wall time of fitting only (sklearn: vectorizer fit +
transform + model fit; fastText: train_supervised on a prepared file), averaged over folds;
docclass's is its whole cross-validate run (search included) divided by the folds.

Set-up and run (see requirements-peers.txt):
  python3 -m venv /work/peers-venv
  /work/peers-venv/bin/pip install -r benches/compare/requirements-peers.txt
  cargo build --release
  /work/peers-venv/bin/python benches/compare/peers_cv.py --data ../shared/data \
      --docclass target/release/docclass
"""

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support

from folders import load_folders

try:
    import fasttext
except ImportError:  # fastText is optional: sklearn rows still run
    fasttext = None

N_FOLDS = 5
POSITIVE = "spam"


# ---------------------------------------------------------------- loading

def load_sms(data_dir):
    """(labels, texts) from sms_spam/train.csv, in file row order."""
    labels, texts = [], []
    path = os.path.join(data_dir, "sms_spam", "train.csv")
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.reader(f):
            if not row:
                continue
            label, text = row
            labels.append(label)
            texts.append(text)
    return labels, texts


CORPORA = {
    "sms_spam": load_sms,
    "spamassassin": lambda d: load_folders(os.path.join(d, "spamassassin", "train")),
    "20news": lambda d: load_folders(os.path.join(d, "20news", "train")),
}

# How docclass reads each corpus: no tuning flags, only what the data's format needs.
DOCCLASS_ARGS = {
    "sms_spam": lambda d: ["--train", os.path.join(d, "sms_spam", "train.csv")],
    "spamassassin": lambda d: ["--train", os.path.join(d, "spamassassin", "train"),
                               "--format", "LABEL_FOLDERS", "--on-invalid-utf8", "lossy"],
    "20news": lambda d: ["--train", os.path.join(d, "20news", "train"),
                         "--format", "LABEL_FOLDERS", "--on-invalid-utf8", "lossy"],
}


def docclass_cv(binary, corpus, data, workdir, extra):
    """Runs docclass's cross-validation; returns (folds, summary row, duplicate counts)."""
    folds_path = os.path.join(workdir, f"{corpus}.folds")
    cmd = [binary, "cross-validate", *DOCCLASS_ARGS[corpus](data), "--folds", str(N_FOLDS),
           "--write-folds", folds_path, "--quiet", *extra]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    seconds = time.perf_counter() - t0
    cv = json.loads(out)
    with open(folds_path) as f:
        folds = [int(line) for line in f]
    accs = [m["Accuracy"] for m in cv["PerFold"]]
    row = {
        "acc_mean": statistics.mean(accs),
        "acc_sd": statistics.stdev(accs),
        "acc_folds": accs,
        "train_s_mean": seconds / N_FOLDS,
        "train_s_folds": [],
        "predict_s_mean": 0.0,
    }
    labels = {s["Name"]: s for s in cv["PerLabel"]}
    if POSITIVE in labels:
        s = labels[POSITIVE]
        row.update(spam_p=s["Precision"], spam_r=s["Recall"], spam_f1=s["F1Score"])
    else:
        row["macro_f1"] = cv["Pooled"]["F1Score"]
    return folds, row, cv["Duplicates"]


# ---------------------------------------------------------------- peers
# Each peer is fit(train_texts, train_labels) -> (predict, train_seconds),
# where predict(texts) -> labels.

def sklearn_peer(C, multiclass):
    def fit(texts, labels):
        t0 = time.perf_counter()
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
        x = vec.fit_transform(texts)
        # liblinear for the binary corpora; lbfgs (multinomial) for 20 classes.
        solver = "lbfgs" if multiclass else "liblinear"
        clf = LogisticRegression(C=C, max_iter=1000, solver=solver, random_state=0)
        clf.fit(x, labels)
        seconds = time.perf_counter() - t0
        return (lambda docs: list(clf.predict(vec.transform(docs)))), seconds
    return fit


def ft_clean(text):
    """fastText input: lower-cased, one line."""
    return text.lower().replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def fasttext_peer(epoch, lr, workdir):
    def fit(texts, labels):
        # The training file is prepared before the clock starts (see timing).
        # fastText streams the file in order and does not shuffle it; our
        # documents are sorted by label, so the lines are shuffled (fixed seed,
        # the data set's split seed) or SGD mostly learns the last labels.
        lines = [f"__label__{y} {ft_clean(t)}\n" for y, t in zip(labels, texts)]
        random.Random(20261129).shuffle(lines)
        path = os.path.join(workdir, "train.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(lines)
        t0 = time.perf_counter()
        # thread=1 with a fixed seed makes fastText deterministic.
        model = fasttext.train_supervised(
            input=path, wordNgrams=2, epoch=epoch, lr=lr,
            thread=1, seed=0, verbose=0)
        seconds = time.perf_counter() - t0

        def predict(docs):
            # List input goes through multilinePredict (numpy-2 safe in 0.9.2).
            out, _ = model.predict([ft_clean(d) for d in docs], k=1)
            return [lab[0][len("__label__"):] if lab else "" for lab in out]
        return predict, seconds
    return fit


def make_peers(multiclass, workdir, names):
    peers = [
        ("sklearn tfidf+LR C=100", "sk100", sklearn_peer(100.0, multiclass)),
        ("sklearn tfidf+LR C=10", "sk10", sklearn_peer(10.0, multiclass)),
        ("sklearn tfidf+LR C=1", "sk1", sklearn_peer(1.0, multiclass)),
    ]
    if fasttext is not None:
        peers += [
            ("fastText ep25 lr0.5", "ft25", fasttext_peer(25, 0.5, workdir)),
            ("fastText ep5 lr0.1", "ft5", fasttext_peer(5, 0.1, workdir)),
        ]
    return [p for p in peers if names is None or p[1] in names]


# ---------------------------------------------------------------- CV

def cross_validate(fit, labels, texts, folds):
    n = len(texts)
    pred = [None] * n
    accs, train_s, pred_s = [], [], []
    for k in range(N_FOLDS):
        test_idx = [i for i in range(n) if folds[i] == k]
        train_idx = [i for i in range(n) if folds[i] != k]
        tr_x = [texts[i] for i in train_idx]
        tr_y = [labels[i] for i in train_idx]
        predict, seconds = fit(tr_x, tr_y)
        train_s.append(seconds)
        t0 = time.perf_counter()
        out = predict([texts[i] for i in test_idx])
        pred_s.append(time.perf_counter() - t0)
        correct = 0
        for i, p in zip(test_idx, out):
            pred[i] = p
            correct += p == labels[i]
        accs.append(correct / len(test_idx))
    return pred, accs, train_s, pred_s


def summarize(labels, pred, accs, train_s, pred_s, binary):
    row = {
        "acc_mean": statistics.mean(accs),
        "acc_sd": statistics.stdev(accs),
        "acc_folds": accs,
        "train_s_mean": statistics.mean(train_s),
        "train_s_folds": train_s,
        "predict_s_mean": statistics.mean(pred_s),
    }
    if binary:
        p, r, f, _ = precision_recall_fscore_support(
            labels, pred, labels=[POSITIVE], average=None, zero_division=0)
        row.update(spam_p=float(p[0]), spam_r=float(r[0]), spam_f1=float(f[0]))
    else:
        row["macro_f1"] = float(f1_score(labels, pred, average="macro"))
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("DOCCLASS_DATA", "/work/shared/data"),
                    help="folder holding sms_spam/, spamassassin/, 20news/")
    ap.add_argument("--corpora", nargs="+", default=list(CORPORA), choices=list(CORPORA))
    ap.add_argument("--peers", nargs="+", choices=["sk100", "sk10", "sk1", "ft25", "ft5"],
                    help="subset of peers (default: all available)")
    ap.add_argument("--docclass", default="target/release/docclass",
                    help="the docclass binary (its cross-validation writes the folds)")
    ap.add_argument("--docclass-args", default="",
                    help="extra docclass flags, e.g. to score a fixed setting instead of the search")
    ap.add_argument("--json", help="also write all results to this JSON file")
    args = ap.parse_args()

    if fasttext is None:
        print("note: fasttext not importable; running sklearn peers only", file=sys.stderr)

    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for corpus in args.corpora:
            labels, texts = CORPORA[corpus](args.data)
            classes = sorted(set(labels))
            binary = len(classes) == 2
            print(f"# {corpus}: {len(texts)} docs, {len(classes)} labels", file=sys.stderr)
            folds, row, dups = docclass_cv(args.docclass, corpus, args.data, workdir,
                                           args.docclass_args.split())
            if len(folds) != len(texts):
                sys.exit(f"{corpus}: docclass read {len(folds)} documents, this script {len(texts)}")
            row.update(corpus=corpus, peer="docclass (no flags)", n_docs=len(texts), duplicates=dups)
            results.append(row)
            print(f"#   docclass: acc {row['acc_mean']:.4f}; duplicates {dups}", file=sys.stderr)
            for name, _, fit in make_peers(not binary, workdir, args.peers):
                pred, accs, train_s, pred_s = cross_validate(fit, labels, texts, folds)
                row = summarize(labels, pred, accs, train_s, pred_s, binary)
                row.update(corpus=corpus, peer=name, n_docs=len(texts))
                results.append(row)
                print(f"#   {name}: acc {row['acc_mean']:.4f}, "
                      f"train {row['train_s_mean']:.1f}s/fold", file=sys.stderr)

    # Compact table: P/R/F1 are pooled over folds; acc is the mean over folds.
    hdr = (f"{'corpus':<13} {'peer':<22} {'acc(mean±sd)':>15} {'spamP':>7} "
           f"{'spamR':>7} {'spamF1':>7} {'macroF1':>7} {'train s/fold':>12} {'pred s/fold':>11}")
    print(hdr)
    print("-" * len(hdr))
    dash = "-"
    for r in results:
        acc = f"{r['acc_mean']:.4f}±{r['acc_sd']:.4f}"
        cols = [f"{r[k]:.4f}" if k in r else dash for k in ("spam_p", "spam_r", "spam_f1", "macro_f1")]
        print(f"{r['corpus']:<13} {r['peer']:<22} {acc:>15} {cols[0]:>7} {cols[1]:>7} "
              f"{cols[2]:>7} {cols[3]:>7} {r['train_s_mean']:>12.2f} {r['predict_s_mean']:>11.2f}")

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
