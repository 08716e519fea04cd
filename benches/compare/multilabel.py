#!/usr/bin/env python3
"""MULTI_LABEL scores at the thresholds people use: docclass vs scikit-learn one-vs-rest, same folds.

What it measures: whether a MULTI_LABEL model's scores mean something at a fixed threshold,
0.5 (the usual default decision) and 0.3 (the threshold in AWS's Comprehend example), not only
whether its best-scoring label is right.

Data set: 20news/train/<newsgroup>/<file>, sorted by (newsgroup, file name) and decoded as UTF-8
with errors="replace", exactly as peers_cv.py loads 20news. Every post gets two labels: its
top-level group (the part before the first '.': alt, comp, misc, rec, sci, soc, talk) and its
full group (e.g. comp.graphics), 7 + 20 = 27 labels. The set is written as Comprehend's
MULTI_LABEL CSV (`top|full,text`, Python's csv.writer, minimal quoting) to
<work>/20news_multilabel.csv.

How:
  1. `docclass cross-validate --train <csv> --mode MULTI_LABEL --write-folds <work>/folds.txt
     --write-scores <work>/scores.jsonl -q`, with no tuning flags, so the automatic settings
     search runs inside every fold (what a Comprehend user gets). Duplicates and threads are
     grouped and each group stays in one fold. --write-scores gives every document's
     out-of-fold probability of every label. Wall time of the whole run is recorded, and its
     JSON summary is kept; its pooled micro-F1 and Hamming loss (every label at 0.5 or more)
     must match this script's figures at 0.5 from the scores, or a warning is printed.
  2. scikit-learn on exactly those folds: TfidfVectorizer(1-2 grams, sublinear tf, min_df=2)
     fitted on the training folds, then OneVsRestClassifier(LogisticRegression(liblinear))
     for C in (1, 10, 100) and class_weight in (balanced, None); out-of-fold predict_proba.
     The vectorizer is fitted once per fold and shared by the six settings.
  3. For each system/setting and threshold t in (0.5, 0.3), the predicted label set of a
     document is {labels with score >= t}. Against the true two labels: micro-F1, macro-F1
     (over all 27 labels) and Hamming loss (wrong label cells / (documents x 27)). Plus the
     issue's per-line figures, per 100 documents:
       full best   the highest-scoring of the 20 full-group labels is the right full group
                   (does not depend on t);
       full >= t   the right full group scores >= t;
       top >= t    the right top-level group scores >= t;
       no label    no label scores >= t (the document gets an empty answer).
     One markdown table per threshold; scikit-learn's best setting by micro-F1 at that
     threshold is marked. Everything (with the date and the command lines) goes to
     <work>/multilabel.json.

Run (see requirements-peers.txt for the virtualenv; the build must have --write-scores):
  cargo build --release
  nice -n 10 /work/peers-venv/bin/python benches/compare/multilabel.py
  # options: --data ../shared/data --docclass target/release/docclass
  #          --work /tmp/docclass-multilabel
  #          --skip-docclass   reuse <work>/folds.txt and <work>/scores.jsonl
  #          --limit N         only the first N posts of each newsgroup (smoke tests)
Relative --data and --docclass paths are resolved against the repository, not the current
directory.

Caveats:
  * The two labels are nested (the full group implies the top-level group), so top-level
    labels are easy and lift micro-F1; the "full >= t" and "full best" columns are the hard
    part. Macro-F1 weights the 7 top-level and 20 full-group labels alike.
  * docclass's settings search is bounded by wall-clock seconds (--search-seconds, 40 by
    default), so on a busy machine it may try fewer candidates and its scores can differ
    from a run on an idle one. Its wall time includes the search in all five folds.
  * scikit-learn runs single-threaded; liblinear is seeded (random_state=0), so its numbers
    are reproducible (its fit times in the JSON are not, on a busy machine). On the full set
    one binary fit takes about 1.5-4.5 s (C=1 to 100), so the six settings x five folds x 27
    labels take roughly 30-60 minutes of one core (estimated from single fits, not timed
    end to end). Labels missing from a training fold (only possible with a tiny --limit)
    get a constant model, with a warning from scikit-learn.
  * With --skip-docclass the folds and scores on disk must come from the same data
    (same --data and --limit); the script checks only the document and label counts.
"""

import argparse
import csv
import datetime
import json
import os
import shlex
import subprocess
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, hamming_loss
from sklearn.multiclass import OneVsRestClassifier

from folders import load_folders

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
THRESHOLDS = (0.5, 0.3)
SK_C = (1.0, 10.0, 100.0)
SK_CLASS_WEIGHT = ("balanced", None)


# ---------------------------------------------------------------- data

def top_level(group):
    """'comp.sys.mac.hardware' -> 'comp'."""
    return group.split(".", 1)[0]


def write_multilabel_csv(path, groups, texts):
    """Comprehend MULTI_LABEL CSV: `top|full,text`, one row per document."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        for g, t in zip(groups, texts):
            w.writerow([f"{top_level(g)}|{g}", t])


# ---------------------------------------------------------------- docclass

def docclass_cmd(binary, csv_path, folds_path, scores_path):
    return [binary, "cross-validate", "--train", csv_path, "--mode", "MULTI_LABEL",
            "--write-folds", folds_path, "--write-scores", scores_path, "-q"]


def run_docclass(cmd):
    """Runs docclass's cross-validation; returns (its JSON summary, wall seconds)."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        sys.exit(f"docclass failed (exit {proc.returncode}): {shlex.join(cmd)}")
    try:
        summary = json.loads(proc.stdout)
    except json.JSONDecodeError:
        summary = None
    return summary, seconds


def read_folds(path, n):
    with open(path) as f:
        folds = [int(line) for line in f if line.strip()]
    if len(folds) != n:
        sys.exit(f"{path}: {len(folds)} folds for {n} documents (same --data/--limit?)")
    return np.array(folds)


def read_scores(path, labels, n):
    """(n x len(labels)) matrix from --write-scores JSON lines, columns in `labels` order."""
    col = {name: j for j, name in enumerate(labels)}
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = np.full(len(labels), np.nan)
            for entry in json.loads(line)["Labels"]:
                if entry["Name"] not in col:
                    sys.exit(f"{path}:{lineno}: unknown label {entry['Name']!r}")
                row[col[entry["Name"]]] = float(entry["Score"])
            if np.isnan(row).any():
                missing = [labels[j] for j in np.flatnonzero(np.isnan(row))]
                sys.exit(f"{path}:{lineno}: no score for {missing}")
            rows.append(row)
    if len(rows) != n:
        sys.exit(f"{path}: {len(rows)} score lines for {n} documents (same --data/--limit?)")
    return np.vstack(rows)


# ---------------------------------------------------------------- scikit-learn

def sk_name(C, cw):
    return f"sklearn OvR LR C={C:g} {'balanced' if cw else 'unweighted'}"


def sklearn_oof(texts, y, folds):
    """Out-of-fold probabilities of every scikit-learn setting on the given folds.
    Returns {name: (scores, {"C", "class_weight", "fit_s_folds", "vectorize_s_folds"})}."""
    n, n_labels = y.shape
    settings = [(C, cw) for C in SK_C for cw in SK_CLASS_WEIGHT]
    scores = {s: np.zeros((n, n_labels)) for s in settings}
    fit_s = {s: [] for s in settings}
    vec_s = []
    for k in sorted(set(folds.tolist())):
        test = np.flatnonzero(folds == k)
        train = np.flatnonzero(folds != k)
        t0 = time.perf_counter()
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        x_train = vec.fit_transform([texts[i] for i in train])
        x_test = vec.transform([texts[i] for i in test])
        vec_s.append(time.perf_counter() - t0)
        for C, cw in settings:
            t0 = time.perf_counter()
            clf = OneVsRestClassifier(LogisticRegression(
                solver="liblinear", C=C, class_weight=cw, random_state=0))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(x_train, y[train])
            fit_s[(C, cw)].append(time.perf_counter() - t0)
            scores[(C, cw)][test] = clf.predict_proba(x_test)
            print(f"#   fold {k}: {sk_name(C, cw)} {fit_s[(C, cw)][-1]:.1f}s", file=sys.stderr)
    return {sk_name(C, cw): (scores[(C, cw)], {
        "C": C, "class_weight": cw, "fit_s_folds": fit_s[(C, cw)],
        "vectorize_s_folds": vec_s}) for C, cw in settings}


# ---------------------------------------------------------------- metrics

def evaluate(scores, y, full_idx, top_idx, t):
    """Metrics of the label sets {score >= t} against y; per-line figures per 100 documents."""
    n = y.shape[0]
    pred = (scores >= t).astype(int)
    rows = np.arange(n)
    full_best = full_idx[np.argmax(scores[:, full_idx], axis=1)]
    true_full = np.array([full_idx[np.flatnonzero(y[i, full_idx])[0]] for i in range(n)])
    true_top = np.array([top_idx[np.flatnonzero(y[i, top_idx])[0]] for i in range(n)])
    per100 = 100.0 / n
    return {
        "threshold": t,
        "micro_f1": float(f1_score(y, pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(y, pred, average="macro", zero_division=0)),
        "hamming": float(hamming_loss(y, pred)),
        "full_best_per100": float(np.sum(full_best == true_full) * per100),
        "full_ge_t_per100": float(np.sum(scores[rows, true_full] >= t) * per100),
        "top_ge_t_per100": float(np.sum(scores[rows, true_top] >= t) * per100),
        "no_label_per100": float(np.sum(pred.sum(axis=1) == 0) * per100),
        "mean_labels": float(pred.sum(axis=1).mean()),
    }


def print_table(t, systems, best_sk):
    print(f"\n### Threshold {t:g}\n")
    print(f"| system | micro-F1 | macro-F1 | Hamming | full group best | full group >= {t:g} "
          f"| top-level >= {t:g} | no label |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, sysres in systems.items():
        m = sysres["metrics"][str(t)]
        label = f"**{name}** (best sklearn)" if name == best_sk else name
        print(f"| {label} | {m['micro_f1']:.4f} | {m['macro_f1']:.4f} | {m['hamming']:.4f} "
              f"| {m['full_best_per100']:.1f} | {m['full_ge_t_per100']:.1f} "
              f"| {m['top_ge_t_per100']:.1f} | {m['no_label_per100']:.1f} |")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="../shared/data",
                    help="folder holding 20news/ (relative paths: from the repository)")
    ap.add_argument("--docclass", default="target/release/docclass",
                    help="the docclass binary (relative paths: from the repository)")
    ap.add_argument("--work", default="/tmp/docclass-multilabel",
                    help="folder for the CSV, folds, scores and multilabel.json")
    ap.add_argument("--skip-docclass", action="store_true",
                    help="reuse <work>/folds.txt and <work>/scores.jsonl instead of running docclass")
    ap.add_argument("--limit", type=int,
                    help="only the first N posts of each newsgroup (smoke tests)")
    args = ap.parse_args()

    data = os.path.normpath(os.path.join(REPO, args.data))  # an absolute path stays as given
    binary = os.path.normpath(os.path.join(REPO, args.docclass))
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    csv_path = os.path.join(work, "20news_multilabel.csv")
    folds_path = os.path.join(work, "folds.txt")
    scores_path = os.path.join(work, "scores.jsonl")

    groups, texts = load_folders(os.path.join(data, "20news", "train"), args.limit)
    n = len(texts)
    full_labels = sorted(set(groups))
    top_labels = sorted({top_level(g) for g in groups})
    labels = sorted(full_labels + top_labels)
    col = {name: j for j, name in enumerate(labels)}
    full_idx = np.array([col[g] for g in full_labels])
    top_idx = np.array([col[g] for g in top_labels])
    y = np.zeros((n, len(labels)), dtype=int)
    for i, g in enumerate(groups):
        y[i, col[g]] = 1
        y[i, col[top_level(g)]] = 1
    write_multilabel_csv(csv_path, groups, texts)
    print(f"# 20news multi-label: {n} docs, {len(top_labels)} top-level + "
          f"{len(full_labels)} full-group labels -> {csv_path}", file=sys.stderr)

    cmd = docclass_cmd(binary, csv_path, folds_path, scores_path)
    docclass_summary, docclass_seconds = None, None
    if args.skip_docclass:
        for path in (folds_path, scores_path):
            if not os.path.exists(path):
                sys.exit(f"--skip-docclass: {path} is missing (run once without it)")
        print(f"# reusing {folds_path} and {scores_path}", file=sys.stderr)
    else:
        print(f"# {shlex.join(cmd)}", file=sys.stderr)
        docclass_summary, docclass_seconds = run_docclass(cmd)
        print(f"#   docclass: {docclass_seconds:.1f}s wall", file=sys.stderr)
    folds = read_folds(folds_path, n)
    doc_scores = read_scores(scores_path, labels, n)

    systems = {}
    systems["docclass (no flags)"] = {
        "scores": doc_scores,
        "info": {"wall_seconds": docclass_seconds, "reused": args.skip_docclass,
                 "cross_validate": docclass_summary},
    }
    print(f"# scikit-learn on {len(set(folds.tolist()))} folds", file=sys.stderr)
    for name, (scores, info) in sklearn_oof(texts, y, folds).items():
        systems[name] = {"scores": scores, "info": info}

    for sysres in systems.values():
        sysres["metrics"] = {str(t): evaluate(sysres["scores"], y, full_idx, top_idx, t)
                             for t in THRESHOLDS}

    # docclass's own pooled metrics use the same rule at 0.5 (every label with p >= 0.5):
    # a mismatch means the scores file and the run disagree.
    pooled = (docclass_summary or {}).get("Pooled", {})
    ours = systems["docclass (no flags)"]["metrics"]["0.5"]
    for key, theirs in (("micro_f1", pooled.get("MicroF1Score")),
                        ("hamming", pooled.get("HammingLoss"))):
        if theirs is not None and abs(theirs - ours[key]) > 1e-9:
            print(f"warning: docclass's pooled {key} is {theirs:.6f}, its scores give "
                  f"{ours[key]:.6f} at 0.5", file=sys.stderr)

    best = {}
    for t in THRESHOLDS:
        sk = [name for name in systems if name.startswith("sklearn")]
        best[str(t)] = max(sk, key=lambda s: systems[s]["metrics"][str(t)]["micro_f1"])
        print_table(t, systems, best[str(t)])
    if docclass_seconds is not None:
        print(f"\ndocclass cross-validate: {docclass_seconds:.1f} s wall (search in every fold)")

    out = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable, *sys.argv]),
        "docclass_command": shlex.join(cmd),
        "docclass_ran": not args.skip_docclass,
        "data": data,
        "limit": args.limit,
        "n_docs": n,
        "n_folds": len(set(folds.tolist())),
        "labels": {"top_level": top_labels, "full_group": full_labels},
        "thresholds": list(THRESHOLDS),
        "sklearn": {"vectorizer": "TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)",
                    "model": "OneVsRestClassifier(LogisticRegression(solver='liblinear', C=C, "
                             "class_weight=cw, random_state=0))",
                    "best_by_micro_f1": best},
        "systems": {name: {"metrics": s["metrics"], **s["info"]} for name, s in systems.items()},
    }
    json_path = os.path.join(work, "multilabel.json")
    with open(json_path, "w") as f:
        json.dump(out, f, indent=2)
    print(f"\n# wrote {json_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
