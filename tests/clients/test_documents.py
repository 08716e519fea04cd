"""PDF, Word and image documents through `docclass serve`: the AWS CLI starting a job with
DocumentReaderConfig exactly as Comprehend's documentation writes it, and boto3 sending a
document to ClassifyDocument in `Bytes`."""

import json
import shutil
import tarfile

import pytest
from botocore.exceptions import ClientError

from conftest import REPO, wait_for

ROLE = "arn:aws:iam::111122223333:role/service-role/AmazonComprehendServiceRole-example-role"
CLASSIFIER = "arn:aws:comprehend:us-west-2:111122223333:document-classifier/spam-ham"
ENDPOINT = "arn:aws:comprehend:us-west-2:111122223333:document-classifier-endpoint/spam-ham"
DOCS = REPO / "tests" / "fixtures" / "docs"


def lines_of(path):
    with tarfile.open(path, "r|gz") as t:
        members = [(m.name, t.extractfile(m).read()) for m in t]
    assert [n for n, _ in members] == ["predictions.jsonl"]
    return [json.loads(l) for l in members[0][1].decode("ascii").splitlines()]


def test_a_job_with_document_reader_config_from_the_aws_cli(server):
    folder = server.s3 / "docs-bucket" / "in"
    folder.mkdir(parents=True)
    for name in ["two-pages.pdf", "letter.docx", "scanned.pdf", "spam.png"]:
        shutil.copy(DOCS / name, folder / name)
    (server.s3 / "out-bucket").mkdir()
    r = server.cli(
        "start-document-classification-job",
        "--input-data-config",
        "S3Uri=s3://docs-bucket/in/,InputFormat=ONE_DOC_PER_FILE,DocumentReaderConfig="
        "{DocumentReadAction=TEXTRACT_DETECT_DOCUMENT_TEXT,DocumentReadMode=SERVICE_DEFAULT}",
        "--output-data-config", "S3Uri=s3://out-bucket/docs/",
        "--data-access-role-arn", ROLE,
        "--document-classifier-arn", CLASSIFIER)
    assert r.returncode == 0, r.stderr
    job_id = json.loads(r.stdout)["JobId"]

    def describe():
        out = server.cli("describe-document-classification-job", "--job-id", job_id)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)["DocumentClassificationJobProperties"]

    props = wait_for(describe, lambda p: p["JobStatus"] in ("COMPLETED", "FAILED"))
    assert props["JobStatus"] == "COMPLETED", props
    assert props["InputDataConfig"]["DocumentReaderConfig"] == {
        "DocumentReadAction": "TEXTRACT_DETECT_DOCUMENT_TEXT", "DocumentReadMode": "SERVICE_DEFAULT"}
    lines = lines_of(server.local(props["OutputDataConfig"]["S3Uri"]))
    got = [(l["File"], l["DocumentMetadata"]["PageNumber"], l["DocumentType"][0]["Type"],
            l["Classes"][0]["Name"]) for l in lines]
    assert got == [
        ("letter.docx", 1, "MS_WORD", "spam"), ("letter.docx", 2, "MS_WORD", "ham"),
        ("scanned.pdf", 1, "SCANNED_PDF", "spam"), ("scanned.pdf", 2, "SCANNED_PDF", "ham"),
        ("spam.png", 1, "IMAGE", "spam"),
        ("two-pages.pdf", 1, "NATIVE_PDF", "spam"), ("two-pages.pdf", 2, "NATIVE_PDF", "ham"),
    ]
    for l in lines:
        assert l["DocumentMetadata"]["Pages"] in (1, 2)
        assert l["DocumentMetadata"]["ExtractedCharacters"][0]["Count"] > 50


def test_the_api_refuses_reader_settings_the_model_refuses(server):
    c = server.client()
    base = dict(DocumentClassifierArn=CLASSIFIER, DataAccessRoleArn=ROLE,
                OutputDataConfig={"S3Uri": "s3://out-bucket/x/"})
    with pytest.raises(c.exceptions.InvalidRequestException) as e:
        c.start_document_classification_job(InputDataConfig={
            "S3Uri": "s3://in-bucket/x/", "InputFormat": "ONE_DOC_PER_FILE",
            "DocumentReaderConfig": {"DocumentReadAction": "TEXTRACT_ANALYZE_DOCUMENT"}}, **base)
    assert "FeatureTypes" in str(e.value)
    with pytest.raises(c.exceptions.InvalidRequestException) as e:
        c.start_document_classification_job(InputDataConfig={
            "S3Uri": "s3://in-bucket/x/", "InputFormat": "ONE_DOC_PER_LINE",
            "DocumentReaderConfig": {"DocumentReadAction": "TEXTRACT_DETECT_DOCUMENT_TEXT"}}, **base)
    assert "ONE_DOC_PER_FILE" in str(e.value)


def test_classify_document_reads_bytes_with_boto3(server):
    c = server.client()
    pdf = (DOCS / "two-pages.pdf").read_bytes()
    # Real time takes one page: the two-page PDF is refused as Comprehend refuses it.
    with pytest.raises(c.exceptions.InvalidRequestException) as e:
        c.classify_document(EndpointArn=ENDPOINT, Bytes=pdf)
    assert e.value.response["Reason"] == "INVALID_DOCUMENT"
    assert e.value.response["Detail"]["Reason"] == "PAGE_LIMIT_EXCEEDED"

    out = c.classify_document(EndpointArn=ENDPOINT, Bytes=(DOCS / "spam.png").read_bytes(),
                              DocumentReaderConfig={"DocumentReadAction": "TEXTRACT_DETECT_DOCUMENT_TEXT"})
    assert out["Classes"][0]["Name"] == "spam" and out["Classes"][0]["Page"] == 1
    assert out["DocumentType"] == [{"Page": 1, "Type": "IMAGE"}]
    assert out["DocumentMetadata"]["Pages"] == 1
    assert out["DocumentMetadata"]["ExtractedCharacters"][0]["Count"] > 50
    assert out["Warnings"][0]["WarnCode"] == "INFERENCING_NATIVE_DOCUMENT_WITH_PLAINTEXT_TRAINED_MODEL"

    text = c.classify_document(EndpointArn=ENDPOINT, Bytes=b"see you at lunch tomorrow, love mum")
    assert text["DocumentType"] == [{"Page": 1, "Type": "PLAIN_TEXT"}]
    assert text["Classes"][0]["Name"] == "ham" and "Warnings" not in text

    with pytest.raises(ClientError) as e:
        c.classify_document(EndpointArn=ENDPOINT, Bytes=b"x", Text="x")
    assert e.value.response["Error"]["Code"] == "InvalidRequestException"
