#!/usr/bin/env python3
"""Throughput of docclass on the shapes of input other than one short document per line,
against what a user would use instead. Run through benches/compare/run-shapes (which prepares
the virtualenv), or with a Python that has the peers (requirements-peers.txt) and boto3:

  shapes.py files   [--count 100000]  many small files, ONE_DOC_PER_FILE: docs/s
  shapes.py posts                     20news-sized posts (the 20news training posts): MB/s
  shapes.py big     [--count 40]      1 MB documents (20news posts joined): MB/s
  shapes.py service [--calls 20000]   ClassifyDocument through `docclass serve`, from boto3
                                      clients: requests/s and p50/p99 latency, against the
                                      same texts through `docclass classify`

files/posts/big: every tool is a fresh process timed from spawn to exit (compare.measure: wall
time, peak RSS and CPU from GNU time), tools alternate within each round, medians are kept.
docclass runs `classify --input-format ONE_DOC_PER_FILE` with the shipped model
(models/spam-ham) on 2 threads; the peers (trained on sms_spam/train.csv exactly as in
compare.py) read each file whole and predict it (peer_predict.py --files), one process each.

service: the server and the clients share the machine's cores. Each client thread owns a boto3
client (SigV4-signed HTTP, a new signature per call); latency is per call as the client sees it.
"""

import argparse
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import compare  # noqa: E402

MODEL = os.path.join(REPO, "models", "spam-ham")
TOOLS = ["docclass", "fasttext", "sklearn"]


def write_files(root, texts, count):
    """count files of one text each, 1,000 to a folder, texts cycled in order."""
    paths = []
    for i in range(count):
        d = os.path.join(root, f"d{i // 1000:04}")
        if i % 1000 == 0:
            os.makedirs(d, exist_ok=True)
        p = os.path.join(d, f"m{i:07}.txt")
        with open(p, "w", encoding="utf-8") as f:
            f.write(texts[i % len(texts)])
        paths.append(p)
    return paths


def twentynews_posts(data):
    root = os.path.join(data, "20news", "train")
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)


def write_big(root, posts, count, size=1 << 20):
    """count documents of about `size` bytes, each 20news posts joined in a shuffled order."""
    rng = random.Random(20261203)
    order = posts[:]
    paths, k = [], 0
    os.makedirs(root, exist_ok=True)
    for i in range(count):
        parts, n = [], 0
        while n < size:
            if k % len(order) == 0:
                rng.shuffle(order)
            with open(order[k % len(order)], "rb") as f:
                b = f.read()
            parts.append(b)
            n += len(b) + 1
            k += 1
        p = os.path.join(root, f"doc{i:04}.txt")
        with open(p, "wb") as f:
            f.write(b"\n".join(parts)[:size])
        paths.append(p)
    return paths


def dataset(a):
    """(input folder, list file, documents, bytes) of the shape, built once in the work folder."""
    root = os.path.join(a.work, f"shape-{a.shape}-{a.count}")
    listing = root + ".list"
    if not os.path.exists(listing):
        shutil.rmtree(root, ignore_errors=True)
        if a.shape == "files":
            texts = [t for _, t in compare.read_train(a.train)]
            paths = write_files(root, texts, a.count)
        elif a.shape == "posts":
            paths = twentynews_posts(a.data)
        else:
            paths = write_big(root, twentynews_posts(a.data), a.count)
        with open(listing + ".tmp", "w", encoding="utf-8") as f:
            f.write("".join(p + "\n" for p in paths))
        os.replace(listing + ".tmp", listing)
    with open(listing, encoding="utf-8") as f:
        paths = f.read().splitlines()
    top = os.path.commonpath(paths)
    return top, listing, len(paths), sum(os.path.getsize(p) for p in paths)


def batch(a):
    compare.log(f"{a.shape}: building the input")
    top, listing, n_docs, n_bytes = dataset(a)
    compare.log(f"{a.shape}: {n_docs:,} documents, {n_bytes / 1e6:.1f} MB under {top}")
    models = os.path.join(a.work, "models")
    os.makedirs(models, exist_ok=True)
    rows = compare.read_train(a.train)
    peer_models = {"sklearn": compare.train_sklearn(rows, models),
                   "fasttext": compare.train_fasttext(rows, models)}
    out = os.path.join(a.work, "out")
    logs = os.path.join(a.work, "logs")
    for d in (out, logs):
        os.makedirs(d, exist_ok=True)

    def command(tool):
        if tool == "docclass":
            return [a.docclass, "classify", "--input", top, "--input-format", "ONE_DOC_PER_FILE",
                    "--on-invalid-utf8", "lossy", "--model", MODEL, "--output",
                    os.path.join(out, "docclass") + "/", "--threads", "2", "-q",
                    "--job-store", os.path.join(a.work, "jobs")]
        return [sys.executable, compare.WORKER, tool, peer_models[tool], listing,
                os.path.join(out, tool + ".txt"), "--files"]

    # Untimed warm-up: the page cache holds every file for every tool.
    subprocess.run(f"xargs -a {listing} cat > /dev/null", shell=True, check=True)
    samples = {t: [] for t in TOOLS}
    for r in range(a.rounds):
        k = r % len(TOOLS)
        for tool in TOOLS[k:] + TOOLS[:k]:
            shutil.rmtree(os.path.join(out, "docclass"), ignore_errors=True)
            compare.wait_for_quiet(a.quiet_wait)
            res = compare.measure([command(tool)], [(os.devnull, os.path.join(logs, tool + ".err"))],
                                  logs)
            samples[tool].append(res)
            compare.log(f"round {r + 1}/{a.rounds} {tool:<9} {res['seconds']:7.2f}s "
                        f"rss {res['rss_mib']:5.0f} MiB cpu {res['cpu_seconds']:6.2f}s "
                        f"(others {res['other_cpu_seconds']:5.2f}s)")
    rows_out = []
    base = statistics.median(s["seconds"] for s in samples["docclass"])
    for tool in TOOLS:
        secs = statistics.median(s["seconds"] for s in samples[tool])
        per_round = [x["seconds"] / y["seconds"] for x, y in zip(samples[tool], samples["docclass"])]
        rows_out.append({"tool": tool, "median_seconds": secs, "docs_per_second": n_docs / secs,
                         "mb_per_second": n_bytes / 1e6 / secs,
                         "peak_rss_mib": statistics.median(s["rss_mib"] for s in samples[tool]),
                         "cpu_seconds": statistics.median(s["cpu_seconds"] for s in samples[tool]),
                         "time_vs_docclass": secs / base,
                         "median_ratio_vs_docclass": statistics.median(per_round)})
    print("| tool | median s | docs/s | MB/s | peak RSS MiB | CPU s | time / docclass |")
    print("|---|---|---|---|---|---|---|")
    for r in rows_out:
        print(f"| {r['tool']} | {r['median_seconds']:.2f} | {r['docs_per_second']:,.0f} | "
              f"{r['mb_per_second']:.1f} | {r['peak_rss_mib']:.0f} | {r['cpu_seconds']:.2f} | "
              f"{r['median_ratio_vs_docclass']:.2f}x |")
    print(f"\n{a.shape}: {n_docs:,} documents, {n_bytes / 1e6:.1f} MB, median of {a.rounds} "
          "alternating rounds; time / docclass is the median of per-round ratios.")
    return {"shape": a.shape, "documents": n_docs, "bytes": n_bytes, "rows": rows_out,
            "samples": samples}


# ------------------------------------------------------------------ service

def client_worker(args):
    """One client process: `threads` threads, each with its own boto3 client, make `calls`
    ClassifyDocument calls between them; returns the latencies in seconds and the errors."""
    endpoint, key, secret, texts, calls, threads, offset = args
    import boto3
    import botocore.config
    from concurrent.futures import ThreadPoolExecutor

    arn = "arn:aws:comprehend:us-west-2:111122223333:document-classifier-endpoint/spam-ham"
    config = botocore.config.Config(max_pool_connections=threads, retries={"max_attempts": 1})

    def run(t):
        c = boto3.client("comprehend", endpoint_url=endpoint, region_name="us-west-2",
                         aws_access_key_id=key, aws_secret_access_key=secret, config=config)
        c.classify_document(Text="warm-up", EndpointArn=arn)
        lat, errors = [], []
        for i in range(t, calls, threads):
            text = texts[(offset + i) % len(texts)]
            s = time.perf_counter()
            try:
                c.classify_document(Text=text, EndpointArn=arn)
                lat.append(time.perf_counter() - s)
            except Exception as e:  # reported, none expected
                errors.append(repr(e))
        return lat, errors

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(run, range(threads)))
    return [x for r in results for x in r[0]], [x for r in results for x in r[1]]


def service(a):
    sys.path.insert(0, os.path.join(REPO, "tests", "clients"))
    os.environ.setdefault("DOCCLASS_BIN", os.path.abspath(a.docclass))
    from conftest import KEY, SECRET, Server

    texts = [t for _, t in compare.read_train(a.train) if t.strip()]
    root = tempfile.mkdtemp(prefix="docclass-service-")
    server = Server(__import__("pathlib").Path(root))
    server.s3.mkdir()
    shutil.copytree(MODEL, server.models / "spam-ham")
    server.start()
    results = []
    try:
        for procs, threads in a.load:
            total = a.calls if procs * threads > 1 else min(a.calls, 4000)
            per = total // procs
            jobs = [(server.endpoint, KEY, SECRET, texts, per, threads, p * per) for p in range(procs)]
            compare.wait_for_quiet(a.quiet_wait)
            start = time.perf_counter()
            with multiprocessing.get_context("fork").Pool(procs) as pool:
                parts = pool.map(client_worker, jobs)
            wall = time.perf_counter() - start
            lat = sorted(x for p in parts for x in p[0])
            errors = [x for p in parts for x in p[1]]
            q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] * 1000  # noqa: E731
            row = {"clients": f"{procs} process(es) x {threads} thread(s)", "calls": len(lat),
                   "errors": len(errors), "seconds": wall, "requests_per_second": len(lat) / wall,
                   "p50_ms": q(0.5), "p99_ms": q(0.99), "max_ms": lat[-1] * 1000}
            results.append(row)
            compare.log(f"service {row['clients']}: {row['calls']} calls, {row['errors']} errors, "
                        f"{row['requests_per_second']:.0f} req/s, p50 {row['p50_ms']:.2f} ms, "
                        f"p99 {row['p99_ms']:.2f} ms")
            for e in errors[:3]:
                compare.log(f"  error: {e}")
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

    # The same texts, as many as the largest run, through one `docclass classify` process.
    n = max(r["calls"] for r in results)
    lines = os.path.join(a.work, f"service-texts-{n}.txt")
    compare.write_repeated(lines, texts, n)
    logs = os.path.join(a.work, "logs")
    os.makedirs(logs, exist_ok=True)
    batch_secs = []
    for _ in range(3):
        out = os.path.join(a.work, "out", "service-batch")
        shutil.rmtree(out, ignore_errors=True)
        compare.wait_for_quiet(a.quiet_wait)
        res = compare.measure([[a.docclass, "classify", "--input", lines, "--model", MODEL,
                                "--output", out + "/", "-q",
                                "--job-store", os.path.join(a.work, "jobs")]],
                              [(os.devnull, os.path.join(logs, "service-batch.err"))], logs)
        batch_secs.append(res["seconds"])
    secs = statistics.median(batch_secs)
    print("| clients | calls | errors | req/s | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['clients']} | {r['calls']:,} | {r['errors']} | {r['requests_per_second']:,.0f} | "
              f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.1f} |")
    print(f"\nThe same {n:,} texts through `docclass classify` (one process, whole job to "
          f"output.tar.gz, median of 3): {secs:.3f} s, {n / secs:,.0f} docs/s.")
    return {"shape": "service", "load": results, "classify_seconds": secs, "classify_docs": n}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("shape", choices=["files", "posts", "big", "service"])
    ap.add_argument("--count", type=int, help="files: documents (100000); big: 1 MB documents (40)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=20000, help="service: calls per loaded run")
    ap.add_argument("--load", default="1x1,2x8",
                    help="service: client PROCESSESxTHREADS runs, comma-separated (1x1,2x8)")
    ap.add_argument("--quiet-wait", type=float, default=60)
    ap.add_argument("--data", default=os.environ.get(
        "DATA", os.path.join(os.path.dirname(REPO), "shared", "data")))
    ap.add_argument("--docclass", default=os.environ.get(
        "DOCCLASS", os.path.join(REPO, "target", "release", "docclass")))
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--json", help="also write the results to this JSON file")
    a = ap.parse_args()
    a.count = a.count or {"files": 100_000, "big": 40}.get(a.shape, 0)
    a.train = os.path.join(a.data, "sms_spam", "train.csv")
    a.load = [tuple(int(x) for x in part.split("x")) for part in a.load.split(",")]
    a.docclass = os.path.abspath(a.docclass)
    a.work = os.path.abspath(a.work)
    os.makedirs(a.work, exist_ok=True)
    shutil.rmtree(os.path.join(a.work, "jobs"), ignore_errors=True)
    result = service(a) if a.shape == "service" else batch(a)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
