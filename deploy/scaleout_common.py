"""What the Spark and Ray runners share: the job's arguments, one shard's `docclass classify`
in a subprocess, and `docclass merge` on the driver.

The engines only schedule. Each task runs the docclass binary for one shard, whose part is
written atomically (so a retried or speculative copy rewrites the same bytes), and the driver
merges the parts once every task has succeeded. This module imports neither pyspark nor ray:
the runners register it to be pickled by value, so workers need no copy of it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from typing import Callable, Optional

INPUT_FORMATS = ("ONE_DOC_PER_LINE", "ONE_DOC_PER_FILE")

# Set by the runner for every shard; given again after `--` they would contradict it. The first
# ones are the runner's own options too.
JOB_FLAGS = frozenset(["--input", "--model", "--output", "--input-format", "--job-id"])
RUNNER_FLAGS = JOB_FLAGS | {"--shard-index", "--shard-count", "-q", "--quiet"}

# Flags of `classify` that `merge` takes too: forwarded to both, so the merge looks where the
# shards wrote and records the job in the same account and store.
MERGE_FLAGS = frozenset(
    ["--job-store", "--s3-root", "--model-registry", "--region", "--account-id",
     "--endpoint-url", "--profile"]
)

# Lines of a failed shard's stderr kept in the task's error (the engine shows it in its log).
STDERR_LINES = 20


class ShardError(Exception):
    """A shard cannot be run or failed; raised in the task so that the engine retries it. Its
    first line is the one-line reason the driver prints."""


class DriverError(Exception):
    """The driver cannot go on (no binary, a failed merge)."""


@dataclass(frozen=True)
class Job:
    """One classification job: what every shard and the merge are run with."""

    input: str
    model: str
    output: str
    input_format: Optional[str]
    job_id: str
    extra: tuple  # further classify flags, passed after `--`


class _OneLineParser(argparse.ArgumentParser):
    """A bad argument is one line naming it (argparse's own words), exit code 2 as docclass."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        sys.exit(2)


def _job_id(value: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{1,32}", value):
        raise argparse.ArgumentTypeError(f"expected 1-32 lowercase hex digits, got '{value}'")
    return value


def positive_int(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got '{value}'")
    return number


def job_parser(prog: str, description: str, shards_default: str) -> argparse.ArgumentParser:
    """The options every runner takes; a runner adds its engine's own."""
    p = _OneLineParser(
        prog=prog,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Further `docclass classify` flags go after `--`, e.g. `-- --job-store DIR "
        "--endpoint-url URL`; those `docclass merge` also takes are given to it too.",
    )
    p.add_argument("--input", required=True, help="input file or prefix: a path every worker sees, or s3://")
    p.add_argument("--model", required=True, help="model folder (on every worker), registry name or classifier ARN")
    p.add_argument("--output", required=True, help="output prefix: a path every worker and the driver see, or s3://")
    p.add_argument("--input-format", choices=INPUT_FORMATS, help="default: ONE_DOC_PER_LINE")
    p.add_argument("--job-id", type=_job_id, help="default: a fresh 32-hex-digit id")
    p.add_argument("--shards", type=positive_int, help=f"number of shards, one task each (default: {shards_default})")
    p.add_argument("--docclass", metavar="PATH", help="the docclass binary, at this path on every worker and the driver")
    return p


def parse_job(parser: argparse.ArgumentParser, argv: list) -> tuple:
    """The runner's options and the job; everything after the first `--` is passed to classify."""
    ours, extra = _split_at_dashes(argv)
    args = parser.parse_args(ours)
    for arg in extra:
        flag = arg.split("=", 1)[0]
        if flag in RUNNER_FLAGS:
            where = "give it before `--`" if flag in JOB_FLAGS else "leave it out"
            parser.error(f"argument {flag} after `--`: the runner sets it for every shard; {where}")
    job = Job(
        input=_absolute(args.input),
        model=_absolute(args.model) if os.path.exists(args.model) else args.model,
        output=_absolute(args.output),
        input_format=args.input_format,
        job_id=args.job_id or uuid.uuid4().hex,
        extra=tuple(extra),
    )
    return args, job


def _split_at_dashes(argv: list) -> tuple:
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1:]
    return argv, []


def _absolute(location: str) -> str:
    """Local paths made absolute on the driver: a task's working directory is the engine's
    choice, not the user's. URIs (s3://, file://) are left as they are. A trailing slash is
    kept: `in/` is the folder's files, `in` a prefix that also matches `in-old.txt`, and the
    output's File names are relative to what it names."""
    if "://" in location:
        return location
    absolute = os.path.abspath(location)
    return absolute + os.sep if location.endswith(("/", os.sep)) and absolute != os.sep else absolute


def classify_command(binary: str, job: Job, model: str, index: int, count: int, threads: int) -> list:
    """One shard's `docclass classify`. `--threads` is the task's share of the machine unless
    the job's own flags set it: the engine runs several tasks per machine."""
    cmd = [binary, "classify", "--input", job.input, "--model", model, "--output", job.output]
    if job.input_format:
        cmd += ["--input-format", job.input_format]
    if not any(a.split("=", 1)[0] == "--threads" for a in job.extra):
        cmd += ["--threads", str(threads)]
    cmd += ["--job-id", job.job_id, "--shard-index", str(index), "--shard-count", str(count), "-q"]
    return cmd + list(job.extra)


def merge_command(binary: str, job: Job) -> list:
    """`docclass merge` with the job's flags that merge understands."""
    return [binary, "merge", "--output", job.output, "--job-id", job.job_id] + merge_flags(job.extra)


def merge_flags(extra: tuple) -> list:
    """The flags of `extra` (as `--flag value` or `--flag=value`) that merge also takes."""
    kept, i = [], 0
    while i < len(extra):
        flag = extra[i].split("=", 1)[0]
        takes_next = "=" not in extra[i] and i + 1 < len(extra)
        width = 2 if takes_next and flag in MERGE_FLAGS else 1
        if flag in MERGE_FLAGS:
            kept += extra[i:i + width]
        i += width
    return kept


def find_binary(explicit: Optional[str], shipped: Callable[[], Optional[str]], ways: str) -> str:
    """The docclass binary on this machine: the explicit path, else the engine's shipped copy,
    else `docclass` on PATH. Missing, it says every way to provide it."""
    where = f"on {socket.gethostname()}"
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return os.path.abspath(explicit)
        raise ShardError(f"--docclass {explicit}: no executable file there {where}; {ways}")
    found = shipped() or shutil.which("docclass")
    if not found:
        raise ShardError(f"no docclass binary {where}; {ways}")
    return found


def no_shipped_copy() -> Optional[str]:
    """For engines that ship no files of their own: nothing to find."""
    return None


def worker_model(model: str, shipped_dirs: list) -> str:
    """The model as this worker sees it: the folder given, else a folder of the same name
    shipped with the job into one of `shipped_dirs`. A registry name or ARN is left as given."""
    if os.path.exists(model) or model.startswith("arn:"):
        return model
    name = os.path.basename(model.rstrip("/"))
    for folder in shipped_dirs:
        candidate = os.path.join(folder, name)
        if os.path.isdir(candidate):
            return candidate
    return model


def run_shard(binary: str, job: Job, model: str, index: int, count: int, threads: int) -> dict:
    """Runs one shard to completion and returns its part record. A failure raises ShardError,
    which the engine sees as a failed task and retries."""
    proc = subprocess.run(
        classify_command(binary, job, model, index, count, threads),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
    )
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        last = lines[-1] if lines else "no message on stderr"
        raise ShardError(
            f"shard {index} of {count} of job {job.job_id} on {socket.gethostname()}: "
            f"docclass {_exit_text(proc.returncode)}: {last}\n" + "\n".join(lines[-STDERR_LINES:])
        )
    return json.loads(proc.stdout)


def merge(binary: str, job: Job) -> dict:
    """`docclass merge` on the driver; returns the merged job's record."""
    proc = subprocess.run(
        merge_command(binary, job), stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace"
    )
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()] or ["no message on stderr"]
        raise DriverError(f"docclass merge {_exit_text(proc.returncode)}: {lines[-1]}")
    return json.loads(proc.stdout)


def _exit_text(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited {code}"


def shard_summary(record: dict, attempt: Optional[int] = None) -> str:
    """One line per finished shard, for the driver's stderr."""
    counts = record.get("Counts", {})
    line = (
        f"shard {record.get('ShardIndex')} of {record.get('ShardCount')}: "
        f"{counts.get('Documents', 0)} documents, {counts.get('Errors', 0)} errors"
    )
    return line if attempt is None else f"{line}, attempt {attempt}"


def failure_reason(err: BaseException) -> str:
    """One line for any failure. Engines wrap a task's exception in their own (with Java or
    Python tracebacks); the shard's own message is found inside it."""
    text = str(err)
    found = re.search(r"ShardError: ([^\n]+)", text)
    if found:
        return found.group(1)
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(err).__name__)
    return first[:400]


def run_driver(prog: str, job: Job, run: Callable[[], dict]) -> int:
    """Runs the engine's part of the job, prints the merged job's JSON; on failure one line
    on stderr and exit code 1."""
    print(f"{prog}: job {job.job_id}", file=sys.stderr)
    try:
        merged = run()
    except KeyboardInterrupt:
        print(f"{prog}: error: job {job.job_id}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # the engines raise their own types; all end the job alike
        print(f"{prog}: error: job {job.job_id}: {failure_reason(err)}", file=sys.stderr)
        return 1
    print(json.dumps(merged, indent=2))
    return 0
