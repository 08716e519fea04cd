#!/usr/bin/env bash
# A docclass job as an AWS Batch array job of SHARDS children, then a merge that depends on it.
# Children read AWS_BATCH_JOB_ARRAY_INDEX/AWS_BATCH_JOB_ARRAY_SIZE as their shard, and the parent
# job id (AWS_BATCH_JOB_ID = <parent uuid>:<index>, hyphens dropped) as the docclass job id; the
# merge job has its own id, so it is given the parent's explicitly.
# Usage: QUEUE=my-queue deploy/aws-batch/submit.sh [SHARDS]
# Not exercised in CI here (no AWS account on this machine); see the README.
set -euo pipefail
shards="${1:-8}"
queue="${QUEUE:?set QUEUE to your AWS Batch job queue}"
here="$(cd "$(dirname "$0")" && pwd)"

aws batch register-job-definition --cli-input-json "file://$here/job-definition.json" >/dev/null
array_id="$(aws batch submit-job --job-name docclass-shards --job-queue "$queue" \
  --job-definition docclass-classify --array-properties "size=$shards" \
  --query jobId --output text)"
job_id="$(echo "$array_id" | tr -d - | tr 'A-F' 'a-f')"
aws batch submit-job --job-name docclass-merge --job-queue "$queue" \
  --job-definition docclass-classify --depends-on "jobId=$array_id" \
  --container-overrides "command=merge,--output,s3://out-bucket/results/,--job-id,$job_id" \
  --query jobId --output text
echo "array job $array_id; results: s3://out-bucket/results/000000000000-CLN-$job_id/output/output.tar.gz"
