//! The AWS CLI's commands for the operations docclass serves, run in this process against the
//! local state folder: `docclass start-document-classification-job ...` takes what
//! `aws comprehend start-document-classification-job ...` takes (every member of the operation's
//! input shape as a `--kebab-case` option, structures in shorthand or JSON, `--cli-input-json`,
//! `--generate-cli-skeleton`) and prints what the AWS CLI prints, so a script moves between the
//! two by changing one word. The options come from the API model's table (`aws::shapes`), the
//! same one requests to `docclass serve` are checked against.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches};
use serde_json::{json, Map, Value};

use docclass::aws::shapes::{self, Kind, Shape};
use docclass::service::{Service, ServiceConfig};

use crate::cli::RegistryArgs;
use crate::config::{self, UsageError};

/// One command: its AWS CLI name and the operation it calls.
pub struct AwsCommand {
    pub name: &'static str,
    pub operation: &'static str,
    about: &'static str,
}

pub const COMMANDS: &[AwsCommand] = &[
    AwsCommand {
        name: "start-document-classification-job",
        operation: "StartDocumentClassificationJob",
        about: "Run a classification job with a classifier or a flywheel's active model (as the AWS CLI's command)",
    },
    AwsCommand {
        name: "create-flywheel",
        operation: "CreateFlywheel",
        about: "Create a flywheel: a data lake and iterations that keep a classifier improving",
    },
    AwsCommand {
        name: "describe-flywheel",
        operation: "DescribeFlywheel",
        about: "Show a flywheel",
    },
    AwsCommand {
        name: "list-flywheels",
        operation: "ListFlywheels",
        about: "List flywheels",
    },
    AwsCommand {
        name: "update-flywheel",
        operation: "UpdateFlywheel",
        about: "Promote a model version to a flywheel's active model, or change its role",
    },
    AwsCommand {
        name: "delete-flywheel",
        operation: "DeleteFlywheel",
        about: "Delete a flywheel (its data lake and model versions stay)",
    },
    AwsCommand {
        name: "create-dataset",
        operation: "CreateDataset",
        about: "Copy labelled data into a flywheel's data lake as a TRAIN or TEST dataset",
    },
    AwsCommand {
        name: "describe-dataset",
        operation: "DescribeDataset",
        about: "Show a dataset",
    },
    AwsCommand {
        name: "list-datasets",
        operation: "ListDatasets",
        about: "List datasets",
    },
    AwsCommand {
        name: "start-flywheel-iteration",
        operation: "StartFlywheelIteration",
        about: "Train a new model version on the flywheel's data and evaluate it beside the active one",
    },
    AwsCommand {
        name: "describe-flywheel-iteration",
        operation: "DescribeFlywheelIteration",
        about: "Show a flywheel iteration",
    },
    AwsCommand {
        name: "list-flywheel-iteration-history",
        operation: "ListFlywheelIterationHistory",
        about: "List a flywheel's iterations",
    },
];

/// The command named `name`, if it is one of these.
pub fn find(name: &str) -> Option<&'static AwsCommand> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// docclass's own settings for these commands (beside the request's members).
#[derive(Debug, Args)]
pub struct LocalArgs {
    /// Folder of docclass's records (jobs, flywheels, datasets, iterations), shared with
    /// `docclass serve --state-dir`.
    #[arg(long, env = "DOCCLASS_STATE_DIR", default_value = ".docclass")]
    pub state_dir: std::path::PathBuf,
    /// Map s3://bucket/key to DIR/bucket/key (offline use). Without it, s3:// URIs are S3's
    /// (AWS, or the server of --endpoint-url / AWS_ENDPOINT_URL).
    #[arg(long, env = "DOCCLASS_S3_ROOT", value_name = "DIR")]
    pub s3_root: Option<std::path::PathBuf>,
    /// Output format; docclass prints JSON, as the AWS CLI does by default.
    #[arg(long, default_value = "json", value_parser = ["json"])]
    pub output: String,
    /// No progress lines on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `start-flywheel-iteration`'s convenience beyond Comprehend, which leaves promotion to
/// UpdateFlywheel.
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// After the iteration, make its model the flywheel's active model if its average F1 on
    /// the iteration's test data beats the active model's by at least --promote-margin.
    #[arg(long)]
    pub promote_if_better: bool,
    /// The average-F1 lead --promote-if-better asks of the new model.
    #[arg(long, default_value_t = 0.005, value_name = "F1")]
    pub promote_margin: f64,
}

/// A clap command with the operation's members as options.
pub fn clap_command(c: &AwsCommand) -> clap::Command {
    let shape = input_shape(c.operation);
    let Kind::Structure { members, required } = &shape.kind else {
        unreachable!("input shapes are structures")
    };
    let mut cmd = clap::Command::new(c.name).about(c.about).after_help(
        "Options in CamelCase are the operation's request members; structures take the AWS CLI's shorthand (Key=value,Other={Nested=x}) or JSON, also as file://path.",
    );
    for (member, s) in members.iter() {
        let mut help = String::new();
        if required.contains(member) {
            help.push_str("[required] ");
        }
        help.push_str(&format!("{member}: {}", describe(s)));
        let mut arg = Arg::new(*member)
            .long(option_name(member))
            .value_name("value")
            .help(help);
        arg = match &s.kind {
            // A list takes the values up to the next option.
            Kind::List { .. } => arg.num_args(1..).action(ArgAction::Append),
            _ => arg.num_args(1).allow_hyphen_values(true),
        };
        cmd = cmd.arg(arg);
    }
    cmd = cmd
        .arg(
            Arg::new("cli-input-json")
                .long("cli-input-json")
                .value_name("JSON")
                .help("Request members as JSON (or file://path); options given on the command line win"),
        )
        .arg(
            Arg::new("generate-cli-skeleton")
                .long("generate-cli-skeleton")
                .num_args(0..=1)
                .default_missing_value("input")
                .value_parser(["input", "output"])
                .help("Print a JSON skeleton of the request (input) or response (output) and exit"),
        );
    if c.operation == "StartFlywheelIteration" {
        cmd = PromoteArgs::augment_args(cmd);
    }
    // The derive would name the command after LocalArgs' own doc comment.
    LocalArgs::augment_args(cmd).about(c.about)
}

fn input_shape(operation: &str) -> &'static Shape {
    shapes::input_shape(operation).expect("every AWS command has an input shape")
}

/// botocore's option name of a member: `DataLakeS3Uri` → `data-lake-s3-uri`.
pub fn option_name(member: &str) -> String {
    let chars: Vec<char> = member.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push('-');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// A shape in a few words, for help text.
fn describe(s: &Shape) -> String {
    match &s.kind {
        Kind::String { values, .. } if !values.is_empty() => {
            format!("one of {}", values.join(", "))
        }
        Kind::String { .. } => "string".into(),
        Kind::Integer { .. } => "integer".into(),
        Kind::Timestamp => "timestamp (ISO 8601 or epoch seconds)".into(),
        Kind::Blob { .. } => "blob".into(),
        Kind::List { member, .. } => match member.kind {
            Kind::Structure { .. } => "list of structures (shorthand, repeated, or JSON)".into(),
            _ => "list".into(),
        },
        Kind::Structure { members, .. } => format!(
            "structure ({})",
            members
                .iter()
                .map(|(m, _)| *m)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Runs the command: the request is built, validated and answered by the service in this
/// process; the response is printed as the AWS CLI prints it; work the request started (a job,
/// an iteration, a dataset copy) is run to its end before the command returns.
pub fn run(c: &AwsCommand, m: &ArgMatches) -> Result<ExitCode> {
    let local = LocalArgs::from_arg_matches(m).map_err(|e| anyhow::anyhow!(e.to_string()))?;
    if let Some(kind) = m.get_one::<String>("generate-cli-skeleton") {
        if kind == "output" {
            // The AWS CLI checks the request before it prints an output skeleton.
            request(c, m)?;
            let mut out = Map::new();
            for name in output_members(c.operation).with_context(|| {
                format!(
                    "--generate-cli-skeleton output: {} answers with nested structures; run the command to see them",
                    c.name
                )
            })? {
                out.insert((*name).into(), Value::String((*name).into()));
            }
            if !out.is_empty() {
                print_aws(&Value::Object(out))?;
            }
        } else {
            print_aws(&skeleton(input_shape(c.operation), &mut Vec::new()))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let body = request(c, m)?;
    let registry = config::registry(&local.registry)?;
    let region = registry.identity.region.clone();
    let service = Service::start(ServiceConfig {
        registry,
        state_dir: local.state_dir.clone(),
        s3_root: local.s3_root.clone(),
        concurrency: 1,
        max_queued_jobs: 100,
        resume: false,
    })
    .context("opening docclass's state folder")?;
    let response = match service.handle(c.operation, body.to_string().as_bytes(), &region) {
        Ok(v) => v,
        Err(e) => {
            // The AWS CLI's words and exit code for an error the service answered.
            eprintln!(
                "\nAn error occurred ({}) when calling the {} operation: {}",
                e.code, c.operation, e.message
            );
            return Ok(ExitCode::from(254));
        }
    };
    print_aws(&response)?;
    let watch = Watch::of(c.operation, &body, &response);
    follow(&service, &watch, &local, &region)?;
    if let (Watch::Iteration { flywheel, id }, Ok(p)) = (&watch, PromoteArgs::from_arg_matches(m)) {
        if p.promote_if_better {
            promote(&service, flywheel, id, p.promote_margin, &region)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The request the options (and `--cli-input-json`) make.
fn request(c: &AwsCommand, m: &ArgMatches) -> Result<Value> {
    let shape = input_shape(c.operation);
    let Kind::Structure { members, required } = &shape.kind else {
        unreachable!("input shapes are structures")
    };
    let mut body = Map::new();
    for (member, s) in members.iter() {
        let Some(raw) = m.get_many::<String>(member) else {
            continue;
        };
        let raw: Vec<&String> = raw.collect();
        let option = format!("--{}", option_name(member));
        body.insert((*member).into(), value_of(&option, s, &raw)?);
    }
    let from_json = m.get_one::<String>("cli-input-json");
    if let Some(text) = from_json {
        let given = shorthand_json("--cli-input-json", text)?;
        let Value::Object(given) = given else {
            return Err(usage("--cli-input-json", "expected a JSON object"));
        };
        // Top-level members only, the command line winning (as the AWS CLI merges them).
        for (k, v) in given {
            if !body.contains_key(&k) {
                let v = match members.iter().find(|(m, _)| *m == k) {
                    Some((_, s)) => coerce(s, v, &format!("--cli-input-json {k}"))?,
                    None => v,
                };
                body.insert(k, v);
            }
        }
    } else {
        for member in required.iter() {
            if !body.contains_key(*member) {
                return Err(usage(
                    &format!("--{}", option_name(member)),
                    format!("required by {}", c.name),
                ));
            }
        }
    }
    // The AWS CLI fills an absent idempotency token with a fresh one.
    if members.iter().any(|(m, _)| *m == "ClientRequestToken")
        && !body.contains_key("ClientRequestToken")
    {
        body.insert("ClientRequestToken".into(), Value::String(uuid4()));
    }
    Ok(Value::Object(body))
}

fn usage(flag: &str, reason: impl Into<String>) -> anyhow::Error {
    UsageError {
        flag: flag.into(),
        reason: reason.into(),
    }
    .into()
}

/// JSON text, or `file://path` holding it.
fn shorthand_json(option: &str, text: &str) -> Result<Value> {
    let body = match text.strip_prefix("file://") {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("{option}: cannot read {path}"))?,
        None => text.to_string(),
    };
    serde_json::from_str(&body).map_err(|e| usage(option, format!("invalid JSON: {e}")))
}

/// An option's value as the member's shape wants it.
fn value_of(option: &str, s: &Shape, raw: &[&String]) -> Result<Value> {
    let first = raw.first().map(|r| r.as_str()).unwrap_or_default();
    let v = match &s.kind {
        Kind::Structure { .. } => crate::shorthand::parse(option, first)?,
        Kind::List { member, .. } => {
            let looks_json = raw.len() == 1 && {
                let t = first.trim_start();
                t.starts_with('[') || t.starts_with("file://")
            };
            if looks_json {
                shorthand_json(option, first)?
            } else {
                let items = raw
                    .iter()
                    .map(|r| match member.kind {
                        Kind::Structure { .. } => crate::shorthand::parse(option, r),
                        _ => Ok(Value::String(r.to_string())),
                    })
                    .collect::<Result<Vec<_>>>()?;
                Value::Array(items)
            }
        }
        _ => Value::String(first.to_string()),
    };
    coerce(s, v, option)
}

/// Turns the text values shorthand gives into the numbers, timestamps and lists the shape
/// names (JSON input may carry timestamps as text too).
fn coerce(s: &Shape, v: Value, option: &str) -> Result<Value> {
    Ok(match (&s.kind, v) {
        (Kind::Integer { .. }, Value::String(t)) => match t.trim().parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => return Err(usage(option, format!("expected an integer, got '{t}'"))),
        },
        (Kind::Timestamp, Value::String(t)) => match docclass::aws::parse_timestamp(&t) {
            Some(epoch) => json!(epoch),
            None => {
                return Err(usage(
                    option,
                    format!("expected a timestamp (ISO 8601 or epoch seconds), got '{t}'"),
                ))
            }
        },
        (Kind::List { member, .. }, Value::Array(items)) => Value::Array(
            items
                .into_iter()
                .map(|i| coerce(member, i, option))
                .collect::<Result<_>>()?,
        ),
        (Kind::List { member, .. }, single) => Value::Array(vec![coerce(member, single, option)?]),
        (Kind::Structure { members, .. }, Value::Object(map)) => {
            let mut out = Map::new();
            for (k, v) in map {
                let v = match members.iter().find(|(m, _)| *m == k) {
                    Some((_, s)) => coerce(s, v, option)?,
                    None => v,
                };
                out.insert(k, v);
            }
            Value::Object(out)
        }
        (_, v) => v,
    })
}

/// The input skeleton the AWS CLI prints: every member in the model's order, strings empty,
/// numbers 0, lists of one, timestamps at the epoch, enums at their first value (the AWS CLI
/// picks one at random).
fn skeleton(s: &Shape, stack: &mut Vec<&'static str>) -> Value {
    match &s.kind {
        Kind::String { values, .. } => Value::String(values.first().copied().unwrap_or("").into()),
        Kind::Integer { .. } => json!(0),
        Kind::Timestamp => json!("1970-01-01T00:00:00"),
        Kind::Blob { .. } => Value::Null,
        Kind::List { member, .. } => json!([skeleton(member, stack)]),
        Kind::Structure { members, .. } => {
            if stack.contains(&s.name) {
                return json!({});
            }
            stack.push(s.name);
            let map = members
                .iter()
                .map(|(m, ms)| ((*m).to_string(), skeleton(ms, stack)))
                .collect::<Map<_, _>>();
            stack.pop();
            Value::Object(map)
        }
    }
}

/// Top-level members of an operation's response, for output skeletons of flat responses.
fn output_members(operation: &str) -> Option<&'static [&'static str]> {
    Some(match operation {
        "StartDocumentClassificationJob" => {
            &["JobId", "JobArn", "JobStatus", "DocumentClassifierArn"]
        }
        "CreateFlywheel" => &["FlywheelArn", "ActiveModelArn"],
        "CreateDataset" => &["DatasetArn"],
        "StartFlywheelIteration" => &["FlywheelArn", "FlywheelIterationId"],
        "DeleteFlywheel" => &[],
        _ => return None,
    })
}

/// Prints a response as the AWS CLI does: JSON with four-space indents, timestamps as
/// ISO 8601; an empty response prints nothing.
fn print_aws(v: &Value) -> Result<()> {
    use serde::Serialize;
    use std::io::Write;
    if v.as_object().is_some_and(Map::is_empty) {
        return Ok(());
    }
    let mut v = v.clone();
    timestamps(&mut v);
    let mut out = std::io::stdout().lock();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    v.serialize(&mut ser)?;
    writeln!(out)?;
    Ok(())
}

/// Epoch-second members (`CreationTime`, `EndTime`, ...) as ISO 8601, anywhere in a response.
fn timestamps(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, x) in map.iter_mut() {
                if k.ends_with("Time") {
                    if let Some(t) = x.as_f64() {
                        *x = Value::String(docclass::aws::iso8601(t));
                        continue;
                    }
                }
                timestamps(x);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(timestamps),
        _ => {}
    }
}

/// A version-4 UUID from the operating system's random source.
fn uuid4() -> String {
    let hex = docclass::aws::new_job_id();
    let mut b: Vec<char> = hex.chars().collect();
    b[12] = '4';
    b[16] = ['8', '9', 'a', 'b'][b[16].to_digit(16).unwrap_or(0) as usize % 4];
    let s: String = b.into_iter().collect();
    format!(
        "{}-{}-{}-{}-{}",
        &s[0..8],
        &s[8..12],
        &s[12..16],
        &s[16..20],
        &s[20..32]
    )
}

/// The work a request started, to follow to its end.
enum Watch {
    Nothing,
    Job(String),
    Flywheel(String),
    Dataset(String),
    Iteration { flywheel: String, id: String },
}

impl Watch {
    fn of(operation: &str, request: &Value, response: &Value) -> Watch {
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        match operation {
            "StartDocumentClassificationJob" => text(response, "JobId").map(Watch::Job),
            "CreateFlywheel" => text(response, "FlywheelArn").map(Watch::Flywheel),
            "CreateDataset" => text(response, "DatasetArn").map(Watch::Dataset),
            "StartFlywheelIteration" => text(response, "FlywheelIterationId").and_then(|id| {
                text(request, "FlywheelArn").map(|flywheel| Watch::Iteration { flywheel, id })
            }),
            _ => None,
        }
        .unwrap_or(Watch::Nothing)
    }

    /// The work's status now, and its message.
    fn status(&self, service: &Service, region: &str) -> Option<(String, Option<String>)> {
        let (op, body, key) = match self {
            Watch::Nothing => return None,
            Watch::Job(id) => (
                "DescribeDocumentClassificationJob",
                json!({ "JobId": id }),
                "/DocumentClassificationJobProperties",
            ),
            Watch::Flywheel(arn) => (
                "DescribeFlywheel",
                json!({ "FlywheelArn": arn }),
                "/FlywheelProperties",
            ),
            Watch::Dataset(arn) => (
                "DescribeDataset",
                json!({ "DatasetArn": arn }),
                "/DatasetProperties",
            ),
            Watch::Iteration { flywheel, id } => (
                "DescribeFlywheelIteration",
                json!({ "FlywheelArn": flywheel, "FlywheelIterationId": id }),
                "/FlywheelIterationProperties",
            ),
        };
        let v = service
            .handle(op, body.to_string().as_bytes(), region)
            .ok()?;
        let p = v.pointer(key)?;
        let status = ["JobStatus", "Status"]
            .iter()
            .find_map(|k| p.get(*k).and_then(Value::as_str))?
            .to_string();
        let message = p.get("Message").and_then(Value::as_str).map(str::to_string);
        Some((status, message))
    }

    fn what(&self) -> String {
        match self {
            Watch::Nothing => String::new(),
            Watch::Job(id) => format!("job {id}"),
            Watch::Flywheel(arn) => format!("flywheel {arn}"),
            Watch::Dataset(arn) => format!("dataset {arn}"),
            Watch::Iteration { id, .. } => format!("iteration {id}"),
        }
    }
}

/// Waits for the started work to end, saying on stderr how it goes.
fn follow(service: &Service, watch: &Watch, local: &LocalArgs, region: &str) -> Result<()> {
    if matches!(watch, Watch::Nothing) {
        return Ok(());
    }
    let started = Instant::now();
    let mut last = String::new();
    loop {
        let idle = service.busy() == 0;
        if let Some((status, message)) = watch.status(service, region) {
            if status != last && !local.quiet {
                eprintln!(
                    "docclass: {} {status} ({:.0} s)",
                    watch.what(),
                    started.elapsed().as_secs_f64()
                );
            }
            if idle {
                if matches!(status.as_str(), "FAILED" | "STOPPED" | "IN_ERROR") {
                    if let Some(m) = message {
                        eprintln!("docclass: {} {status}: {m}", watch.what());
                    }
                }
                return Ok(());
            }
            last = status;
        } else if idle {
            bail!(
                "{} disappeared from the state folder while it ran",
                watch.what()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `--promote-if-better`: UpdateFlywheel to the iteration's model when it leads by the margin.
fn promote(service: &Service, flywheel: &str, id: &str, margin: f64, region: &str) -> Result<()> {
    let v = service
        .handle(
            "DescribeFlywheelIteration",
            json!({"FlywheelArn": flywheel, "FlywheelIterationId": id})
                .to_string()
                .as_bytes(),
            region,
        )
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let p = &v["FlywheelIterationProperties"];
    if p["Status"] != "COMPLETED" {
        eprintln!(
            "docclass: --promote-if-better: the iteration did not complete; nothing promoted"
        );
        return Ok(());
    }
    let f1 = |k: &str| {
        p.pointer(&format!("/{k}/AverageF1Score"))
            .and_then(Value::as_f64)
    };
    let trained = f1("TrainedModelMetrics").unwrap_or(0.0);
    let better = match f1("EvaluatedModelMetrics") {
        Some(active) => trained >= active + margin,
        None => true,
    };
    let model = p["TrainedModelArn"].as_str().unwrap_or_default();
    if !better {
        eprintln!(
            "docclass: --promote-if-better: {model} (average F1 {trained:.4}) does not beat the active model by {margin}; nothing promoted"
        );
        return Ok(());
    }
    let updated = service
        .handle(
            "UpdateFlywheel",
            json!({"FlywheelArn": flywheel, "ActiveModelArn": model})
                .to_string()
                .as_bytes(),
            region,
        )
        .map_err(|e| anyhow::anyhow!("--promote-if-better: {}", e.message))?;
    eprintln!(
        "docclass: --promote-if-better: {} is the active model (average F1 {trained:.4})",
        updated
            .pointer("/FlywheelProperties/ActiveModelArn")
            .and_then(Value::as_str)
            .unwrap_or(model)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_names_are_botocores() {
        for (member, option) in [
            ("DataLakeS3Uri", "data-lake-s3-uri"),
            ("VolumeKmsKeyId", "volume-kms-key-id"),
            ("DocumentClassifierArn", "document-classifier-arn"),
            ("FlywheelIterationId", "flywheel-iteration-id"),
            ("MaxResults", "max-results"),
            ("VpcConfig", "vpc-config"),
        ] {
            assert_eq!(option_name(member), option);
        }
    }

    #[test]
    fn every_command_builds_and_has_its_members() {
        for c in COMMANDS {
            let cmd = clap_command(c);
            cmd.clone().debug_assert();
            let Kind::Structure { members, .. } = &input_shape(c.operation).kind else {
                panic!()
            };
            for (m, _) in members.iter() {
                let long = option_name(m);
                assert!(
                    cmd.get_arguments()
                        .any(|a| a.get_long() == Some(long.as_str())),
                    "{} lacks --{long}",
                    c.name
                );
            }
        }
    }

    #[test]
    fn shorthand_and_json_make_the_same_request() {
        let c = find("start-document-classification-job").unwrap();
        let parse = |args: &[&str]| {
            let mut argv = vec!["x"];
            argv.extend_from_slice(args);
            let m = clap_command(c).try_get_matches_from(argv).unwrap();
            let mut v = request(c, &m).unwrap();
            v.as_object_mut().unwrap().remove("ClientRequestToken");
            v
        };
        let short = parse(&[
            "--input-data-config",
            "S3Uri=s3://b/in/,InputFormat=ONE_DOC_PER_LINE",
            "--output-data-config",
            "S3Uri=s3://b/out/",
            "--data-access-role-arn",
            "arn:aws:iam::000000000000:role/r",
            "--vpc-config",
            "SecurityGroupIds=sg-1,sg-2,Subnets=subnet-1",
            "--tags",
            "Key=team,Value=ops",
            "Key=env,Value=dev",
        ]);
        let long = parse(&[
            "--cli-input-json",
            r#"{"InputDataConfig": {"S3Uri": "s3://b/in/", "InputFormat": "ONE_DOC_PER_LINE"},
                "OutputDataConfig": {"S3Uri": "s3://b/out/"},
                "DataAccessRoleArn": "arn:aws:iam::000000000000:role/r",
                "VpcConfig": {"SecurityGroupIds": ["sg-1", "sg-2"], "Subnets": ["subnet-1"]},
                "Tags": [{"Key": "team", "Value": "ops"}, {"Key": "env", "Value": "dev"}]}"#,
        ]);
        assert_eq!(short, long);
        assert_eq!(short["VpcConfig"]["Subnets"], json!(["subnet-1"]));
    }

    #[test]
    fn command_line_wins_over_cli_input_json_and_required_members_are_checked() {
        let c = find("create-dataset").unwrap();
        let m = clap_command(c)
            .try_get_matches_from([
                "x",
                "--dataset-name",
                "d",
                "--cli-input-json",
                r#"{"DatasetName": "fromjson", "Description": "x"}"#,
            ])
            .unwrap();
        let v = request(c, &m).unwrap();
        assert_eq!(v["DatasetName"], "d");
        assert_eq!(v["Description"], "x");
        let m = clap_command(c)
            .try_get_matches_from(["x", "--dataset-name", "d"])
            .unwrap();
        let e = request(c, &m).unwrap_err().to_string();
        assert!(e.contains("--flywheel-arn"), "{e}");
    }

    #[test]
    fn filters_take_timestamps_and_integers() {
        let c = find("list-flywheels").unwrap();
        let m = clap_command(c)
            .try_get_matches_from([
                "x",
                "--filter",
                "Status=ACTIVE,CreationTimeAfter=2023-06-14T17:09:51Z",
                "--max-results",
                "5",
            ])
            .unwrap();
        let v = request(c, &m).unwrap();
        assert_eq!(v["Filter"]["CreationTimeAfter"], json!(1_686_762_591.0));
        assert_eq!(v["MaxResults"], json!(5));
        let m = clap_command(c)
            .try_get_matches_from(["x", "--max-results", "many"])
            .unwrap();
        assert!(request(c, &m)
            .unwrap_err()
            .to_string()
            .contains("--max-results"));
    }

    #[test]
    fn skeleton_follows_the_model_order() {
        let s = skeleton(
            input_shape("StartDocumentClassificationJob"),
            &mut Vec::new(),
        );
        let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
        assert_eq!(keys.first().unwrap().as_str(), "JobName");
        assert_eq!(keys.last().unwrap().as_str(), "FlywheelArn");
        assert_eq!(s["Tags"], json!([{"Key": "", "Value": ""}]));
        assert_eq!(s["VpcConfig"]["Subnets"], json!([""]));
    }

    #[test]
    fn uuids_are_version_4() {
        let u = uuid4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!("89ab".contains(&u[19..20]));
    }
}
