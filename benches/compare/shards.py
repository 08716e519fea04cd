#!/usr/bin/env python3
"""Scale-out overhead: N shards of one thread each (run at once, as N array tasks on one machine)
against one process with N threads, on the same input; and what `docclass merge` costs as the
output grows. Local files, so the numbers are docclass's own (no S3 server in the way).

Usage: benches/compare/shards.py [--lines 1000000] [--shards 2] [--rounds 3]
Environment: DOCCLASS (binary, default target/release/docclass), DATA (SMS CSV, default
../shared/data/sms_spam/train.csv). Prints a Markdown table; every time is the median of the
rounds, wall clock.
"""

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("DOCCLASS", os.path.join(REPO, "target", "release", "docclass"))
DATA = os.environ.get("DATA", os.path.join(REPO, "..", "shared", "data", "sms_spam", "train.csv"))
MODEL = os.path.join(REPO, "models", "spam-ham")
ENV = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")


def corpus(path, lines):
    with open(DATA, encoding="utf-8") as f:
        texts = [r[1].replace("\n", " ").replace("\r", " ") for r in csv.reader(f)]
    os.makedirs(path, exist_ok=True)
    # Three files of different sizes, so shard boundaries fall inside files.
    sizes = [lines // 2, lines // 3, lines - lines // 2 - lines // 3]
    for i, n in enumerate(sizes):
        with open(os.path.join(path, f"part{i}.txt"), "w", encoding="utf-8") as out:
            out.writelines(texts[(i * 7919 + j) % len(texts)] + "\n" for j in range(n))


def run(args, cwd):
    subprocess.run([BIN, *args], cwd=cwd, env=ENV, check=True, stdout=subprocess.DEVNULL)


def single(work, inp, threads, job):
    t = time.perf_counter()
    run(["classify", "--input", inp, "--model", MODEL, "--output", "one/", "--job-id", job,
         "--threads", str(threads), "-q"], work)
    return time.perf_counter() - t


def sharded(work, inp, shards, job):
    t = time.perf_counter()
    procs = [subprocess.Popen(
        [BIN, "classify", "--input", inp, "--model", MODEL, "--output", "many/", "--job-id", job,
         "--threads", "1", "--shard-index", str(i), "--shard-count", str(shards), "-q"],
        cwd=work, env=ENV, stdout=subprocess.DEVNULL) for i in range(shards)]
    for p in procs:
        if p.wait() != 0:
            sys.exit(f"shard failed with {p.returncode}")
    shard_time = time.perf_counter() - t
    t = time.perf_counter()
    run(["merge", "--output", "many/", "--job-id", job], work)
    return shard_time, time.perf_counter() - t


def archive(work, out, job):
    return os.path.join(work, out, f"000000000000-CLN-{job}", "output", "output.tar.gz")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--merge-sizes", default="1000000,2000000,4000000")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="docclass-shards-")
    try:
        corpus(os.path.join(work, "in"), a.lines)
        one, many, merge = [], [], []
        for r in range(a.rounds):
            one.append(single(work, "in/", a.shards, f"1{r}"))
            s, m = sharded(work, "in/", a.shards, f"2{r}")
            many.append(s)
            merge.append(m)
            with open(archive(work, "one", f"1{r}"), "rb") as x, open(archive(work, "many", f"2{r}"), "rb") as y:
                if x.read() != y.read():
                    sys.exit("merged archive differs from the single run")
        o, s, m = (statistics.median(v) for v in (one, many, merge))
        print(f"| {a.lines:,} lines | 1 process x {a.shards} threads | {a.shards} shards x 1 thread | merge | overhead (shards + merge vs 1 process) |")
        print("|---|---|---|---|---|")
        print(f"| median of {a.rounds} | {o:.2f} s | {s:.2f} s | {m:.3f} s | {100 * (s + m - o) / o:+.1f}% |")
        print()
        print("| lines | archive | merge of {} parts |".format(a.shards))
        print("|---|---|---|")
        for n in (int(x) for x in a.merge_sizes.split(",")):
            inp = f"m{n}/"
            corpus(os.path.join(work, inp), n)
            times = []
            for r in range(a.rounds):
                job = f"3{n}{r}"
                for i in range(a.shards):
                    run(["classify", "--input", inp, "--model", MODEL, "--output", "many/", "--job-id", job,
                         "--shard-index", str(i), "--shard-count", str(a.shards), "-q"], work)
                t = time.perf_counter()
                run(["merge", "--output", "many/", "--job-id", job], work)
                times.append(time.perf_counter() - t)
            size = os.path.getsize(archive(work, "many", f"3{n}0"))
            print(f"| {n:,} | {size / 1e6:.1f} MB | {statistics.median(times):.3f} s |")
            shutil.rmtree(os.path.join(work, inp))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
