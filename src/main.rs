//! The `docclass` binary: parse flags (`cli`), validate them into configs (`config`), call the
//! library, print JSON on stdout and progress on stderr, and map the outcome to an exit code.

mod awscli;
mod cli;
mod config;
mod progress;
mod shorthand;

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{CommandFactory, FromArgMatches};

use cli::{Cli, Command};
use config::UsageError;
use docclass::job::store::JobStore;
use docclass::job::train;
use docclass::model::{Classifier, ClassifierRecord};

/// Exit codes, documented in the README.
const EXIT_FAILURE: u8 = 1;
/// Bad arguments (the same code clap uses for unknown flags).
const EXIT_USAGE: u8 = 2;
/// The job completed, but some documents got error records instead of predictions.
const EXIT_DOCUMENT_ERRORS: u8 = 3;
/// The job was stopped by SIGINT or SIGTERM.
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    // docclass's own commands, and the AWS CLI's for the operations docclass serves.
    let mut command = Cli::command();
    for c in awscli::COMMANDS {
        command = command.subcommand(awscli::clap_command(c));
    }
    let mut matches = match command.try_get_matches() {
        Ok(m) => m,
        Err(e) => return usage_exit(e),
    };
    if let Some((name, sub)) = matches.subcommand() {
        if let Some(aws) = awscli::find(name) {
            configure_s3(sub.get_one("endpoint_url"), sub.get_one("profile"));
            return finish(awscli::run(aws, sub));
        }
    }
    let cli = match Cli::from_arg_matches_mut(&mut matches) {
        Ok(cli) => cli,
        Err(e) => return usage_exit(e),
    };
    // The flags are the command-line form of the standard AWS variables, and win over them.
    configure_s3(cli.endpoint_url.as_ref(), cli.profile.as_ref());
    finish(run(cli))
}

fn configure_s3(endpoint_url: Option<&String>, profile: Option<&String>) {
    docclass::s3::configure(docclass::s3::S3Settings {
        endpoint_url: endpoint_url.cloned(),
        profile: profile.cloned(),
    });
}

/// The exit code of a command's outcome, its error said in one line on stderr.
fn finish(outcome: Result<ExitCode>) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("docclass: error: {}", render(&err));
            if is_usage_error(&err) {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::from(EXIT_FAILURE)
            }
        }
    }
}

/// Help and version go to stdout as clap writes them; a bad argument is one line on stderr
/// naming it and what it takes, exit code 2.
fn usage_exit(e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    {
        let _ = e.print();
        return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
    }
    let rendered = e.render().to_string();
    let first = rendered.lines().next().unwrap_or_default();
    let mut line = first.trim_start_matches("error: ").to_string();
    if let Some(ContextValue::Strings(valid)) = e.get(ContextKind::ValidValue) {
        line.push_str(&format!("; expected one of: {}", valid.join(", ")));
    } else if let Some(ContextValue::String(suggested)) = e.get(ContextKind::SuggestedArg) {
        line.push_str(&format!("; did you mean '{suggested}'?"));
    }
    eprintln!("docclass: error: {line} (see docclass --help)");
    ExitCode::from(EXIT_USAGE)
}

/// Bad flag values exit like clap's own usage errors.
fn is_usage_error(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.is::<UsageError>()
            || matches!(
                e.downcast_ref::<docclass::Error>(),
                Some(
                    docclass::Error::InvalidParam { .. }
                        | docclass::Error::Uri { .. }
                        | docclass::Error::JobExists(_)
                        | docclass::Error::JobRunning(_)
                )
            )
    })
}

/// The error chain as one line, `context: cause`, with the library's errors said in the
/// command line's words (flags, commands to run next).
fn render(err: &anyhow::Error) -> String {
    err.chain()
        .map(|e| match e.downcast_ref::<docclass::Error>() {
            Some(lib) => render_library(lib),
            None => e.to_string(),
        })
        .collect::<Vec<_>>()
        .join(": ")
}

fn render_library(e: &docclass::Error) -> String {
    use docclass::Error as E;
    match e {
        E::InvalidParam {
            param,
            value,
            expected,
        } => {
            let got = if value.is_empty() {
                String::new()
            } else {
                format!(", got '{value}'")
            };
            format!(
                "invalid value for {}: expected {expected}{got}",
                cli::flag(*param)
            )
        }
        E::InvalidUtf8 { .. } => format!("{e}; pass --on-invalid-utf8 lossy to decode it lossily"),
        E::ModelNotFound { target, registry } => format!(
            "model '{target}' not found: no such model folder, and no model of that name or ARN in the registry {}; train one, pass --model-registry, or list models with `docclass list-document-classifiers`",
            registry.display()
        ),
        E::ModelExists { .. } => {
            format!("{e}; choose another --version-name, pass --overwrite, or delete the folder first")
        }
        E::JobNotFound(_) => {
            format!("{e}; list jobs with `docclass list-document-classification-jobs`")
        }
        E::JobExists(id) => {
            format!("invalid value for --job-id: job '{id}' already exists; choose another id")
        }
        E::JobRunning(id) => {
            format!("invalid value for --job-id: job '{id}' is already running in another process")
        }
        _ => e.to_string(),
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn print_json(value: &serde_json::Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// A classifier record for display: the stored one, or one rebuilt from model.json.
fn classifier_properties(
    dir: &std::path::Path,
    registry: &docclass::model::registry::Registry,
) -> Result<serde_json::Value> {
    let record = match ClassifierRecord::load(dir) {
        Ok(r) => r,
        Err(_) => {
            let c = Classifier::load(dir)?;
            let arn = registry
                .identity
                .classifier_arn(&c.meta.name, c.meta.version_name.as_deref());
            ClassifierRecord::from_model(&c.meta, arn)
        }
    };
    let mut v = serde_json::to_value(record.with_defaults())?;
    docclass::aws::iso_timestamps(
        &mut v,
        &[
            "SubmitTime",
            "EndTime",
            "TrainingStartTime",
            "TrainingEndTime",
        ],
    );
    Ok(v)
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Train(a) => {
            config::thread_pool(a.tuning.threads)?;
            let cfg = config::train_config(&a)?;
            let mut status = progress::TrainStatus::new(a.tuning.quiet);
            let out = train::train(&cfg, &mut |e| status.report(e))
                .with_context(|| format!("training classifier '{}' failed", cfg.name))?;
            print_json(&serde_json::json!({
                "DocumentClassifierProperties": classifier_properties(&out.dir, &cfg.registry)?
            }))?;
        }
        Command::CreateDocumentClassifier(a) => {
            config::thread_pool(a.tuning.threads)?;
            let cfg = config::create_config(&a)?;
            let mut status = progress::TrainStatus::new(a.tuning.quiet);
            let out = train::train(&cfg, &mut |e| status.report(e))
                .with_context(|| format!("training classifier '{}' failed", cfg.name))?;
            print_json(
                &serde_json::json!({"DocumentClassifierArn": out.record.document_classifier_arn}),
            )?;
        }
        Command::CrossValidate(a) => {
            config::thread_pool(a.tuning.threads)?;
            let cfg = config::cv_config(&a)?;
            let mut status = progress::TrainStatus::new(a.tuning.quiet);
            let cv = train::cross_validate(&cfg, a.folds, &mut |e| status.report(e))
                .context("cross-validation failed")?;
            if let Some(path) = &a.write_folds {
                let lines: String = cv.fold_of.iter().map(|f| format!("{f}\n")).collect();
                docclass::atomic::write_atomic(path, lines.as_bytes())
                    .with_context(|| format!("writing --write-folds {}", path.display()))?;
            }
            if let Some(path) = &a.write_scores {
                let mut lines = String::new();
                for probs in &cv.probabilities {
                    let labels: Vec<serde_json::Value> = cv
                        .per_label
                        .iter()
                        .zip(probs)
                        .map(|(l, p)| serde_json::json!({"Name": l.name, "Score": p}))
                        .collect();
                    lines.push_str(&serde_json::json!({ "Labels": labels }).to_string());
                    lines.push('\n');
                }
                docclass::atomic::write_atomic(path, lines.as_bytes())
                    .with_context(|| format!("writing --write-scores {}", path.display()))?;
            }
            print_json(&serde_json::to_value(&cv)?)?;
        }
        Command::DescribeDocumentClassifier(a) => {
            let registry = config::registry(&a.registry)?;
            let dir = registry.resolve(&a.document_classifier_arn)?;
            print_json(&serde_json::json!({
                "DocumentClassifierProperties": classifier_properties(&dir, &registry)?
            }))?;
        }
        Command::ListDocumentClassifiers(a) => {
            let registry = config::registry(&a.registry)?;
            let list = registry
                .list()?
                .iter()
                .map(|d| classifier_properties(d, &registry))
                .collect::<Result<Vec<_>>>()?;
            print_json(&serde_json::json!({"DocumentClassifierPropertiesList": list}))?;
        }
        Command::Report(a) => {
            let registry = config::registry(&a.registry)?;
            let dir = registry.resolve(&a.model)?;
            let report = dir.join(train::REPORT_FILE);
            if !report.is_file() {
                bail!(
                    "model '{}' has no {}: it was trained before reports existed; train it again \
                     to get one",
                    a.model,
                    train::REPORT_FILE
                );
            }
            let report = report.canonicalize().unwrap_or(report);
            println!("{}", report.display());
        }
        Command::Classify(a) => return classify(a),
        Command::Serve(a) => {
            let (service, http) = config::serve_config(&a)?;
            docclass::service::serve(service, http, |addr| {
                println!("docclass service listening on http://{addr}");
                let _ = std::io::stdout().flush();
            })
            .context("the service stopped")?;
        }
        Command::Merge(a) => {
            let registry = config::registry(&a.registry)?;
            let cfg = config::merge_config(&a, &registry)?;
            let record = docclass::job::shard::merge(&cfg, &JobStore::new(&a.job_store))
                .with_context(|| format!("merging the parts of job {} failed", cfg.job_id))?;
            print_json(
                &serde_json::json!({"DocumentClassificationJobProperties": record.to_cli_json()}),
            )?;
        }
        Command::DescribeDocumentClassificationJob(a) => {
            let store = JobStore::new(&a.job_store);
            let record = store.load(&a.job_id)?;
            print_json(
                &serde_json::json!({"DocumentClassificationJobProperties": record.to_cli_json()}),
            )?;
        }
        Command::ListDocumentClassificationJobs(a) => {
            let store = JobStore::new(&a.job_store);
            let list: Vec<_> = store.list()?.iter().map(|r| r.to_cli_json()).collect();
            print_json(&serde_json::json!({"DocumentClassificationJobPropertiesList": list}))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn classify(a: cli::ClassifyArgs) -> Result<ExitCode> {
    config::thread_pool(a.threads)?;
    let registry = config::registry(&a.registry)?;
    let cfg = config::classify_config(&a, &registry)?;
    let model_dir = registry.resolve(&a.model)?;
    let store = JobStore::new(&a.job_store);
    let mut bar = progress::ProgressBar::new(a.quiet);
    // Ctrl-C or SIGTERM stops the job cleanly: no archive, temporary file removed, record STOPPED.
    // A second signal exits at once.
    let cancel = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&cancel))
            .and_then(|_| signal_hook::flag::register(signal, Arc::clone(&cancel)))
            .context("failed to install a signal handler")?;
    }
    if let Some(shard) = cfg.shard {
        if !a.quiet {
            eprintln!(
                "docclass: running shard {} of {} (0-based) of job {}",
                shard.index, shard.count, cfg.job_id
            );
        }
        let part =
            docclass::job::shard::run_shard(&cfg, &model_dir, &mut |p| bar.update(p), &cancel);
        bar.finish();
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            eprintln!(
                "docclass: shard {} stopped by a signal; no part was published",
                shard.index
            );
            return Ok(ExitCode::from(EXIT_INTERRUPTED));
        }
        let part = part.with_context(|| {
            format!(
                "shard {} of job {} failed; rerun this shard alone",
                shard.index, cfg.job_id
            )
        })?;
        // Exit 0 once the part is written, error records or not: schedulers count any other
        // code as a failed task and would rerun or block the merge.
        print_json(&serde_json::to_value(&part)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let record = docclass::job::run_job(&cfg, &model_dir, &store, &mut |p| bar.update(p), &cancel);
    bar.finish();
    if cancel.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!(
            "docclass: job {} stopped by a signal; no output was published",
            cfg.job_id
        );
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    let record = record.with_context(|| format!("classification job {} failed", cfg.job_id))?;
    print_json(&serde_json::json!({"DocumentClassificationJobProperties": record.to_cli_json()}))?;
    if let Some(warning) = &record.docclass.counts.warning {
        eprintln!("docclass: warning: {warning}");
    }
    let counts = &record.docclass.counts;
    if !a.quiet {
        eprintln!(
            "classified {} documents ({} errors) from {} files in {:.2} s -> {}",
            counts.documents,
            counts.errors,
            counts.files,
            counts.seconds,
            record.output_data_config.s3_uri
        );
        for skipped in &counts.skipped_paths {
            eprintln!("docclass: skipped {skipped}");
        }
    }
    Ok(if counts.errors > 0 {
        ExitCode::from(EXIT_DOCUMENT_ERRORS)
    } else {
        ExitCode::SUCCESS
    })
}
