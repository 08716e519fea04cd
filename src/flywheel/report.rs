//! An iteration's report: one self-contained HTML page (no scripts, no network) with the
//! active model and the new one side by side on the same test data: Comprehend's averages,
//! both confusion matrices, and the labels that got better or worse. Written into the data lake
//! beside `evaluation.json`.

use askama::Template;

use super::iteration::Scores;
use crate::error::{Error, Result};
use crate::job::train::report::confusion_svg;

/// What the report shows.
pub struct Input<'a> {
    pub flywheel_arn: &'a str,
    pub iteration_id: &'a str,
    pub documents: usize,
    pub trained: (&'a str, &'a Scores),
    pub evaluated: Option<(&'a str, &'a Scores)>,
    /// The test documents were held out of data the active model was trained on.
    pub active_saw_test: bool,
}

#[derive(Template)]
#[template(path = "iteration.html")]
struct Page<'a> {
    title: String,
    flywheel: &'a str,
    iteration: &'a str,
    documents: usize,
    metrics: Vec<Row>,
    active_arn: String,
    trained_arn: &'a str,
    verdict: String,
    trained_matrix: String,
    active_matrix: Option<String>,
    labels: Vec<LabelRow>,
}

struct Row {
    name: &'static str,
    active: String,
    trained: String,
    change: String,
    direction: &'static str,
}

struct LabelRow {
    name: String,
    support: u64,
    active: String,
    trained: String,
    change: String,
    direction: &'static str,
}

fn f4(v: f64) -> String {
    format!("{v:.4}")
}

/// `+0.0123`, `-0.0040`, and which way it went.
fn change(active: Option<f64>, trained: f64) -> (String, &'static str) {
    match active {
        None => ("new".into(), ""),
        Some(a) => {
            let d = trained - a;
            let direction = if d > 1e-9 {
                "up"
            } else if d < -1e-9 {
                "down"
            } else {
                ""
            };
            (format!("{d:+.4}"), direction)
        }
    }
}

pub fn render(input: &Input) -> Result<String> {
    let (trained_arn, trained) = input.trained;
    let active = input.evaluated.map(|(_, s)| s);
    let pick = |s: &Scores, k: usize| match k {
        0 => s.metrics.f1_score,
        1 => s.metrics.precision,
        2 => s.metrics.recall,
        _ => s.metrics.accuracy,
    };
    let names = [
        "Average F1",
        "Average precision",
        "Average recall",
        "Average accuracy",
    ];
    let metrics = names
        .iter()
        .enumerate()
        .map(|(k, &name)| {
            let a = active.map(|s| pick(s, k));
            let t = pick(trained, k);
            let (change, direction) = change(a, t);
            Row {
                name,
                active: a.map_or("-".into(), f4),
                trained: f4(t),
                change,
                direction,
            }
        })
        .collect();
    let mut verdict = match active {
        None => "This iteration trained the flywheel's first model.".to_string(),
        Some(a) if trained.metrics.f1_score > a.metrics.f1_score => format!(
            "The new model's average F1 is {:.4} higher than the active model's on the same {} test documents.",
            trained.metrics.f1_score - a.metrics.f1_score,
            input.documents
        ),
        Some(a) => format!(
            "The new model's average F1 is not higher than the active model's ({:.4} against {:.4}).",
            trained.metrics.f1_score, a.metrics.f1_score
        ),
    };
    if input.active_saw_test && active.is_some() {
        verdict.push_str(
            " The active model was trained on these test documents (the flywheel has no new data and no TEST dataset), so its scores are optimistic; add a TEST dataset for a fair comparison.",
        );
    }
    let mut labels: Vec<(f64, LabelRow)> = trained
        .per_label
        .iter()
        .map(|t| {
            let a = active.and_then(|s| s.per_label.iter().find(|l| l.name == t.name));
            let (change, direction) = change(a.map(|l| l.f1_score), t.f1_score);
            let delta = t.f1_score - a.map_or(t.f1_score, |l| l.f1_score);
            (
                delta,
                LabelRow {
                    name: t.name.clone(),
                    support: t.support,
                    active: a.map_or("-".into(), |l| f4(l.f1_score)),
                    trained: f4(t.f1_score),
                    change,
                    direction,
                },
            )
        })
        .collect();
    labels.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.name.cmp(&b.1.name)));
    let page = Page {
        title: format!(
            "Flywheel {}",
            input
                .flywheel_arn
                .rsplit('/')
                .next()
                .unwrap_or(input.flywheel_arn)
        ),
        flywheel: input.flywheel_arn,
        iteration: input.iteration_id,
        documents: input.documents,
        metrics,
        active_arn: input
            .evaluated
            .map_or("none".into(), |(a, _)| a.to_string()),
        trained_arn,
        verdict,
        trained_matrix: confusion_svg(trained.mode, &trained.labels, &trained.confusion)?,
        active_matrix: active
            .map(|s| confusion_svg(s.mode, &s.labels, &s.confusion))
            .transpose()?,
        labels: labels.into_iter().map(|(_, r)| r).collect(),
    };
    page.render()
        .map_err(|e| Error::Training(format!("writing the iteration report: {e}")))
}
