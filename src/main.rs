//! The `docclass` binary: parse flags (`cli`), validate them into configs (`config`), call the
//! library, print JSON on stdout and progress on stderr, and map the outcome to an exit code.

mod cli;
mod config;
mod progress;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;

use cli::{Cli, Command};
use docclass::job::store::JobStore;
use docclass::job::{run, train};
use docclass::model::io::Classifier;
use docclass::model::registry::ClassifierRecord;

/// Exit codes, documented in the README.
const EXIT_FAILURE: u8 = 1;
/// Bad arguments (the same code clap uses for unknown flags).
const EXIT_USAGE: u8 = 2;
/// The job completed, but some documents got error records instead of predictions.
const EXIT_DOCUMENT_ERRORS: u8 = 3;
/// The job was stopped by SIGINT or SIGTERM.
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The S3 client reads the standard AWS variables; the flags are their command-line form.
    // Set before any thread starts.
    if let Some(url) = &cli.endpoint_url {
        std::env::set_var("AWS_ENDPOINT_URL_S3", url);
    }
    if let Some(profile) = &cli.profile {
        std::env::set_var("AWS_PROFILE", profile);
    }
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("docclass: error: {err:#}");
            if is_usage_error(&err) {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::from(EXIT_FAILURE)
            }
        }
    }
}

/// Bad flag values exit like clap's own usage errors.
fn is_usage_error(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        matches!(
            e.downcast_ref::<docclass::Error>(),
            Some(docclass::Error::InvalidParam { .. } | docclass::Error::Uri { .. })
        )
    })
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

fn progress_printer(quiet: bool) -> impl FnMut(String) {
    move |line: String| {
        if !quiet {
            eprintln!("{line}");
        }
    }
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
            ClassifierRecord {
                document_classifier_arn: registry
                    .identity
                    .classifier_arn(&c.meta.name, c.meta.version_name.as_deref()),
                language_code: c.meta.language_code.clone(),
                status: "TRAINED".into(),
                message: None,
                submit_time: 0.0,
                end_time: None,
                training_start_time: None,
                training_end_time: None,
                input_data_config: c.meta.training_data.input_data_config.clone(),
                output_data_config: None,
                classifier_metadata: Some(c.meta.classifier_metadata.clone()),
                mode: c.meta.mode,
                version_name: c.meta.version_name.clone(),
            }
        }
    };
    let mut v = serde_json::to_value(&record)?;
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
            let out = train::train(&cfg, &mut progress_printer(a.tuning.quiet))
                .with_context(|| format!("training classifier '{}' failed", cfg.name))?;
            print_json(&serde_json::json!({
                "DocumentClassifierProperties": classifier_properties(&out.dir, &cfg.registry)?
            }))?;
        }
        Command::CreateDocumentClassifier(a) => {
            config::thread_pool(a.tuning.threads)?;
            let cfg = config::create_config(&a)?;
            let out = train::train(&cfg, &mut progress_printer(a.tuning.quiet))
                .with_context(|| format!("training classifier '{}' failed", cfg.name))?;
            print_json(
                &serde_json::json!({"DocumentClassifierArn": out.record.document_classifier_arn}),
            )?;
        }
        Command::CrossValidate(a) => {
            config::thread_pool(a.tuning.threads)?;
            let cfg = config::cv_config(&a)?;
            let cv = train::cross_validate(&cfg, a.folds, &mut progress_printer(a.tuning.quiet))
                .context("cross-validation failed")?;
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
    let mut bar = progress::ProgressBar::new(!a.quiet && std::io::stderr().is_terminal());
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
    let record = run::run_job(&cfg, &model_dir, &store, &mut |p| bar.update(p), &cancel);
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
