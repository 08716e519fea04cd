"""One docclass job on Apache Spark: one task per shard, then `docclass merge` on the driver.

    spark-submit --master 'local[2,3]' --files /path/to/docclass deploy/spark/docclass_spark.py \\
      --input s3://in-bucket/corpus/ --model models/spam-ham --output s3://out-bucket/results/

Each task runs `docclass classify --shard-index I --shard-count N` in a subprocess; a failure
fails the task, which Spark retries (spark.task.maxFailures on a cluster; in local mode only with
a master of `local[N,F]`, F attempts per task). Once every task has succeeded the driver merges
the parts and prints the job's JSON. Workers find the binary at --docclass, else as shipped with
`spark-submit --files /path/to/docclass`, else as `docclass` on PATH; a model folder missing on a
worker is looked up among the files shipped with `--files`/`--archives` under the same name.
"""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import scaleout_common as common  # noqa: E402  (found beside this folder, shipped by value)

PROG = "docclass_spark"
WAYS = (
    "pass --docclass PATH (the same path on every node), ship it with "
    "`spark-submit --files /path/to/docclass`, or install docclass on every node's PATH"
)


def main(argv=None) -> int:
    parser = common.job_parser(PROG, __doc__, "the Spark context's defaultParallelism")
    args, job = common.parse_job(parser, sys.argv[1:] if argv is None else argv)
    return common.run_driver(PROG, job, lambda: run(args, job))


def run(args, job: common.Job) -> dict:
    """Runs the shards as Spark tasks and merges their parts; returns the merged job."""
    from pyspark import SparkConf, SparkContext, cloudpickle

    # Tasks call into scaleout_common; pickled by value, workers need no copy (or --py-files).
    cloudpickle.register_pickle_by_value(common)
    sc = SparkContext.getOrCreate(SparkConf().setAppName(f"docclass job {job.job_id}"))
    try:
        # The driver runs the merge: check it has the binary before any task starts.
        binary = common.find_binary(args.docclass, shipped_binary, WAYS)
        count = args.shards or sc.defaultParallelism
        threads = int(sc.getConf().get("spark.task.cpus", "1"))
        tasks = shard_tasks(args.docclass, job, count, threads)
        results = sc.parallelize(range(count), count).mapPartitions(tasks).collect()
        for result in sorted(results, key=lambda r: r["record"]["ShardIndex"]):
            print(f"{PROG}: {common.shard_summary(result['record'], result['attempt'])}", file=sys.stderr)
        return common.merge(binary, job)
    finally:
        sc.stop()


def shard_tasks(docclass, job: common.Job, count: int, threads: int):
    """The function each partition (one shard index) runs on a worker."""

    def run_partition(indices):
        from pyspark import SparkFiles, TaskContext

        binary = common.find_binary(docclass, shipped_binary, WAYS)
        model = common.worker_model(job.model, [SparkFiles.getRootDirectory(), os.getcwd()])
        for index in indices:
            record = common.run_shard(binary, job, model, index, count, threads)
            # Attempts count from 1 here; the driver's summary shows which ones were retries.
            yield {"record": record, "attempt": TaskContext.get().attemptNumber() + 1}

    return run_partition


def shipped_binary():
    """The binary shipped with `spark-submit --files .../docclass`, executable, or None."""
    from pyspark import SparkFiles

    path = SparkFiles.get("docclass")
    if not os.path.isfile(path):
        return None
    return path if os.access(path, os.X_OK) else executable_copy(path)


def executable_copy(path: str) -> str:
    """Some cluster managers fetch files without their execute bit: an executable copy in the
    worker's temp folder, made once per binary (named by size and time) and renamed into place
    so concurrent tasks never run a half-written file."""
    stat = os.stat(path)
    dest = os.path.join(tempfile.gettempdir(), f"docclass-{stat.st_size}-{int(stat.st_mtime)}")
    if not os.access(dest, os.X_OK):
        partial = f"{dest}.{os.getpid()}"
        shutil.copyfile(path, partial)
        os.chmod(partial, 0o755)
        os.replace(partial, dest)
    return dest


if __name__ == "__main__":
    sys.exit(main())
