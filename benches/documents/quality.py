#!/usr/bin/env python3
"""Accuracy of classifying documents against classifying their text, per format.

Renders held-out 20news posts (render.py: one page each) as text, native PDF, scanned PDF, Word
and PNG; trains a model on the other posts with the README's 20news recipe; classifies every
rendering with docclass (ONE_DOC_PER_FILE) and compares each format's accuracy with the text's.
Fails (exit 1) when native PDF or Word trail the text by more than 1 point, or scans and images
by more than 3. Also reports pages per second per format (OCR dominates scans and images).

Usage: quality.py --docclass target/release/docclass --corpus ../shared/data/20news/train
                  --work target/doc-quality [--per-label 10]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import render  # noqa: E402

# What the settings search chooses for 20news, fixed (no search) to keep the run short.
RECIPE = ["--format", "LABEL_FOLDERS", "--on-invalid-utf8", "lossy", "--no-search", "--char-ngrams",
          "none", "--no-symbols", "--no-digit-shapes", "--word-ngrams", "1", "--label-weighting", "true",
          "--c", "100"]
BOUND = {"pdf": 1.0, "docx": 1.0, "scan": 3.0, "png": 3.0}


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode not in (0, 3):
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}")
    return r


def predictions(archive):
    with tarfile.open(archive, "r:gz") as t:
        data = t.extractfile("predictions.jsonl").read().decode("ascii")
    return [json.loads(l) for l in data.splitlines()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docclass", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--per-label", type=int, default=10)
    a = ap.parse_args()
    work = os.path.abspath(a.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    docs = render.select(a.corpus, a.per_label, 0)
    held = {(label, name) for label, name, _ in docs}
    # Train on every other post.
    train = os.path.join(work, "train")
    for label in sorted(os.listdir(a.corpus)):
        for name in os.listdir(os.path.join(a.corpus, label)):
            if (label, name) not in held:
                os.makedirs(os.path.join(train, label), exist_ok=True)
                shutil.copy(os.path.join(a.corpus, label, name), os.path.join(train, label, name))
    out = os.path.join(work, "rendered")
    formats = ["txt", "pdf", "docx", "scan", "png"]
    for label, name, text in docs:
        render.render(text, out, label, name, set(formats))
    t = time.time()
    run([a.docclass, "train", "--name", "news", "--train", train + "/", "--model-registry",
         os.path.join(work, "models"), "-q", *RECIPE])
    print(f"trained on {sum(len(f) for _, _, f in os.walk(train))} posts in {time.time() - t:.1f} s")
    results = {}
    for fmt in formats:
        t = time.time()
        r = run([a.docclass, "classify", "--input", os.path.join(out, fmt) + "/", "--input-format",
                 "ONE_DOC_PER_FILE", "--model", os.path.join(work, "models", "news"), "--output",
                 os.path.join(work, "out", fmt) + "/", "--job-store", os.path.join(work, "jobs"), "-q"])
        seconds = time.time() - t
        job = json.loads(r.stdout)["DocumentClassificationJobProperties"]
        lines = predictions(job["OutputDataConfig"]["S3Uri"])
        right = errors = 0
        for l in lines:
            label = l["File"].split("/")[0]
            if "Classes" in l:
                right += l["Classes"][0]["Name"] == label
            else:
                errors += 1
        results[fmt] = (100.0 * right / len(docs), errors, len(lines), seconds)
    base = results["txt"][0]
    print(f"{len(docs)} documents ({a.per_label} per label), one page each")
    print("| format | accuracy | vs text | error pages | pages/s |")
    print("|---|---|---|---|---|")
    failed = []
    for fmt in formats:
        acc, errors, pages, seconds = results[fmt]
        delta = acc - base
        print(f"| {fmt} | {acc:.2f}% | {delta:+.2f} | {errors} | {pages / seconds:.1f} |")
        if fmt in BOUND and delta < -BOUND[fmt]:
            failed.append(f"{fmt} trails text by {-delta:.2f} points (at most {BOUND[fmt]})")
    if failed:
        sys.exit("; ".join(failed))


if __name__ == "__main__":
    main()
