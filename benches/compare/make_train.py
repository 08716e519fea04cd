#!/usr/bin/env python3
"""Writes an SMS-length training CSV of any size for the training benchmarks.

The shared SMS training set (4,459 labelled messages) is cycled; every row gets two words drawn
at random from the corpus's own vocabulary and a reference number, so no two rows are the same
text, as in a real large collection of short messages:

    ham,"Ok lar... Joking wif u oni... parts lunch ref 4821937"

Usage: make_train.py N OUT.csv [--data ../shared/data/sms_spam/train.csv] [--seed S]

Rows are written by Python's csv module (RFC 4180 quoting, LF line ends), as pandas and
Comprehend read them. The same N and seed give the same bytes.
"""

import argparse
import csv
import random
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, help="rows to write")
    ap.add_argument("out", type=Path, help="CSV to write")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared/data/sms_spam/train.csv")
    ap.add_argument("--seed", type=int, default=20261205)
    args = ap.parse_args()
    if args.n < 1:
        sys.exit("make_train.py: N must be at least 1")

    with open(args.data, newline="", encoding="utf-8") as f:
        rows = [(label, text) for label, text in csv.reader(f)]
    vocabulary = sorted(
        {w.lower() for _, text in rows for w in re.findall(r"[A-Za-z]{3,12}", text)}
    )
    rng = random.Random(args.seed)
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        for i in range(args.n):
            label, text = rows[i % len(rows)]
            extra = f"{rng.choice(vocabulary)} {rng.choice(vocabulary)} ref {rng.randrange(10**6, 10**7)}"
            w.writerow((label, f"{text} {extra}"))


if __name__ == "__main__":
    main()
