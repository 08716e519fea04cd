"""The service as AWS clients find it, through boto3: ARNs checked and resolved only inside the
registry, every member a client gave echoed by Describe, the exceptions Comprehend answers,
endpoints, tags, classifier summaries, and resources kept to their region."""

import shutil

import pytest

from conftest import REGION, REPO, wait_for

ROLE = "arn:aws:iam::111122223333:role/service-role/AmazonComprehendServiceRole-example-role"
ACCOUNT = "111122223333"
SHARED = f"arn:aws:comprehend:{REGION}:{ACCOUNT}:document-classifier/spam-ham"


def train(server, client, name, version=None, **extra):
    data = server.s3 / "train-bucket"
    data.mkdir(exist_ok=True)
    shutil.copy(REPO / "tests" / "fixtures" / "sms_small.csv", data / "train.csv")
    args = dict(DocumentClassifierName=name, DataAccessRoleArn=ROLE, LanguageCode="en",
                InputDataConfig={"S3Uri": "s3://train-bucket/train.csv"})
    args.update(extra)
    if version:
        args["VersionName"] = version
    arn = client.create_document_classifier(**args)["DocumentClassifierArn"]
    props = wait_for(lambda: client.describe_document_classifier(DocumentClassifierArn=arn)
                     ["DocumentClassifierProperties"], lambda p: p["Status"] in ("TRAINED", "IN_ERROR"))
    assert props["Status"] == "TRAINED", props
    return arn, props


def no_host_path(server, text):
    for path in (str(server.root), str(server.models), str(server.s3)):
        assert path not in text, text
    assert "--" not in text, text


def test_arns_are_checked_and_never_read_as_host_paths(server):
    c = server.client()
    start = dict(DataAccessRoleArn=ROLE, InputDataConfig={"S3Uri": "s3://in-bucket/x/"},
                 OutputDataConfig={"S3Uri": "s3://out-bucket/"})
    # A folder of the host that holds a model is refused exactly like one that does not exist:
    # the answer only echoes what the client sent.
    answers = []
    for bad in ["x", "spam-ham", str(server.models / "spam-ham"), "/nonexistent/spam-ham",
                "arn:aws:comprehend:us-west-2:1:document-classifier/x"]:
        with pytest.raises(c.exceptions.InvalidRequestException) as e:
            c.start_document_classification_job(DocumentClassifierArn=bad, **start)
        assert "DocumentClassifierArn" in str(e.value) and "failed to satisfy constraint" in str(e.value)
        answers.append(str(e.value).replace(bad, "<value>"))
    assert answers[2] == answers[3]
    with pytest.raises(c.exceptions.ResourceNotFoundException) as e:
        c.describe_document_classifier(
            DocumentClassifierArn=f"arn:aws:comprehend:{REGION}:{ACCOUNT}:document-classifier/nope")
    no_host_path(server, str(e.value))
    with pytest.raises(c.exceptions.InvalidRequestException):
        c.describe_endpoint(EndpointArn="../../etc/passwd")


def test_describe_returns_every_member_given(server):
    c = server.client()
    vpc = {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1", "subnet-2"]}
    arn, props = train(server, c, "fields", VolumeKmsKeyId="vol-key", ModelKmsKeyId="model-key",
                       VpcConfig=vpc, OutputDataConfig={"S3Uri": "s3://out-bucket/train/"})
    assert props["DataAccessRoleArn"] == ROLE
    assert props["VolumeKmsKeyId"] == "vol-key" and props["ModelKmsKeyId"] == "model-key"
    assert props["VpcConfig"] == vpc
    (server.s3 / "in-bucket" / "x").mkdir(parents=True)
    (server.s3 / "in-bucket" / "x" / "a.txt").write_text("win a prize now\n")
    (server.s3 / "out-bucket").mkdir(exist_ok=True)
    job = c.start_document_classification_job(
        DocumentClassifierArn=arn, DataAccessRoleArn=ROLE, VolumeKmsKeyId="vol-key", VpcConfig=vpc,
        InputDataConfig={"S3Uri": "s3://in-bucket/x/"},
        OutputDataConfig={"S3Uri": "s3://out-bucket/", "KmsKeyId": "out-key"})
    d = c.describe_document_classification_job(JobId=job["JobId"])["DocumentClassificationJobProperties"]
    assert d["VolumeKmsKeyId"] == "vol-key" and d["VpcConfig"] == vpc
    assert d["OutputDataConfig"]["KmsKeyId"] == "out-key"
    assert d["DataAccessRoleArn"] == ROLE
    assert "Docclass" not in d


def test_describe_and_list_show_the_defaults_the_cli_documents(server):
    # The AWS CLI's documented describe-document-classifier output shows
    # InputDataConfig.DataFormat COMPREHEND_CSV and OutputDataConfig {} for a request that gave
    # neither; so must Describe and List, while the classifier trains and after.
    c = server.client()
    arn, props = train(server, c, "defaults")
    assert list(props["InputDataConfig"]) == ["DataFormat", "S3Uri"]
    assert props["InputDataConfig"]["DataFormat"] == "COMPREHEND_CSV"
    assert props["OutputDataConfig"] == {}
    listed = [p for p in c.list_document_classifiers()["DocumentClassifierPropertiesList"]
              if p["DocumentClassifierArn"] == arn]
    assert listed and listed[0]["InputDataConfig"]["DataFormat"] == "COMPREHEND_CSV"
    assert listed[0]["OutputDataConfig"] == {}
    # A format given is kept as given.
    _, given = train(server, c, "given", InputDataConfig={"S3Uri": "s3://train-bucket/train.csv",
                                                           "DataFormat": "COMPREHEND_CSV"})
    assert given["InputDataConfig"] == {"S3Uri": "s3://train-bucket/train.csv", "DataFormat": "COMPREHEND_CSV"}


def test_a_classifier_not_yet_trained_is_unavailable(server):
    c = server.client()
    data = server.s3 / "train-bucket"
    data.mkdir()
    (data / "few.csv").write_text("ham,hello\nspam,win\n")
    arn = c.create_document_classifier(DocumentClassifierName="broken", DataAccessRoleArn=ROLE,
                                       LanguageCode="en", InputDataConfig={"S3Uri": "s3://train-bucket/few.csv"}
                                       )["DocumentClassifierArn"]
    props = wait_for(lambda: c.describe_document_classifier(DocumentClassifierArn=arn)["DocumentClassifierProperties"],
                     lambda p: p["Status"] == "IN_ERROR")
    no_host_path(server, props["Message"])
    assert "s3://train-bucket/few.csv" in props["Message"]
    with pytest.raises(c.exceptions.ResourceUnavailableException):
        c.start_document_classification_job(DocumentClassifierArn=arn, DataAccessRoleArn=ROLE,
                                            InputDataConfig={"S3Uri": "s3://in-bucket/x/"},
                                            OutputDataConfig={"S3Uri": "s3://out-bucket/"})
    with pytest.raises(c.exceptions.ResourceUnavailableException):
        c.create_endpoint(EndpointName="ep", ModelArn=arn, DesiredInferenceUnits=1)


def test_endpoints_from_create_to_delete(server):
    c = server.client()
    v1, _ = train(server, c, "sms", "v1")
    arn = c.create_endpoint(EndpointName="sms-ep", ModelArn=v1, DesiredInferenceUnits=2,
                            Tags=[{"Key": "team", "Value": "mail"}])["EndpointArn"]
    assert arn == f"arn:aws:comprehend:{REGION}:{ACCOUNT}:document-classifier-endpoint/sms-ep"
    props = wait_for(lambda: c.describe_endpoint(EndpointArn=arn)["EndpointProperties"],
                     lambda p: p["Status"] == "IN_SERVICE")
    assert props["Status"] == "IN_SERVICE" and props["ModelArn"] == v1
    assert props["DesiredInferenceUnits"] == 2 and props["CurrentInferenceUnits"] == 2
    out = c.classify_document(EndpointArn=arn, Text="WINNER! Claim your free prize now, call 09061234567")
    assert out["Classes"][0]["Name"] == "spam"
    # A classifier with a version is reached through an endpoint (its name alone would not do).
    with pytest.raises(c.exceptions.ResourceInUseException):
        c.create_endpoint(EndpointName="sms-ep", ModelArn=v1, DesiredInferenceUnits=1)
    with pytest.raises(c.exceptions.ResourceInUseException):
        c.delete_document_classifier(DocumentClassifierArn=v1)

    v2, _ = train(server, c, "sms", "v2")
    c.update_endpoint(EndpointArn=arn, DesiredModelArn=v2, DesiredInferenceUnits=3)
    props = wait_for(lambda: c.describe_endpoint(EndpointArn=arn)["EndpointProperties"],
                     lambda p: p["Status"] == "IN_SERVICE" and p["ModelArn"] == v2)
    assert props["ModelArn"] == v2 and props["CurrentInferenceUnits"] == 3

    listed = c.list_endpoints(Filter={"Status": "IN_SERVICE"})["EndpointPropertiesList"]
    assert [e["EndpointArn"] for e in listed] == [arn]
    assert c.list_endpoints(Filter={"ModelArn": v1})["EndpointPropertiesList"] == []
    assert c.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "mail"}]

    # Endpoints and their tags persist across restarts, like jobs.
    server.stop()
    server.start()
    c = server.client()
    props = c.describe_endpoint(EndpointArn=arn)["EndpointProperties"]
    assert props["Status"] == "IN_SERVICE" and props["ModelArn"] == v2
    assert c.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "mail"}]
    assert c.classify_document(EndpointArn=arn, Text="See you at lunch tomorrow?")["Classes"][0]["Name"] == "ham"

    c.delete_endpoint(EndpointArn=arn)
    wait_for(lambda: c.list_endpoints()["EndpointPropertiesList"], lambda l: l == [])
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        c.describe_endpoint(EndpointArn=arn)
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        c.list_tags_for_resource(ResourceArn=arn)


def test_tags_on_classifiers_and_jobs(server):
    c = server.client()
    arn, _ = train(server, c, "tagged", Tags=[{"Key": "project", "Value": "x"}])
    assert c.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "project", "Value": "x"}]
    c.tag_resource(ResourceArn=arn, Tags=[{"Key": "project", "Value": "y"}, {"Key": "owner", "Value": "ann"}])
    assert c.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "project", "Value": "y"}, {"Key": "owner", "Value": "ann"}]
    c.untag_resource(ResourceArn=arn, TagKeys=["project"])
    assert c.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "owner", "Value": "ann"}]
    with pytest.raises(c.exceptions.TooManyTagsException):
        c.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    with pytest.raises(c.exceptions.TooManyTagKeysException):
        c.untag_resource(ResourceArn=arn, TagKeys=[f"k{i}" for i in range(51)])
    with pytest.raises(c.exceptions.InvalidRequestException):
        c.tag_resource(ResourceArn=arn, Tags=[{"Key": "aws:reserved", "Value": "v"}])
    with pytest.raises(c.exceptions.ResourceNotFoundException):
        c.tag_resource(ResourceArn=arn.replace("tagged", "missing"), Tags=[{"Key": "a", "Value": "b"}])

    (server.s3 / "in-bucket" / "x").mkdir(parents=True)
    (server.s3 / "in-bucket" / "x" / "a.txt").write_text("hello\n")
    (server.s3 / "out-bucket").mkdir()
    job = c.start_document_classification_job(
        DocumentClassifierArn=arn, DataAccessRoleArn=ROLE, Tags=[{"Key": "run", "Value": "1"}],
        InputDataConfig={"S3Uri": "s3://in-bucket/x/"}, OutputDataConfig={"S3Uri": "s3://out-bucket/"})
    assert c.list_tags_for_resource(ResourceArn=job["JobArn"])["Tags"] == [{"Key": "run", "Value": "1"}]


def test_classifier_summaries(server):
    c = server.client()
    train(server, c, "multi", "v1")
    train(server, c, "multi", "v2")
    summaries = {s["DocumentClassifierName"]: s for s in
                 c.list_document_classifier_summaries()["DocumentClassifierSummariesList"]}
    assert summaries["multi"]["NumberOfVersions"] == 2
    assert summaries["multi"]["LatestVersionName"] == "v2"
    assert summaries["multi"]["LatestVersionStatus"] == "TRAINED"
    assert "spam-ham" in summaries
    # Oldest first; under SubmitTimeAfter newest first, as the API documents.
    def versions(**kw):
        listed = c.list_document_classifiers(**kw)["DocumentClassifierPropertiesList"]
        return [p["VersionName"] for p in listed if "/multi/" in p["DocumentClassifierArn"]]
    assert versions() == ["v1", "v2"]
    assert versions(Filter={"SubmitTimeAfter": 0}) == ["v2", "v1"]


def test_resources_belong_to_their_region(server):
    west = server.client()
    east = server.client(region="us-east-1")
    arn, _ = train(server, west, "regional")
    with pytest.raises(east.exceptions.ResourceNotFoundException):
        east.describe_document_classifier(DocumentClassifierArn=arn)
    with pytest.raises(east.exceptions.ResourceNotFoundException):
        east.describe_document_classifier(DocumentClassifierArn=arn.replace(REGION, "us-east-1"))
    names = [p["DocumentClassifierArn"] for p in east.list_document_classifiers()["DocumentClassifierPropertiesList"]]
    assert not any("regional" in n for n in names)
    # The same name in another region is another classifier.
    east_arn, _ = train(server, east, "regional")
    assert east_arn.split(":")[3] == "us-east-1"
    assert west.describe_document_classifier(DocumentClassifierArn=arn)["DocumentClassifierProperties"]["Status"] == "TRAINED"
    (server.s3 / "in-bucket" / "x").mkdir(parents=True)
    (server.s3 / "in-bucket" / "x" / "a.txt").write_text("hello\n")
    (server.s3 / "out-bucket").mkdir()
    job = west.start_document_classification_job(
        DocumentClassifierArn=arn, DataAccessRoleArn=ROLE,
        InputDataConfig={"S3Uri": "s3://in-bucket/x/"}, OutputDataConfig={"S3Uri": "s3://out-bucket/"})
    with pytest.raises(east.exceptions.JobNotFoundException):
        east.describe_document_classification_job(JobId=job["JobId"])
    assert east.list_document_classification_jobs()["DocumentClassificationJobPropertiesList"] == []
