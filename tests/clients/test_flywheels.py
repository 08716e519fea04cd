"""Flywheels through the real AWS CLI and boto3 against `docclass serve`: a flywheel made from an
active model, TRAIN and TEST datasets, an iteration that trains a better version on the
accumulated data, promotion, a job and an endpoint that follow it, and long work (an iteration,
a job over millions of lines) that finishes after the server is killed and started again.

The accumulated data is the SMS corpus of ../shared/data (CI has it; the test fails, not skips,
without it)."""

import json
import shutil
import signal
import subprocess
import time

import pytest

from conftest import REPO, wait_for

ROLE = "arn:aws:iam::111122223333:role/service-role/AmazonComprehendServiceRole-example-role"
SMS = REPO.parent / "shared" / "data" / "sms_spam" / "train.csv"


def sms_rows():
    assert SMS.is_file(), f"{SMS} is missing: the flywheel client tests train on ../shared/data"
    return SMS.read_text(encoding="utf-8").splitlines(keepends=True)


def put(server, uri, text):
    path = server.local(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def cli_json(server, *args):
    out = server.cli(*args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else {}


def settled(get, key, states, timeout=300):
    value = wait_for(get, lambda v: v[key] in states, timeout=timeout)
    assert value[key] in states, value
    return value


def train_v1(server, c):
    """The active model: a first version trained on 24 messages."""
    put(server, "s3://train-bucket/v1.csv", (REPO / "tests" / "fixtures" / "sms_small.csv").read_text())
    arn = c.create_document_classifier(
        DocumentClassifierName="sms", VersionName="v1", DataAccessRoleArn=ROLE, LanguageCode="en",
        InputDataConfig={"S3Uri": "s3://train-bucket/v1.csv"}, Mode="MULTI_CLASS")["DocumentClassifierArn"]
    settled(lambda: c.describe_document_classifier(DocumentClassifierArn=arn)["DocumentClassifierProperties"],
            "Status", ("TRAINED", "IN_ERROR"))
    return arn


def test_a_flywheel_improves_the_model_and_jobs_and_endpoints_follow(server):
    c = server.client()
    rows = sms_rows()
    v1 = train_v1(server, c)

    fw = c.create_flywheel(FlywheelName="sms-flywheel", ActiveModelArn=v1, DataAccessRoleArn=ROLE,
                           DataLakeS3Uri="s3://lake-bucket/flywheels", Tags=[{"Key": "team", "Value": "ops"}])
    arn = fw["FlywheelArn"]
    assert arn == "arn:aws:comprehend:us-west-2:111122223333:flywheel/sms-flywheel"
    assert fw["ActiveModelArn"] == v1
    props = settled(lambda: c.describe_flywheel(FlywheelArn=arn)["FlywheelProperties"], "Status",
                    ("ACTIVE", "FAILED"))
    assert props["Status"] == "ACTIVE", props
    assert props["ModelType"] == "DOCUMENT_CLASSIFIER"
    assert props["DataLakeS3Uri"].startswith("s3://lake-bucket/flywheels/sms-flywheel/schemaVersion=1/")
    assert c.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ops"}]
    summaries = c.list_flywheels()["FlywheelSummaryList"]
    assert [s["FlywheelArn"] for s in summaries] == [arn]

    # The accumulated data: 1,500 more messages to train on and 900 to test on, through the AWS CLI.
    put(server, "s3://data-bucket/train/more.csv", "".join(rows[:1500]))
    put(server, "s3://data-bucket/test/test.csv", "".join(rows[3500:4400]))
    for name, kind, uri in (("more", "TRAIN", "s3://data-bucket/train/"), ("held-out", "TEST", "s3://data-bucket/test/test.csv")):
        out = cli_json(server, "create-dataset", "--flywheel-arn", arn, "--dataset-name", name,
                       "--dataset-type", kind, "--input-data-config",
                       json.dumps({"DataFormat": "COMPREHEND_CSV",
                                   "DocumentClassifierInputDataConfig": {"S3Uri": uri}}))
        assert out["DatasetArn"] == f"{arn}/dataset/{name}"
        d = settled(lambda: c.describe_dataset(DatasetArn=out["DatasetArn"])["DatasetProperties"], "Status",
                    ("COMPLETED", "FAILED"))
        assert d["Status"] == "COMPLETED", d
        assert d["DatasetS3Uri"].startswith(props["DataLakeS3Uri"] + f"datasets/{name}/")
    # The originals may go: the lake holds copies.
    shutil.rmtree(server.local("s3://data-bucket/train/"))
    listed = c.list_datasets(FlywheelArn=arn)["DatasetPropertiesList"]
    counts = {d["DatasetName"]: d["NumberOfDocuments"] for d in listed}
    assert counts == {"active-model-train": 24, "more": 1500, "held-out": 900}
    assert [d["DatasetName"] for d in c.list_datasets(FlywheelArn=arn, Filter={"DatasetType": "TEST"})
            ["DatasetPropertiesList"]] == ["held-out"]

    # An endpoint that follows the flywheel, serving v1 for now.
    ep = c.create_endpoint(EndpointName="sms-live", FlywheelArn=arn, DesiredInferenceUnits=1)
    assert ep["ModelArn"] == v1
    settled(lambda: c.describe_endpoint(EndpointArn=ep["EndpointArn"])["EndpointProperties"], "Status",
            ("IN_SERVICE", "FAILED"))

    it = c.start_flywheel_iteration(FlywheelArn=arn)
    assert it["FlywheelArn"] == arn
    iteration = settled(lambda: c.describe_flywheel_iteration(FlywheelArn=arn, FlywheelIterationId=it[
        "FlywheelIterationId"])["FlywheelIterationProperties"], "Status", ("COMPLETED", "FAILED"))
    assert iteration["Status"] == "COMPLETED", iteration
    assert iteration["Message"].startswith("FULL_ITERATION")
    assert iteration["EvaluatedModelArn"] == v1
    v2 = iteration["TrainedModelArn"]
    assert v2 == f"arn:aws:comprehend:us-west-2:111122223333:document-classifier/sms/version/{it['FlywheelIterationId']}"
    new, old = iteration["TrainedModelMetrics"], iteration["EvaluatedModelMetrics"]
    assert set(new) == {"AverageF1Score", "AveragePrecision", "AverageRecall", "AverageAccuracy"}
    # Trained on 1,524 messages instead of 24, the new version is better on the same 900.
    assert new["AverageF1Score"] > old["AverageF1Score"] + 0.05, (new, old)
    assert new["AverageAccuracy"] > 0.95, new
    assert iteration["EvaluationManifestS3Prefix"] == props["DataLakeS3Uri"] + f"evaluation/{it['FlywheelIterationId']}/"
    manifest = json.loads(server.local(iteration["EvaluationManifestS3Prefix"] + "evaluation.json").read_text())
    assert manifest["TestDocuments"] == 900
    assert server.local(iteration["EvaluationManifestS3Prefix"] + "report.html").is_file()
    # The AWS CLI shows the same record, and the history lists it.
    described = cli_json(server, "describe-flywheel-iteration", "--flywheel-arn", arn,
                         "--flywheel-iteration-id", it["FlywheelIterationId"])
    assert described["FlywheelIterationProperties"]["TrainedModelArn"] == v2
    history = cli_json(server, "list-flywheel-iteration-history", "--flywheel-arn", arn)
    assert [h["FlywheelIterationId"] for h in history["FlywheelIterationPropertiesList"]] == [it["FlywheelIterationId"]]
    version = c.describe_document_classifier(DocumentClassifierArn=v2)["DocumentClassifierProperties"]
    assert version["Status"] == "TRAINED"
    assert version["FlywheelArn"] == arn

    # Promotion, through the AWS CLI; the endpoint follows.
    updated = cli_json(server, "update-flywheel", "--flywheel-arn", arn, "--active-model-arn", v2)
    assert updated["FlywheelProperties"]["ActiveModelArn"] == v2
    endpoint = wait_for(lambda: c.describe_endpoint(EndpointArn=ep["EndpointArn"])["EndpointProperties"],
                        lambda e: e["Status"] == "IN_SERVICE" and e["ModelArn"] == v2)
    assert endpoint["ModelArn"] == v2 and endpoint["FlywheelArn"] == arn, endpoint
    spam = c.classify_document(Text="URGENT! You have won a 2000 cash prize. Call 09061701461 to claim now",
                               EndpointArn=ep["EndpointArn"])
    assert spam["Classes"][0]["Name"] == "spam"

    # The seed's command with the flywheel: the new version's predictions.
    put(server, "s3://in-bucket/jobdata/msgs.txt", "".join(r.split(",", 1)[1] for r in rows[4400:4459]))
    (server.s3 / "out-bucket").mkdir()
    started = cli_json(server, "start-document-classification-job", "--job-name", "via-flywheel",
                       "--flywheel-arn", arn, "--input-data-config",
                       "S3Uri=s3://in-bucket/jobdata/,InputFormat=ONE_DOC_PER_LINE",
                       "--output-data-config", "S3Uri=s3://out-bucket/results/",
                       "--data-access-role-arn", ROLE)
    assert started["JobStatus"] == "SUBMITTED"
    assert started["DocumentClassifierArn"] == v2
    job = settled(lambda: c.describe_document_classification_job(JobId=started["JobId"])
                  ["DocumentClassificationJobProperties"], "JobStatus", ("COMPLETED", "FAILED"))
    assert job["JobStatus"] == "COMPLETED", job
    assert job["DocumentClassifierArn"] == v2
    assert job["FlywheelArn"] == arn
    # Naming both is refused, as Comprehend refuses it.
    both = server.cli("start-document-classification-job", "--flywheel-arn", arn, "--document-classifier-arn", v1,
                      "--input-data-config", "S3Uri=s3://in-bucket/jobdata/", "--output-data-config",
                      "S3Uri=s3://out-bucket/results/", "--data-access-role-arn", ROLE)
    assert both.returncode != 0 and "InvalidRequestException" in both.stderr, both.stderr

    # A flywheel with a dataset copy or iteration running cannot go; this one can, its lake stays.
    c.delete_endpoint(EndpointArn=ep["EndpointArn"])
    c.delete_flywheel(FlywheelArn=arn)
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        c.describe_flywheel(FlywheelArn=arn)
    assert server.local(iteration["EvaluationManifestS3Prefix"] + "evaluation.json").is_file()


def test_an_iteration_and_a_job_finish_after_the_server_is_killed(server):
    c = server.client()
    rows = sms_rows()
    put(server, "s3://data-bucket/all.csv", "".join(rows))
    arn = c.create_flywheel(
        FlywheelName="restarts", DataAccessRoleArn=ROLE, DataLakeS3Uri="s3://lake-bucket", ModelType="DOCUMENT_CLASSIFIER",
        TaskConfig={"LanguageCode": "en", "DocumentClassificationConfig": {"Mode": "MULTI_CLASS"}})["FlywheelArn"]
    settled(lambda: c.describe_flywheel(FlywheelArn=arn)["FlywheelProperties"], "Status", ("ACTIVE",))
    ds = c.create_dataset(FlywheelArn=arn, DatasetName="all", DatasetType="TRAIN",
                          InputDataConfig={"DataFormat": "COMPREHEND_CSV",
                                           "DocumentClassifierInputDataConfig": {"S3Uri": "s3://data-bucket/all.csv"}})
    settled(lambda: c.describe_dataset(DatasetArn=ds["DatasetArn"])["DatasetProperties"], "Status", ("COMPLETED",))

    # A job over 2,000,000 lines, and an iteration, both running when the server dies.
    lines = [r.split(",", 1)[1] for r in rows]
    big = server.local("s3://in-bucket/big/lines.txt")
    big.parent.mkdir(parents=True)
    with open(big, "w", encoding="utf-8") as f:
        for k in range(2_000_000 // len(lines) + 1):
            f.writelines(lines[: min(len(lines), 2_000_000 - k * len(lines))])
    (server.s3 / "out-bucket").mkdir()
    job = c.start_document_classification_job(
        DocumentClassifierArn="arn:aws:comprehend:us-west-2:111122223333:document-classifier/spam-ham",
        DataAccessRoleArn=ROLE, InputDataConfig={"S3Uri": "s3://in-bucket/big/", "InputFormat": "ONE_DOC_PER_LINE"},
        OutputDataConfig={"S3Uri": "s3://out-bucket/big/"})["JobId"]
    it = c.start_flywheel_iteration(FlywheelArn=arn)["FlywheelIterationId"]
    describe_job = lambda: c.describe_document_classification_job(JobId=job)["DocumentClassificationJobProperties"]
    describe_it = lambda: c.describe_flywheel_iteration(FlywheelArn=arn, FlywheelIterationId=it)[
        "FlywheelIterationProperties"]
    wait_for(describe_job, lambda p: p["JobStatus"] == "IN_PROGRESS", timeout=30)
    time.sleep(0.3)
    before = (describe_job()["JobStatus"], describe_it()["Status"])
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    assert before[0] == "IN_PROGRESS" and before[1] in ("TRAINING", "EVALUATING"), before

    server.start()
    c = server.client()
    done = settled(describe_job, "JobStatus", ("COMPLETED", "FAILED"))
    assert done["JobStatus"] == "COMPLETED", done
    iteration = settled(describe_it, "Status", ("COMPLETED", "FAILED"))
    assert iteration["Status"] == "COMPLETED", iteration
    assert c.describe_document_classifier(DocumentClassifierArn=iteration["TrainedModelArn"])[
        "DocumentClassifierProperties"]["Status"] == "TRAINED"
    # Every line classified once, and nothing temporary left in the user's output prefix.
    archive = server.local(done["OutputDataConfig"]["S3Uri"])
    count = subprocess.run(f"tar -xzOf '{archive}' | wc -l", shell=True, capture_output=True, text=True, check=True)
    assert int(count.stdout) == 2_000_000
    leftovers = [p for p in server.local("s3://out-bucket/big/").rglob("*") if ".tmp" in p.name]
    assert leftovers == []
