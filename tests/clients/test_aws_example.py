"""The flow of AWS's own Python example for Comprehend custom classification (the SDK code
examples' `comprehend_classifier_demo.py`), through boto3 against `docclass serve` and a real S3
server (s3s-fs): training data written as the example writes it, a MULTI_LABEL classifier created
with the example's arguments and awaited with its waiter model, a job over issue-like lines, and
the output read back and reconciled at the example's 0.3 threshold.

The example itself downloads GitHub issues and creates an IAM role, which an offline machine
cannot; this test generates issues of the same shape (titles and bodies with quotes, code, JSON,
commas turned into `;` and line breaks into spaces, labels joined with `|` in set order, rows
joined with `\\n` and no trailing newline, no quoting at all) and uses a fixed role ARN, and
otherwise makes the example's calls with its arguments."""

import io
import json
import random
import tarfile

import botocore.waiter

from conftest import Server

LABELS = ["bug", "feature-request", "dynamodb", "s3"]
ROLE = "arn:aws:iam::111122223333:role/comprehend-classifier-demo-role"

WORDS = {
    "bug": "error exception traceback crash fails broken raises unexpected regression wrong",
    "feature-request": "please add support would be nice option allow request feature proposal",
    "dynamodb": "dynamodb table item query scan partition key attribute put_item batch",
    "s3": "s3 bucket object upload download presigned multipart key prefix put_object",
}
FILLER = ("the when with using after version boto3 python client call returns "
          "code sample we see this our it in on").split()
QUOTED = ['"Darwin fish"', '"NoneType" object', 'the "Key" field', '"us-east-1"',
          '{"Bucket": "my-bucket"}', "it's", 'a "quoted" word']


def sanitize(text):
    # What the example does to every title and body before writing a row.
    return text.replace("\r", " ").replace("\n", " ").replace(",", ";")


def issue(rng, labels, with_quote):
    words = [w for label in labels for w in WORDS[label].split()]
    title = " ".join(rng.choice(words) for _ in range(rng.randint(3, 7)))
    body_words = [rng.choice(words if rng.random() < 0.35 else FILLER) for _ in range(rng.randint(15, 60))]
    if with_quote:
        body_words.insert(rng.randrange(len(body_words)), rng.choice(QUOTED))
    body = " ".join(body_words) + ",\n```\nTraceback (most recent call last):\n  File \"x.py\", line 3\n```"
    if rng.random() < 0.2:
        title = '"' + title + '" fails' if with_quote else title
    return {"title": sanitize(title), "body": sanitize(body), "labels": set(labels)}


def issues(rng, count, quoted):
    out = []
    for k in range(count):
        first = LABELS[k % len(LABELS)]
        labels = [first]
        if rng.random() < 0.3:
            labels.append(rng.choice([l for l in LABELS if l != first]))
        out.append(issue(rng, labels, with_quote=k in quoted))
    return out


def waiter(client, name, operation, path, acceptors):
    # The example's CustomWaiter: a botocore waiter model polling one path (delay shortened).
    model = botocore.waiter.WaiterModel({"version": 2, "waiters": {name: {
        "delay": 1, "operation": operation, "maxAttempts": 300,
        "acceptors": [{"state": state, "matcher": "path", "argument": path, "expected": value}
                      for value, state in acceptors]}}})
    return botocore.waiter.create_waiter_with_client(name, model, client)


def test_the_aws_example_flow_trains_on_unquoted_rows_with_stray_quotes(tmp_path, s3):
    rng = random.Random(20261205)
    quoted = set(rng.sample(range(800), 354))
    training = issues(rng, 800, quoted)
    rows = [f"{'|'.join(i['labels'])},{i['title']} {i['body']}" for i in training]
    assert sum('"' in r for r in rows) >= 354
    bucket = "doc-example-bucket-5eed"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="training/issues.txt", Body="\n".join(rows).encode("utf-8"))

    server = Server(tmp_path / "svc", s3_endpoint=s3.endpoint)
    server.root.mkdir()
    server.start()
    try:
        comprehend = server.client()
        arn = comprehend.create_document_classifier(
            DocumentClassifierName="doc-example-classifier",
            LanguageCode="en",
            InputDataConfig={"S3Uri": f"s3://{bucket}/training/"},
            DataAccessRoleArn=ROLE,
            Mode="MULTI_LABEL",
        )["DocumentClassifierArn"]
        waiter(comprehend, "ClassifierTrained", "DescribeDocumentClassifier",
               "DocumentClassifierProperties.Status",
               [("TRAINED", "success"), ("IN_ERROR", "failure")]).wait(DocumentClassifierArn=arn)
        props = comprehend.describe_document_classifier(DocumentClassifierArn=arn)[
            "DocumentClassifierProperties"]
        assert props["Status"] == "TRAINED", props.get("Message")
        meta = props["ClassifierMetadata"]
        assert meta["NumberOfLabels"] == 4
        # Every row read as one document: none swallowed into a neighbour by a quote.
        assert meta["NumberOfTrainedDocuments"] + meta["NumberOfTestDocuments"] == 800
        # Defaults the AWS CLI's documented outputs show.
        assert props["InputDataConfig"]["DataFormat"] == "COMPREHEND_CSV"

        inputs = issues(random.Random(7), 20, quoted={0, 3, 9})
        s3.put_object(Bucket=bucket, Key="input/issues.txt",
                      Body="\n".join(f"{i['title']} {i['body']}" for i in inputs).encode("utf-8"))
        job_id = comprehend.start_document_classification_job(
            DocumentClassifierArn=arn,
            JobName="issue_classification_job",
            InputDataConfig={"S3Uri": f"s3://{bucket}/input/", "InputFormat": "ONE_DOC_PER_LINE"},
            OutputDataConfig={"S3Uri": f"s3://{bucket}/output/"},
            DataAccessRoleArn=ROLE,
        )["JobId"]
        waiter(comprehend, "JobComplete", "DescribeDocumentClassificationJob",
               "DocumentClassificationJobProperties.JobStatus",
               [("COMPLETED", "success"), ("FAILED", "failure")]).wait(JobId=job_id)
        job = comprehend.describe_document_classification_job(JobId=job_id)[
            "DocumentClassificationJobProperties"]

        # The example downloads exactly the key in OutputDataConfig.S3Uri and opens it as a
        # gzipped tar of .jsonl/.csv members.
        key = job["OutputDataConfig"]["S3Uri"].split(bucket + "/")[1]
        body = io.BytesIO()
        s3.download_fileobj(bucket, key, body)
        body.seek(0)
        archive = tarfile.open(fileobj=body, mode="r:gz")
        assert archive.getnames() == ["predictions.jsonl"]
        lines = [json.loads(l) for l in archive.extractfile("predictions.jsonl").read().decode().strip().splitlines()]
        assert sorted(int(l["Line"]) for l in lines) == list(range(20))
        found = 0
        for line in lines:
            assert all(0.0 <= float(label["Score"]) <= 1.0 for label in line["Labels"])
            out = {label["Name"] for label in line["Labels"] if float(label["Score"]) > 0.3}
            assert out <= set(LABELS)
            found += bool(out & inputs[int(line["Line"])]["labels"])
        # The example's reconciliation keeps labels over 0.3: most lines get a right one.
        assert found >= 16, f"only {found} of 20 lines have a right label over 0.3"
        comprehend.delete_document_classifier(DocumentClassifierArn=arn)
    finally:
        server.stop()
