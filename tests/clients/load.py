"""Load test of `docclass serve` on loopback, bounded in count and time: many concurrent
ClassifyDocument and DescribeDocumentClassificationJob calls through boto3 while classification
jobs run. Reports errors (only throttling would be acceptable; there is none), p50/p99 latency
and the server's resident memory before and after.

    DOCCLASS_BIN=target/release/docclass python tests/clients/load.py [--calls 4000] [--threads 16]
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import botocore.config

sys.path.insert(0, str(Path(__file__).parent))
from conftest import REPO, Server  # noqa: E402

ROLE = "arn:aws:iam::111122223333:role/r"
CLASSIFIER = "arn:aws:comprehend:us-west-2:111122223333:document-classifier/spam-ham"
ENDPOINT = "arn:aws:comprehend:us-west-2:111122223333:document-classifier-endpoint/spam-ham"


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=4000, help="total calls (bounded)")
    ap.add_argument("--threads", type=int, default=16, help="concurrent client threads")
    ap.add_argument("--seconds", type=float, default=120, help="hard time limit")
    args = ap.parse_args()

    root = Path(tempfile.mkdtemp())
    server = Server(root)
    server.s3.mkdir()
    shutil.copytree(REPO / "models" / "spam-ham", server.models / "spam-ham")
    inputs = server.s3 / "in-bucket" / "jobs"
    inputs.mkdir(parents=True)
    (inputs / "messages.txt").write_text("win a free prize now call 0800 123\nsee you at dinner tonight\n" * 250_000)
    server.start()
    try:
        config = botocore.config.Config(max_pool_connections=args.threads, retries={"max_attempts": 1})
        c = server.client(config=config)
        jobs = [c.start_document_classification_job(
            DocumentClassifierArn=CLASSIFIER, DataAccessRoleArn=ROLE,
            InputDataConfig={"S3Uri": "s3://in-bucket/jobs/"},
            OutputDataConfig={"S3Uri": "s3://out-bucket/load/"})["JobId"] for _ in range(6)]
        before = rss_kb(server.proc.pid)
        deadline = time.time() + args.seconds
        latencies, errors = [], []

        def call(i):
            if time.time() > deadline:
                return
            t = time.perf_counter()
            try:
                if i % 2:
                    c.classify_document(Text=f"message {i}: claim your free cash prize now", EndpointArn=ENDPOINT)
                else:
                    c.describe_document_classification_job(JobId=jobs[i % len(jobs)])
                latencies.append(time.perf_counter() - t)
            except Exception as e:  # every error is reported, none is expected
                errors.append(repr(e))

        # Three equal rounds: resident memory after each shows whether it stays flat.
        start = time.perf_counter()
        rounds = []
        with ThreadPoolExecutor(args.threads) as pool:
            for r in range(3):
                list(pool.map(call, range(r * args.calls // 3, (r + 1) * args.calls // 3)))
                rounds.append(rss_kb(server.proc.pid) / 1024)
        wall = time.perf_counter() - start
        statuses = [c.describe_document_classification_job(JobId=j)["DocumentClassificationJobProperties"]["JobStatus"]
                    for j in jobs]
        lat = sorted(latencies)
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
        print(f"calls {len(lat)} ok, {len(errors)} errors in {wall:.1f} s ({len(lat) / wall:.0f} calls/s, "
              f"{args.threads} client threads)")
        print(f"latency ms: p50 {p(0.5):.1f}  p90 {p(0.9):.1f}  p99 {p(0.99):.1f}  max {lat[-1] * 1000:.1f}  "
              f"mean {statistics.mean(lat) * 1000:.1f}")
        print(f"server RSS: {before / 1024:.0f} MB before, after each third: "
              f"{', '.join(f'{m:.0f}' for m in rounds)} MB; jobs: {statuses}")
        for e in errors[:5]:
            print("error:", e)
        return 1 if errors else 0
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
