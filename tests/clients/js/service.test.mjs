// The AWS SDK for JavaScript v3 (@aws-sdk/client-comprehend) against a real `docclass serve`:
// training, a job, an endpoint with ClassifyDocument, tags and errors, signed and parsed by a
// second client family (botocore is the first). DOCCLASS_BIN names the binary.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { gunzipSync } from "node:zlib";
import {
  ComprehendClient, CreateDocumentClassifierCommand, DescribeDocumentClassifierCommand,
  StartDocumentClassificationJobCommand, DescribeDocumentClassificationJobCommand,
  ListDocumentClassificationJobsCommand, CreateEndpointCommand, DescribeEndpointCommand,
  ClassifyDocumentCommand, DeleteEndpointCommand, TagResourceCommand, UntagResourceCommand,
  ListTagsForResourceCommand, ListDocumentClassifierSummariesCommand,
  ResourceNotFoundException, InvalidRequestException, JobNotFoundException,
  paginateListDocumentClassificationJobs,
} from "@aws-sdk/client-comprehend";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const BIN = process.env.DOCCLASS_BIN ?? join(REPO, "target/release/docclass");
const KEY = "AKIDJSCLIENT", SECRET = "js-client-secret", REGION = "us-west-2";
const ROLE = "arn:aws:iam::111122223333:role/service-role/AmazonComprehendServiceRole-example-role";

let root, server, client;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "docclass-js-"));
  cpSync(join(REPO, "models/spam-ham"), join(root, "models/spam-ham"), { recursive: true });
  mkdirSync(join(root, "s3/train-bucket"), { recursive: true });
  cpSync(join(REPO, "tests/fixtures/sms_small.csv"), join(root, "s3/train-bucket/train.csv"));
  mkdirSync(join(root, "s3/in-bucket/sms"), { recursive: true });
  writeFileSync(join(root, "s3/in-bucket/sms/a.txt"), "WINNER! claim your prize now\nsee you at lunch\n");
  mkdirSync(join(root, "s3/out-bucket"), { recursive: true });
  server = spawn(BIN, ["serve", "--port", "0", "--s3-root", join(root, "s3"), "--model-registry",
    join(root, "models"), "--state-dir", join(root, "state"), "--access-key-id", KEY,
    "--secret-access-key", SECRET], { cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise((ok, fail) => {
    createInterface({ input: server.stdout }).once("line", ok);
    server.once("exit", (code) => fail(new Error(`docclass serve exited with ${code}`)));
  });
  assert.match(line, /listening on/);
  client = new ComprehendClient({
    endpoint: line.trim().split(" ").pop(), region: REGION,
    credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
  });
});

after(() => {
  server?.kill("SIGTERM");
  rmSync(root, { recursive: true, force: true });
});

async function until(get, done, ms = 60000) {
  const end = Date.now() + ms;
  let v = await get();
  while (!done(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    v = await get();
  }
  return v;
}

test("train, run a job, serve an endpoint, tag, list", async () => {
  const { DocumentClassifierArn: arn } = await client.send(new CreateDocumentClassifierCommand({
    DocumentClassifierName: "jsmodel", VersionName: "v1", DataAccessRoleArn: ROLE, LanguageCode: "en",
    InputDataConfig: { S3Uri: "s3://train-bucket/train.csv" }, Tags: [{ Key: "sdk", Value: "js" }],
  }));
  assert.equal(arn, "arn:aws:comprehend:us-west-2:111122223333:document-classifier/jsmodel/version/v1");
  const props = await until(
    async () => (await client.send(new DescribeDocumentClassifierCommand({ DocumentClassifierArn: arn })))
      .DocumentClassifierProperties,
    (p) => ["TRAINED", "IN_ERROR"].includes(p.Status));
  assert.equal(props.Status, "TRAINED", props.Message);
  assert.ok(props.SubmitTime instanceof Date);
  assert.equal(props.DataAccessRoleArn, ROLE);

  const job = await client.send(new StartDocumentClassificationJobCommand({
    DocumentClassifierArn: arn, DataAccessRoleArn: ROLE, JobName: "js-job",
    InputDataConfig: { S3Uri: "s3://in-bucket/sms/", InputFormat: "ONE_DOC_PER_LINE" },
    OutputDataConfig: { S3Uri: "s3://out-bucket/js/" },
  }));
  assert.equal(job.JobStatus, "SUBMITTED");
  const done = await until(
    async () => (await client.send(new DescribeDocumentClassificationJobCommand({ JobId: job.JobId })))
      .DocumentClassificationJobProperties,
    (p) => ["COMPLETED", "FAILED"].includes(p.JobStatus));
  assert.equal(done.JobStatus, "COMPLETED", done.Message);
  const archive = readFileSync(join(root, "s3", done.OutputDataConfig.S3Uri.slice("s3://".length)));
  const tar = gunzipSync(archive);
  assert.equal(tar.subarray(0, 17).toString(), "predictions.jsonl");
  const pages = [];
  for await (const page of paginateListDocumentClassificationJobs({ client, pageSize: 1 }, {})) {
    pages.push(page);
  }
  assert.ok(pages.flatMap((p) => p.DocumentClassificationJobPropertiesList).some((j) => j.JobId === job.JobId));
  const listed = await client.send(new ListDocumentClassificationJobsCommand({ Filter: { JobName: "js-job" } }));
  assert.equal(listed.DocumentClassificationJobPropertiesList.length, 1);

  const { EndpointArn: endpoint } = await client.send(new CreateEndpointCommand({
    EndpointName: "js-endpoint", ModelArn: arn, DesiredInferenceUnits: 1,
  }));
  const ep = await until(
    async () => (await client.send(new DescribeEndpointCommand({ EndpointArn: endpoint }))).EndpointProperties,
    (p) => p.Status === "IN_SERVICE");
  assert.equal(ep.Status, "IN_SERVICE");
  const out = await client.send(new ClassifyDocumentCommand({
    EndpointArn: endpoint, Text: "WINNER! Claim your free prize now, call 09061234567",
  }));
  assert.equal(out.Classes[0].Name, "spam");
  const pdf = readFileSync(join(REPO, "tests/fixtures/docs/textract-detect.json"));
  const doc = await client.send(new ClassifyDocumentCommand({ EndpointArn: endpoint, Bytes: pdf }));
  assert.deepEqual(doc.DocumentType, [{ Page: 1, Type: "TEXTRACT_DETECT_DOCUMENT_TEXT_JSON" }]);
  assert.equal(doc.Classes[0].Page, 1);

  await client.send(new TagResourceCommand({ ResourceArn: endpoint, Tags: [{ Key: "a", Value: "1" }] }));
  await client.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ["sdk"] }));
  assert.deepEqual((await client.send(new ListTagsForResourceCommand({ ResourceArn: endpoint }))).Tags,
    [{ Key: "a", Value: "1" }]);
  assert.deepEqual((await client.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags, []);
  const summaries = (await client.send(new ListDocumentClassifierSummariesCommand({})))
    .DocumentClassifierSummariesList;
  assert.ok(summaries.some((s) => s.DocumentClassifierName === "jsmodel" && s.NumberOfVersions === 1));

  await client.send(new DeleteEndpointCommand({ EndpointArn: endpoint }));
  await until(async () => {
    try {
      await client.send(new DescribeEndpointCommand({ EndpointArn: endpoint }));
      return false;
    } catch (e) {
      return e instanceof ResourceNotFoundException;
    }
  }, (gone) => gone);
});

test("errors arrive as the SDK's exception classes", async () => {
  await assert.rejects(
    client.send(new DescribeDocumentClassificationJobCommand({ JobId: "0123456789abcdef0123456789abcdef" })),
    JobNotFoundException);
  await assert.rejects(
    client.send(new DescribeDocumentClassifierCommand({
      DocumentClassifierArn: "arn:aws:comprehend:us-west-2:111122223333:document-classifier/nope",
    })),
    ResourceNotFoundException);
  await assert.rejects(
    client.send(new StartDocumentClassificationJobCommand({
      DocumentClassifierArn: "spam-ham", DataAccessRoleArn: ROLE,
      InputDataConfig: { S3Uri: "s3://in-bucket/sms/" }, OutputDataConfig: { S3Uri: "s3://out-bucket/" },
    })),
    (e) => e instanceof InvalidRequestException && /DocumentClassifierArn/.test(e.message));
  const wrong = new ComprehendClient({
    endpoint: await client.config.endpoint().then((e) => `${e.protocol}//${e.hostname}:${e.port}`),
    region: REGION, credentials: { accessKeyId: KEY, secretAccessKey: "wrong" },
  });
  await assert.rejects(wrong.send(new ListDocumentClassificationJobsCommand({})),
    (e) => e.name === "InvalidSignatureException");
});
