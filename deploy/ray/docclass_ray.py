"""One docclass job on a running Ray cluster: one task per shard, then `docclass merge` here.

    ray start --head --num-cpus 2 --disable-usage-stats --include-dashboard=false
    python deploy/ray/docclass_ray.py --docclass /usr/local/bin/docclass \\
      --input s3://in-bucket/corpus/ --model /shared/models/spam-ham --output s3://out-bucket/results/

Each task runs `docclass classify --shard-index I --shard-count N` in a subprocess; a failure
raises, and Ray retries the task (--max-retries, retry_exceptions). Once every task has succeeded
the driver merges the parts and prints the job's JSON. Workers find the binary at --docclass,
else as `docclass` on PATH (PATH of the `ray start` that started the node). To ship the binary
and the model with the job instead, put them in a folder given as --working-dir (Ray's
runtime_env working_dir, every task's working directory) and name them relative to it.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import scaleout_common as common  # noqa: E402  (found beside this folder, shipped by value)

PROG = "docclass_ray"
WAYS = (
    "pass --docclass PATH (the same path on every node; relative to --working-dir if you ship "
    "one), or install docclass on the PATH of every node's `ray start`"
)


def main(argv=None) -> int:
    parser = common.job_parser(PROG, __doc__, "the cluster's CPU count / --cpus-per-shard")
    parser.add_argument("--address", default="auto", help="the cluster to join, as ray.init takes it (default: auto)")
    parser.add_argument("--max-retries", type=int, default=3, help="retries of a failed shard task (default: 3)")
    parser.add_argument("--cpus-per-shard", type=common.positive_int, default=1,
                        help="CPUs each task reserves and docclass threads it runs (default: 1)")
    parser.add_argument("--working-dir", metavar="DIR",
                        help="folder shipped to every task as its working directory (runtime_env working_dir)")
    args, job = common.parse_job(parser, sys.argv[1:] if argv is None else argv)
    if args.max_retries < 0:
        parser.error(f"argument --max-retries: expected 0 or more, got '{args.max_retries}'")
    return common.run_driver(PROG, job, lambda: run(args, job))


def run(args, job: common.Job) -> dict:
    """Runs the shards as Ray tasks and merges their parts; returns the merged job."""
    import ray

    # The driver runs the merge: check it has the binary before joining the cluster. A relative
    # --docclass names a file of --working-dir, as the tasks see it.
    here = args.docclass
    if here and args.working_dir and not os.path.isabs(here):
        here = os.path.join(args.working_dir, here)
    binary = common.find_binary(here, common.no_shipped_copy, WAYS)
    # Tasks call into scaleout_common; pickled by value, workers need no copy of it.
    ray.cloudpickle.register_pickle_by_value(common)
    runtime_env = {"working_dir": args.working_dir} if args.working_dir else None
    ray.init(address=args.address, runtime_env=runtime_env)
    try:
        cpus = args.cpus_per_shard
        count = args.shards or max(1, int(ray.cluster_resources().get("CPU", 1)) // cpus)
        task = ray.remote(run_shard_task).options(
            num_cpus=cpus, max_retries=args.max_retries, retry_exceptions=True
        )
        records = ray.get([task.remote(args.docclass, job, i, count, cpus) for i in range(count)])
        for record in records:
            print(f"{PROG}: {common.shard_summary(record)}", file=sys.stderr)
        return common.merge(binary, job)
    finally:
        ray.shutdown()


def run_shard_task(docclass, job: common.Job, index: int, count: int, threads: int) -> dict:
    """One shard, on a worker: its binary and model as this node sees them."""
    binary = common.find_binary(docclass, common.no_shipped_copy, WAYS)
    model = common.worker_model(job.model, [os.getcwd()])
    return common.run_shard(binary, job, model, index, count, threads)


if __name__ == "__main__":
    sys.exit(main())
