#!/usr/bin/env python3
"""Prediction workers timed by compare.py: one process each, started fresh.

  peer_predict.py sklearn  MODEL INPUT OUTPUT [--start B --end B]
  peer_predict.py fasttext MODEL INPUT OUTPUT [--start B --end B]
  peer_predict.py vw       VW-ARGS...
  peer_predict.py sklearn|fasttext MODEL LIST OUTPUT --files

With --files, LIST names one document file per line (ONE_DOC_PER_FILE): each
file is read whole (UTF-8, errors replaced) and predicted as one document.

sklearn/fasttext read the raw one-document-per-line corpus (optionally only
the byte range [start, end), which must begin and end on line boundaries),
predict each line and write "<label> <probability of that label>" per line.
vw runs Vowpal Wabbit's own command-line driver through the Python binding
(the PyPI wheel has no `vw` executable).

Only the modules a worker needs are imported, so the startup cost timed for
each peer is its own.
"""

import argparse
import sys

BLOCK_BYTES = 4 << 20  # read the corpus in ~4 MB blocks (~50k SMS lines)


def line_batches(path, start=0, end=None):
    """Yield lists of lines (without "\\n") from bytes [start, end) of path.

    Splits on "\\n" only (not str.splitlines, which also splits on \\r,
    \\x1c, U+2028 ...), so the line count matches docclass's documents.
    """
    with open(path, "rb") as f:
        if end is None:
            f.seek(0, 2)
            end = f.tell()
        f.seek(start)
        remaining = end - start
        carry = b""
        while remaining > 0:
            block = f.read(min(BLOCK_BYTES, remaining))
            if not block:
                break
            remaining -= len(block)
            block = carry + block
            # Keep a trailing partial line for the next block.
            cut = block.rfind(b"\n") + 1 if remaining > 0 else len(block)
            carry, block = block[cut:], block[:cut]
            if block:
                lines = block.decode("utf-8", errors="replace").split("\n")
                if block.endswith(b"\n"):
                    lines.pop()  # empty string after the last newline
                yield lines
        if carry:
            yield [carry.decode("utf-8", errors="replace")]


FILES_PER_BATCH = 1000


def file_batches(list_path):
    """Yield lists of whole-file documents, FILES_PER_BATCH at a time."""
    with open(list_path, encoding="utf-8") as f:
        paths = f.read().splitlines()
    for i in range(0, len(paths), FILES_PER_BATCH):
        docs = []
        for p in paths[i:i + FILES_PER_BATCH]:
            with open(p, "rb") as doc:
                docs.append(doc.read().decode("utf-8", errors="replace"))
        yield docs


def batches(args):
    if args.files:
        return file_batches(args.input)
    return line_batches(args.input, args.start, args.end)


def predict_sklearn(args):
    import joblib
    import numpy as np

    vec, clf = joblib.load(args.model)
    classes = [str(c) for c in clf.classes_]
    with open(args.output, "w", encoding="utf-8") as out:
        for lines in batches(args):
            proba = clf.predict_proba(vec.transform(lines))
            best = proba.argmax(axis=1)
            top = proba[np.arange(len(best)), best]
            out.write("".join(f"{classes[b]} {p:.4f}\n" for b, p in zip(best, top)))


def predict_fasttext(args):
    import fasttext

    model = fasttext.load_model(args.model)
    with open(args.output, "w", encoding="utf-8") as out:
        for lines in batches(args):
            if args.files:
                # fastText predicts one line per document: a file's line breaks become spaces.
                lines = [" ".join(s.split("\n")) for s in lines]
            # Same preprocessing as training (lower-case). The list form of
            # predict() goes through multilinePredict (the single-string form
            # of fasttext-wheel 0.9.2 breaks on numpy 2). k=1 as predict-prob.
            labels, probs = model.predict([s.lower() for s in lines], k=1)
            # lab[0] is "__label__<name>"; fastText's softmax can exceed 1 by ~1e-5.
            out.write("".join(f"{lab[0][9:]} {min(p[0], 1.0):.4f}\n"
                              for lab, p in zip(labels, probs)))


def run_vw(vw_args):
    from vowpalwabbit import Workspace

    # With -d, Workspace() runs VW's C++ parser and learner over the whole
    # file before returning; finish() flushes predictions and saves -f models.
    ws = Workspace(arg_list=vw_args)
    ws.finish()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "vw":
        run_vw(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tool", choices=["sklearn", "fasttext"])
    ap.add_argument("model")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--start", type=int, default=0, help="first byte (line start)")
    ap.add_argument("--end", type=int, default=None, help="end byte (line start or EOF)")
    ap.add_argument("--files", action="store_true",
                    help="INPUT lists document files, one per line (ONE_DOC_PER_FILE)")
    args = ap.parse_args()
    {"sklearn": predict_sklearn, "fasttext": predict_fasttext}[args.tool](args)


if __name__ == "__main__":
    main()
