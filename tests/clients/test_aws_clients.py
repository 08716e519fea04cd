"""The real AWS CLI and boto3 from PyPI against `docclass serve`: the reference page's example,
classifier training through the API, pagination, errors as the clients show them, signatures."""

import json
import re
import shutil
import tarfile

import boto3
import botocore
import pytest
from botocore.exceptions import ClientError

from conftest import REPO, Server, wait_for

ROLE = "arn:aws:iam::111122223333:role/service-role/AmazonComprehendServiceRole-example-role"
CLASSIFIER = "arn:aws:comprehend:us-west-2:111122223333:document-classifier/spam-ham"


def put_reference_inputs(server):
    folder = server.s3 / "amzn-s3-demo-bucket-input" / "jobdata"
    folder.mkdir(parents=True)
    for f in (REPO / "examples" / "sms").iterdir():
        shutil.copy(f, folder / f.name)
    (server.s3 / "amzn-s3-demo-destination-bucket").mkdir()


def read_predictions(path):
    with tarfile.open(path, "r|gz") as t:
        members = [(m.name, t.extractfile(m).read()) for m in t]
    assert [n for n, _ in members] == ["predictions.jsonl"]
    return [json.loads(line) for line in members[0][1].decode("ascii").splitlines()]


def test_reference_example_runs_as_written_with_the_aws_cli(server):
    put_reference_inputs(server)
    r = server.cli(
        "start-document-classification-job",
        "--job-name", "exampleclassificationjob",
        "--input-data-config", "S3Uri=s3://amzn-s3-demo-bucket-input/jobdata/",
        "--output-data-config", "S3Uri=s3://amzn-s3-demo-destination-bucket/testfolder/",
        "--data-access-role-arn", ROLE,
        "--document-classifier-arn", CLASSIFIER)
    assert r.returncode == 0, r.stderr
    started = json.loads(r.stdout)
    assert started["JobStatus"] == "SUBMITTED"
    job_id = started["JobId"]
    assert len(job_id) == 32 and all(c in "0123456789abcdef" for c in job_id)
    assert started["JobArn"] == f"arn:aws:comprehend:us-west-2:111122223333:document-classification-job/{job_id}"

    def describe():
        out = server.cli("describe-document-classification-job", "--job-id", job_id)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)["DocumentClassificationJobProperties"]

    props = wait_for(describe, lambda p: p["JobStatus"] in ("COMPLETED", "FAILED"))
    assert props["JobStatus"] == "COMPLETED", props
    archive = props["OutputDataConfig"]["S3Uri"]
    assert archive == (f"s3://amzn-s3-demo-destination-bucket/testfolder/111122223333-CLN-{job_id}"
                       "/output/output.tar.gz")
    assert props["InputDataConfig"] == {"S3Uri": "s3://amzn-s3-demo-bucket-input/jobdata/",
                                        "InputFormat": "ONE_DOC_PER_LINE"}
    lines = read_predictions(server.local(archive))
    assert [l["File"] for l in lines] == ["SampleSMStext1.txt", "SampleSMStext2.txt", "SampleSMStext3.txt"]
    assert [l["Line"] for l in lines] == ["0", "0", "0"]
    assert [l["Classes"][0]["Name"] for l in lines] == ["spam", "ham", "spam"]
    for l in lines:
        assert [c["Name"] for c in l["Classes"]] in (["spam", "ham"], ["ham", "spam"])
        assert abs(sum(c["Score"] for c in l["Classes"]) - 1) < 2e-4


def test_classifier_trained_through_the_api(server):
    data = server.s3 / "train-bucket"
    data.mkdir()
    shutil.copy(REPO / "tests" / "fixtures" / "sms_small.csv", data / "train.csv")
    c = server.client()
    arn = c.create_document_classifier(
        DocumentClassifierName="smsapi", VersionName="v1", DataAccessRoleArn=ROLE, LanguageCode="en",
        InputDataConfig={"S3Uri": "s3://train-bucket/train.csv"}, Mode="MULTI_CLASS",
        OutputDataConfig={"S3Uri": "s3://train-bucket/output"})["DocumentClassifierArn"]
    assert arn == "arn:aws:comprehend:us-west-2:111122223333:document-classifier/smsapi/version/v1"
    props = wait_for(lambda: c.describe_document_classifier(DocumentClassifierArn=arn)["DocumentClassifierProperties"],
                     lambda p: p["Status"] in ("TRAINED", "IN_ERROR"))
    assert props["Status"] == "TRAINED", props
    meta = props["ClassifierMetadata"]
    assert meta["NumberOfLabels"] == 2
    assert meta["NumberOfTrainedDocuments"] + meta["NumberOfTestDocuments"] == 24
    assert set(meta["EvaluationMetrics"]) >= {"Accuracy", "Precision", "Recall", "F1Score", "MicroPrecision",
                                               "MicroRecall", "MicroF1Score", "HammingLoss"}
    assert props["SubmitTime"].tzinfo is not None  # boto3 parsed the epoch timestamp
    # Comprehend's training output: <S3Uri>/<account>-CLR-<id>/output/output.tar.gz, and Describe points at it.
    out_uri = props["OutputDataConfig"]["S3Uri"]
    assert re.fullmatch(r"s3://train-bucket/output/111122223333-CLR-[0-9a-f]{32}/output/output\.tar\.gz", out_uri), out_uri
    with tarfile.open(server.local(out_uri)) as t:
        assert sorted(t.getnames()) == ["confusion_matrix.json", "report.html"]
        matrix = json.load(t.extractfile("confusion_matrix.json"))
        assert matrix["labels"] == ["ham", "spam"]
        assert b'id="confusion-matrix"' in t.extractfile("report.html").read()

    listed = c.list_document_classifiers()["DocumentClassifierPropertiesList"]
    assert arn in [p["DocumentClassifierArn"] for p in listed]
    with pytest.raises(c.exceptions.ResourceInUseException):
        c.create_document_classifier(DocumentClassifierName="smsapi", VersionName="v1", DataAccessRoleArn=ROLE,
                                     LanguageCode="en", InputDataConfig={"S3Uri": "s3://train-bucket/train.csv"})

    out = c.classify_document(Text="WINNER! Claim your free cash prize now, call 09061234567",
                              EndpointArn="arn:aws:comprehend:us-west-2:111122223333:document-classifier-endpoint/spam-ham")
    assert out["Classes"][0]["Name"] == "spam"
    assert 0 < out["Classes"][0]["Score"] <= 1
    with pytest.raises(c.exceptions.TextSizeLimitExceededException):
        c.classify_document(Text="x" * 10_001,
                            EndpointArn="arn:aws:comprehend:us-west-2:111122223333:document-classifier-endpoint/spam-ham")

    c.delete_document_classifier(DocumentClassifierArn=arn)
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        c.describe_document_classifier(DocumentClassifierArn=arn)


def test_bad_training_data_ends_in_error_with_the_reason(server):
    data = server.s3 / "train-bucket"
    data.mkdir()
    (data / "few.csv").write_text("ham,hello\nspam,win\n")
    c = server.client()
    arn = c.create_document_classifier(
        DocumentClassifierName="few", DataAccessRoleArn=ROLE, LanguageCode="en",
        InputDataConfig={"S3Uri": "s3://train-bucket/few.csv"})["DocumentClassifierArn"]
    props = wait_for(lambda: c.describe_document_classifier(DocumentClassifierArn=arn)["DocumentClassifierProperties"],
                     lambda p: p["Status"] in ("TRAINED", "IN_ERROR"))
    assert props["Status"] == "IN_ERROR"
    assert "at least 10 examples" in props["Message"]


def test_pagination_and_idempotent_start(server):
    put_reference_inputs(server)
    c = server.client()
    ids = set()
    for i in range(7):
        r = c.start_document_classification_job(
            JobName=f"job{i}", DocumentClassifierArn=CLASSIFIER, DataAccessRoleArn=ROLE,
            InputDataConfig={"S3Uri": "s3://amzn-s3-demo-bucket-input/jobdata/"},
            OutputDataConfig={"S3Uri": "s3://amzn-s3-demo-destination-bucket/p/"},
            ClientRequestToken=f"token-{i}")
        ids.add(r["JobId"])
    again = c.start_document_classification_job(
        JobName="job0", DocumentClassifierArn=CLASSIFIER, DataAccessRoleArn=ROLE,
        InputDataConfig={"S3Uri": "s3://amzn-s3-demo-bucket-input/jobdata/"},
        OutputDataConfig={"S3Uri": "s3://amzn-s3-demo-destination-bucket/p/"}, ClientRequestToken="token-0")
    assert again["JobId"] in ids and len(ids) == 7

    pages = list(c.get_paginator("list_document_classification_jobs").paginate(PaginationConfig={"PageSize": 3}))
    assert len(pages) == 3
    assert {p["JobId"] for page in pages for p in page["DocumentClassificationJobPropertiesList"]} == ids

    r = server.cli("list-document-classification-jobs", "--page-size", "2")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["DocumentClassificationJobPropertiesList"]) == 7

    done = wait_for(lambda: c.list_document_classification_jobs(Filter={"JobStatus": "COMPLETED"}),
                    lambda v: len(v["DocumentClassificationJobPropertiesList"]) == 7)
    assert len(done["DocumentClassificationJobPropertiesList"]) == 7
    named = c.list_document_classification_jobs(Filter={"JobName": "job3"})["DocumentClassificationJobPropertiesList"]
    assert [j["JobName"] for j in named] == ["job3"]
    with pytest.raises(c.exceptions.InvalidFilterException):
        c.list_document_classification_jobs(Filter={"JobName": "job3", "JobStatus": "COMPLETED"})
    # Classifiers too take one filter member at a time.
    with pytest.raises(c.exceptions.InvalidFilterException):
        c.list_document_classifiers(Filter={"Status": "TRAINED", "DocumentClassifierName": "x"})


def test_errors_as_the_clients_show_them(server):
    c = server.client()
    with pytest.raises(c.exceptions.JobNotFoundException):
        c.describe_document_classification_job(JobId="0123456789abcdef0123456789abcdef")
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        c.describe_document_classifier(
            DocumentClassifierArn="arn:aws:comprehend:us-west-2:111122223333:document-classifier/nope")
    with pytest.raises(c.exceptions.InvalidRequestException) as e:
        c.start_document_classification_job(
            JobName="bad<name>", DocumentClassifierArn=CLASSIFIER, DataAccessRoleArn=ROLE,
            InputDataConfig={"S3Uri": "s3://in-bucket/x/"}, OutputDataConfig={"S3Uri": "s3://out-bucket/"})
    assert "JobName" in str(e.value)
    with pytest.raises(c.exceptions.InvalidRequestException) as e:
        c.start_document_classification_job(
            DocumentClassifierArn=CLASSIFIER, DataAccessRoleArn="arn:aws:iam::111122223333:user/not-a-role",
            InputDataConfig={"S3Uri": "s3://in-bucket/x/"}, OutputDataConfig={"S3Uri": "s3://out-bucket/"})
    assert "DataAccessRoleArn" in str(e.value)
    with pytest.raises(c.exceptions.InvalidRequestException) as e:
        c.start_document_classification_job(
            DocumentClassifierArn=CLASSIFIER, DataAccessRoleArn=ROLE,
            InputDataConfig={"S3Uri": "s3://in-bucket/../../etc/"}, OutputDataConfig={"S3Uri": "s3://out-bucket/"})
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        c.start_document_classification_job(
            DocumentClassifierArn="arn:aws:comprehend:us-west-2:111122223333:document-classifier/missing",
            DataAccessRoleArn=ROLE, InputDataConfig={"S3Uri": "s3://in-bucket/x/"},
            OutputDataConfig={"S3Uri": "s3://out-bucket/"})
    with pytest.raises(ClientError) as e:
        c.detect_sentiment(Text="hello", LanguageCode="en")
    assert e.value.response["Error"]["Code"] == "UnknownOperationException"

    r = server.cli("describe-document-classification-job", "--job-id", "0123456789abcdef0123456789abcdef")
    assert r.returncode == 255
    assert "An error occurred (JobNotFoundException) when calling the DescribeDocumentClassificationJob operation" in r.stderr


def test_tampered_or_unknown_signatures_are_refused(server):
    put_reference_inputs(server)
    with pytest.raises(ClientError) as e:
        server.client(secret="not-the-secret").list_document_classification_jobs()
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"
    with pytest.raises(ClientError) as e:
        server.client(key="AKIDUNKNOWN").list_document_classification_jobs()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
    r = server.cli("start-document-classification-job", "--document-classifier-arn", CLASSIFIER,
                   "--input-data-config", "S3Uri=s3://amzn-s3-demo-bucket-input/jobdata/",
                   "--output-data-config", "S3Uri=s3://amzn-s3-demo-destination-bucket/x/",
                   "--data-access-role-arn", ROLE, secret="wrong")
    assert r.returncode == 255 and "InvalidSignatureException" in r.stderr
    # A refused request did nothing.
    assert server.client().list_document_classification_jobs()["DocumentClassificationJobPropertiesList"] == []
    unsigned = boto3.client("comprehend", endpoint_url=server.endpoint, region_name="us-west-2",
                            config=botocore.config.Config(signature_version=botocore.UNSIGNED))
    with pytest.raises(ClientError) as e:
        unsigned.list_document_classification_jobs()
    assert e.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"


def test_records_survive_a_restart(server):
    put_reference_inputs(server)
    c = server.client()
    job = c.start_document_classification_job(
        DocumentClassifierArn=CLASSIFIER, DataAccessRoleArn=ROLE,
        InputDataConfig={"S3Uri": "s3://amzn-s3-demo-bucket-input/jobdata/"},
        OutputDataConfig={"S3Uri": "s3://amzn-s3-demo-destination-bucket/r/"})["JobId"]
    wait_for(lambda: c.describe_document_classification_job(JobId=job)["DocumentClassificationJobProperties"],
             lambda p: p["JobStatus"] == "COMPLETED")
    server.stop()
    server.start()
    props = server.client().describe_document_classification_job(JobId=job)["DocumentClassificationJobProperties"]
    assert props["JobStatus"] == "COMPLETED"


def test_jobs_read_and_write_real_s3_when_the_service_has_no_s3_root(s3, tmp_path):
    # The service reads its input from, and writes its archive to, a real S3 server; boto3's own
    # S3 client puts the documents there and fetches the result.
    server = Server(tmp_path, s3_endpoint=s3.endpoint)
    shutil.copytree(REPO / "models" / "spam-ham", server.models / "spam-ham")
    server.start()
    try:
        for bucket in ("in-bucket", "out-bucket"):
            s3.create_bucket(Bucket=bucket)
        for f in sorted((REPO / "examples" / "sms").iterdir()):
            s3.put_object(Bucket="in-bucket", Key=f"jobdata/{f.name}", Body=f.read_bytes())
        comprehend = server.client()
        job_id = comprehend.start_document_classification_job(
            JobName="real-s3", DocumentClassifierArn=CLASSIFIER, DataAccessRoleArn=ROLE,
            InputDataConfig={"S3Uri": "s3://in-bucket/jobdata/", "InputFormat": "ONE_DOC_PER_FILE"},
            OutputDataConfig={"S3Uri": "s3://out-bucket/results/"})["JobId"]
        props = wait_for(
            lambda: comprehend.describe_document_classification_job(JobId=job_id)["DocumentClassificationJobProperties"],
            lambda p: p["JobStatus"] in ("COMPLETED", "FAILED"))
        assert props["JobStatus"] == "COMPLETED", props
        key = f"results/111122223333-CLN-{job_id}/output/output.tar.gz"
        assert props["OutputDataConfig"]["S3Uri"] == f"s3://out-bucket/{key}"
        archive = tmp_path / "output.tar.gz"
        archive.write_bytes(s3.get_object(Bucket="out-bucket", Key=key)["Body"].read())
        lines = read_predictions(archive)
        assert [l["Classes"][0]["Name"] for l in lines] == ["spam", "ham", "spam"]

        # A bucket that is not there: the job fails with the URI in its message, nothing written.
        bad = comprehend.start_document_classification_job(
            DocumentClassifierArn=CLASSIFIER, DataAccessRoleArn=ROLE,
            InputDataConfig={"S3Uri": "s3://no-such-bucket/jobdata/"},
            OutputDataConfig={"S3Uri": "s3://out-bucket/failed/"})["JobId"]
        props = wait_for(
            lambda: comprehend.describe_document_classification_job(JobId=bad)["DocumentClassificationJobProperties"],
            lambda p: p["JobStatus"] in ("COMPLETED", "FAILED"))
        assert props["JobStatus"] == "FAILED"
        assert "s3://no-such-bucket/jobdata/" in props["Message"]
        assert s3.list_objects_v2(Bucket="out-bucket", Prefix="failed/")["KeyCount"] == 0
    finally:
        server.stop()


def test_throttled_requests_are_retried_by_the_sdk(tmp_path):
    # One request at a time: concurrent boto3 clients get TooManyRequestsException (HTTP 429),
    # which botocore's standard retry mode treats as throttling, so every call still succeeds.
    # (tests/it/service.rs holds the only slot deterministically and checks the refusal itself.)
    server = Server(tmp_path, extra_args=["--max-inflight-requests", "1"])
    server.s3.mkdir()
    shutil.copytree(REPO / "models" / "spam-ham", server.models / "spam-ham")
    server.start()
    try:
        from concurrent.futures import ThreadPoolExecutor
        endpoint_arn = "arn:aws:comprehend:us-west-2:111122223333:document-classifier-endpoint/spam-ham"
        retried = botocore.config.Config(retries={"max_attempts": 20, "mode": "standard"})

        def hammer(client):
            return [client.classify_document(Text="WIN a FREE prize now", EndpointArn=endpoint_arn)
                    ["Classes"][0]["Name"] for _ in range(40)]

        with ThreadPoolExecutor(8) as pool:
            done = [o for r in pool.map(hammer, [server.client(config=retried) for _ in range(8)]) for o in r]
        assert done == ["spam"] * 320
    finally:
        server.stop()
