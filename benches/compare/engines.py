#!/usr/bin/env python3
"""What Spark and Ray add to a job: one `docclass classify` with 2 threads against the Spark
runner (spark-submit, local[2]) and the Ray runner (a one-node cluster started once, as users
keep one running), 2 shards each plus the merge, on the same local 1M-line corpus as
shards.py. Every run's archive must equal the one-process archive.

Usage: benches/compare/engines.py --python VENV/bin/python [--lines 1000000] [--rounds 3]
The Python is the one of deploy/requirements-engines.txt (pyspark, ray); Spark needs Java 17+.
Environment: DOCCLASS (binary), DATA (SMS CSV), as shards.py. Prints a Markdown table of
medians (wall clock) and /usr/bin/time's peak RSS: the largest single process among the command
and the children it waits for (the Ray workers belong to the cluster, not to the driver).
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from shards import BIN, ENV, MODEL, REPO, archive, corpus


def timed(cmd, cwd, env):
    """Wall seconds and peak KB (/usr/bin/time) of one command, which must succeed."""
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], cwd=cwd, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return seconds, int(proc.stderr.strip().splitlines()[-1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ray(venv_bin, work, env):
    """A one-node cluster of 2 CPUs; returns its process, address and start-up seconds."""
    port = free_port()
    log = open(os.path.join(work, "ray.log"), "w")
    t = time.perf_counter()
    proc = subprocess.Popen(
        [os.path.join(venv_bin, "ray"), "start", "--head", "--block", "--port", str(port),
         "--num-cpus", "2", "--disable-usage-stats", "--include-dashboard=false",
         "--object-store-memory", "100000000", "--temp-dir", os.path.join(work, "ray")],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    while "Ray runtime started" not in open(os.path.join(work, "ray.log")).read():
        if proc.poll() is not None:
            sys.exit("ray start --head failed: see " + os.path.join(work, "ray.log"))
        time.sleep(0.05)
    return proc, f"127.0.0.1:{port}", time.perf_counter() - t


def stop(proc):
    """The cluster and every process of its session (raylet, GCS, workers)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True, help="Python of the engines' virtualenv")
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    venv_bin = os.path.dirname(os.path.abspath(a.python))
    env = dict(ENV, PYSPARK_PYTHON=a.python, PYSPARK_DRIVER_PYTHON=a.python, SPARK_LOCAL_IP="127.0.0.1")
    spark = os.path.join(REPO, "deploy", "spark", "docclass_spark.py")
    ray_runner = os.path.join(REPO, "deploy", "ray", "docclass_ray.py")
    work = tempfile.mkdtemp(prefix="docclass-engines-")
    ray = None
    try:
        corpus(os.path.join(work, "in"), a.lines)
        ray, address, ray_start = start_ray(venv_bin, work, env)
        runs = {"classify": [], "spark": [], "ray": [], "merge": []}
        peaks = {k: [] for k in runs}
        for r in range(a.rounds):
            jobs = {"classify": f"a{r}", "spark": f"b{r}", "ray": f"c{r}"}
            commands = {
                "classify": [BIN, "classify", "--input", "in/", "--model", MODEL, "--output", "classify/",
                             "--job-id", jobs["classify"], "--threads", "2", "-q"],
                "spark": [os.path.join(venv_bin, "spark-submit"), "--master", "local[2]",
                          "--conf", "spark.ui.enabled=false", "--conf", "spark.ui.showConsoleProgress=false",
                          spark, "--docclass", BIN, "--input", "in/", "--model", MODEL, "--output", "spark/",
                          "--shards", "2", "--job-id", jobs["spark"]],
                "ray": [a.python, ray_runner, "--address", address, "--docclass", BIN, "--input", "in/",
                        "--model", MODEL, "--output", "ray/", "--shards", "2", "--job-id", jobs["ray"]],
            }
            for name, cmd in commands.items():
                seconds, peak = timed(cmd, work, env)
                runs[name].append(seconds)
                peaks[name].append(peak)
            for name in ("spark", "ray"):
                with open(archive(work, "classify", jobs["classify"]), "rb") as x, \
                        open(archive(work, name, jobs[name]), "rb") as y:
                    if x.read() != y.read():
                        sys.exit(f"{name}: the merged archive differs from the one-process archive")
            # The merge alone, on parts written by two one-thread shards.
            shards = [subprocess.Popen(
                [BIN, "classify", "--input", "in/", "--model", MODEL, "--output", "merge/", "--job-id", f"d{r}",
                 "--threads", "1", "--shard-index", str(i), "--shard-count", "2", "-q"],
                cwd=work, env=env, stdout=subprocess.DEVNULL) for i in range(2)]
            if any(p.wait() != 0 for p in shards):
                sys.exit("a shard failed")
            seconds, peak = timed([BIN, "merge", "--output", "merge/", "--job-id", f"d{r}"], work, env)
            runs["merge"].append(seconds)
            peaks["merge"].append(peak)
        med = {k: statistics.median(v) for k, v in runs.items()}
        base = med["classify"]
        print(f"| {a.lines:,} lines, median of {a.rounds} | wall | more than classify | peak RSS (largest process) |")
        print("|---|---|---|---|")
        print(f"| `docclass classify --threads 2` | {base:.2f} s | | {max(peaks['classify']) / 1024:.0f} MB |")
        print(f"| Spark runner, `local[2]`, 2 shards + merge | {med['spark']:.2f} s | {med['spark'] - base:+.2f} s "
              f"| {max(peaks['spark']) / 1024:.0f} MB (driver JVM and Python) |")
        print(f"| Ray runner, running cluster, 2 shards + merge | {med['ray']:.2f} s | {med['ray'] - base:+.2f} s "
              f"| {max(peaks['ray']) / 1024:.0f} MB (driver) |")
        print(f"| `docclass merge` of the 2 parts alone | {med['merge']:.3f} s | | {max(peaks['merge']) / 1024:.0f} MB |")
        print(f"| `ray start --head` (once per cluster) | {ray_start:.2f} s | | |")
    finally:
        if ray is not None:
            stop(ray)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
