//! The training report: one self-contained HTML page (no scripts, no external files) written
//! next to the model and into the training output. Charts are SVG drawn by plotters; the page
//! is an askama template (`templates/report.html`).

use askama::Template;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::search::SearchRecord;
use super::{Evaluation, Selection};
use crate::error::{Error, Result};
use crate::model::metrics::{self, LabelScore};
use crate::model::{Mode, TrainParams};
use crate::text::FeatureSpec;

/// The file name of the report, in the model folder and the training output.
pub const FILE: &str = "report.html";

/// Everything the report shows.
pub struct ReportInput<'a> {
    pub name: &'a str,
    pub arn: &'a str,
    pub mode: Mode,
    pub labels: &'a [String],
    pub documents: usize,
    pub evaluation: &'a Evaluation,
    pub selection: &'a Selection,
    pub features: &'a FeatureSpec,
    pub params: &'a TrainParams,
    pub seconds: f64,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    title: String,
    arn: &'a str,
    mode: &'static str,
    documents: usize,
    trained: usize,
    tested: usize,
    seconds: String,
    headline: Vec<(&'static str, String)>,
    matrix_svg: String,
    matrix_note: String,
    per_label: Vec<LabelRow>,
    binary: Option<Binary>,
    setting: String,
    search: Option<SearchView>,
    duplicates: Vec<(&'static str, usize)>,
    overlap: Option<String>,
}

struct LabelRow {
    name: String,
    precision: String,
    recall: String,
    f1: String,
    f1_percent: String,
    support: u64,
}

struct Binary {
    positive: String,
    pr_svg: String,
    histogram_svg: String,
}

struct SearchView {
    folds: usize,
    seconds: String,
    rows: Vec<SearchRow>,
}

struct SearchRow {
    setting: String,
    score: String,
    macro_f1: String,
    seconds: String,
    note: String,
    chosen: bool,
}

fn f4(v: f64) -> String {
    format!("{v:.4}")
}

/// Renders the report page.
pub fn render(input: &ReportInput) -> Result<String> {
    let ev = input.evaluation;
    let predicted: Vec<Vec<u32>> = ev
        .probabilities
        .iter()
        .map(|p| super::fit::decide(input.mode, p))
        .collect();
    let m = &ev.metadata.evaluation_metrics;
    let per_label = metrics::per_label(input.labels, &ev.truth, &predicted);
    let binary =
        (input.mode == Mode::MultiClass && input.labels.len() == 2 && !ev.truth.is_empty())
            .then(|| binary_charts(input.labels, &ev.truth, &ev.probabilities))
            .transpose()?;
    let page = Page {
        title: input.name.to_string(),
        arn: input.arn,
        mode: match input.mode {
            Mode::MultiClass => "MULTI_CLASS",
            Mode::MultiLabel => "MULTI_LABEL",
        },
        documents: input.documents,
        trained: ev.metadata.number_of_trained_documents,
        tested: ev.metadata.number_of_test_documents,
        seconds: format!("{:.1}", input.seconds),
        headline: vec![
            ("Accuracy", f4(m.accuracy)),
            ("Macro F1", f4(m.f1_score)),
            ("Macro precision", f4(m.precision)),
            ("Macro recall", f4(m.recall)),
            ("Micro F1", f4(m.micro_f1_score)),
            ("Hamming loss", f4(m.hamming_loss)),
        ],
        matrix_svg: confusion_svg(input.mode, input.labels, &ev.confusion.confusion_matrix)?,
        matrix_note: match input.mode {
            Mode::MultiClass => "Rows are the true label, columns the predicted one; colour is the share of the row.".into(),
            Mode::MultiLabel => "One row per label: true negatives, false positives, false negatives, true positives; colour is the share of the row.".into(),
        },
        per_label: per_label.iter().map(label_row).collect(),
        binary,
        setting: describe_setting(input.features, input.params),
        search: input.selection.search.as_ref().map(search_view),
        duplicates: {
            let d = &input.selection.duplicates;
            vec![
                ("Training documents", d.documents),
                ("Exact duplicates", d.exact_duplicates),
                ("Near duplicates", d.near_duplicates),
                ("Joined by thread", d.thread_members),
                ("Groups kept whole in every split", d.groups),
                ("Largest group", d.largest_group),
            ]
        },
        overlap: input.selection.test_overlap.as_ref().map(|o| {
            format!(
                "{} of the {} test documents repeat training documents ({} exactly, {} nearly).",
                o.exact_duplicates_of_training + o.near_duplicates_of_training,
                o.test_documents,
                o.exact_duplicates_of_training,
                o.near_duplicates_of_training
            )
        }),
    };
    page.render()
        .map_err(|e| Error::Training(format!("rendering the report: {e}")))
}

fn label_row(s: &LabelScore) -> LabelRow {
    LabelRow {
        name: s.name.clone(),
        precision: f4(s.precision),
        recall: f4(s.recall),
        f1: f4(s.f1_score),
        f1_percent: format!("{:.1}", s.f1_score * 100.0),
        support: s.support,
    }
}

fn describe_setting(f: &FeatureSpec, p: &TrainParams) -> String {
    super::search::Candidate {
        features: f.clone(),
        params: p.clone(),
    }
    .describe()
}

fn search_view(r: &SearchRecord) -> SearchView {
    SearchView {
        folds: r.folds,
        seconds: format!("{:.1}", r.seconds),
        rows: r
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| SearchRow {
                setting: c.setting.clone(),
                score: c.score.map(f4).unwrap_or_default(),
                macro_f1: c.macro_f1.map(f4).unwrap_or_default(),
                seconds: if c.score.is_some() {
                    format!("{:.1}", c.seconds)
                } else {
                    String::new()
                },
                note: c.skipped.clone().unwrap_or_default(),
                chosen: i == r.chosen,
            })
            .collect(),
    }
}

fn plot_error(e: impl std::fmt::Display) -> Error {
    Error::Training(format!("drawing a report chart: {e}"))
}

/// A heat map of the confusion matrix (row-normalised colour, counts written in the cells).
pub(crate) fn confusion_svg(
    mode: Mode,
    labels: &[String],
    matrix: &serde_json::Value,
) -> Result<String> {
    let rows: Vec<Vec<u64>> = match mode {
        Mode::MultiClass => serde_json::from_value(matrix.clone())?,
        Mode::MultiLabel => {
            let per: Vec<[[u64; 2]; 2]> = serde_json::from_value(matrix.clone())?;
            per.iter()
                .map(|m| vec![m[0][0], m[0][1], m[1][0], m[1][1]])
                .collect()
        }
    };
    let columns: Vec<String> = match mode {
        Mode::MultiClass => labels.to_vec(),
        Mode::MultiLabel => ["TN", "FP", "FN", "TP"].map(String::from).to_vec(),
    };
    let n_rows = rows.len().max(1) as i32;
    let n_cols = columns.len().max(1) as i32;
    // Cells as large as a 640-pixel square allows, never under 24 or over 110 pixels.
    let cell = (640 / n_cols.max(n_rows)).clamp(24, 110);
    let text_width = |s: &str| s.chars().count().min(36) as i32 * 7;
    let longest_row = labels.iter().map(|l| text_width(l)).max().unwrap_or(28);
    let longest_col = columns.iter().map(|l| text_width(l)).max().unwrap_or(28);
    // Column names lie flat when they fit under their cell, else they run downwards.
    let flat = longest_col + 8 <= cell;
    let left = 34 + longest_row + 10;
    let top = 12;
    let below = if flat { 26 } else { longest_col + 14 } + 26;
    let width = (left + cell * n_cols + 16) as u32;
    let height = (top + cell * n_rows + below) as u32;
    let short = |s: &str| -> String {
        if s.chars().count() > 36 {
            s.chars().take(35).chain(std::iter::once('…')).collect()
        } else {
            s.to_string()
        }
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let centred = Pos::new(HPos::Center, VPos::Center);
        for (r, row) in rows.iter().enumerate() {
            let total: u64 = row.iter().sum();
            let y = top + r as i32 * cell;
            for (c, &count) in row.iter().enumerate() {
                let share = if total == 0 {
                    0.0
                } else {
                    count as f64 / total as f64
                };
                let shade = (255.0 - share * 200.0) as u8;
                let fill = RGBColor(shade, (shade as f64 * 0.9 + 20.0) as u8, 255);
                let x = left + c as i32 * cell;
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell - 1, y + cell - 1)],
                    fill.filled(),
                ))
                .map_err(plot_error)?;
                if cell >= 28 {
                    let color = if share > 0.55 { &WHITE } else { &BLACK };
                    let size = (cell / 4).clamp(10, 18);
                    root.draw(&Text::new(
                        count.to_string(),
                        (x + cell / 2, y + cell / 2),
                        ("sans-serif", size).into_font().color(color).pos(centred),
                    ))
                    .map_err(plot_error)?;
                }
            }
        }
        let name_style = ("sans-serif", 12).into_font().color(&BLACK);
        for (r, name) in labels.iter().enumerate() {
            root.draw(&Text::new(
                short(name),
                (left - 6, top + r as i32 * cell + cell / 2),
                name_style.pos(Pos::new(HPos::Right, VPos::Center)),
            ))
            .map_err(plot_error)?;
        }
        let grid_bottom = top + cell * n_rows;
        for (c, name) in columns.iter().enumerate() {
            let x = left + c as i32 * cell + cell / 2;
            let style = if flat {
                name_style.pos(Pos::new(HPos::Center, VPos::Top))
            } else {
                name_style
                    .transform(FontTransform::Rotate90)
                    .pos(Pos::new(HPos::Left, VPos::Center))
            };
            root.draw(&Text::new(short(name), (x, grid_bottom + 6), style))
                .map_err(plot_error)?;
        }
        let title = ("sans-serif", 13)
            .into_font()
            .color(&RGBColor(93, 102, 120));
        let (across, down) = match mode {
            Mode::MultiClass => ("predicted label", "true label"),
            Mode::MultiLabel => ("outcome per label", "label"),
        };
        root.draw(&Text::new(
            across,
            (left + cell * n_cols / 2, height as i32 - 12),
            title.pos(centred),
        ))
        .map_err(plot_error)?;
        root.draw(&Text::new(
            down,
            (12, top + cell * n_rows / 2),
            title.transform(FontTransform::Rotate270).pos(centred),
        ))
        .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(svg.replacen("<svg ", "<svg id=\"confusion-matrix\" role=\"img\" ", 1))
}

/// For binary models: the precision-recall curve of the positive (rarer) label and the
/// histogram of its score among documents of each true label.
fn binary_charts(labels: &[String], truth: &[Vec<u32>], probs: &[Vec<f64>]) -> Result<Binary> {
    let count = |l: u32| truth.iter().filter(|t| t.first() == Some(&l)).count();
    let positive: u32 = if count(1) <= count(0) { 1 } else { 0 };
    let mut scored: Vec<(f64, bool)> = truth
        .iter()
        .zip(probs)
        .map(|(t, p)| (p[positive as usize], t.first() == Some(&positive)))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total_pos = scored.iter().filter(|s| s.1).count().max(1) as f64;
    let mut curve = Vec::with_capacity(scored.len() + 1);
    let (mut tp, mut fp) = (0.0, 0.0);
    curve.push((0.0, 1.0));
    for (i, &(score, pos)) in scored.iter().enumerate() {
        if pos {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        // One point per distinct score.
        if scored.get(i + 1).is_none_or(|next| next.0 != score) {
            curve.push((tp / total_pos, tp / (tp + fp)));
        }
    }
    let mut pr_svg = String::new();
    {
        let root = SVGBackend::with_string(&mut pr_svg, (420, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..1f64, 0f64..1.02f64)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("recall")
            .y_desc("precision")
            .draw()
            .map_err(plot_error)?;
        chart
            .draw_series(LineSeries::new(curve, BLUE.stroke_width(2)))
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }

    const BINS: usize = 20;
    let mut hist = [[0u32; BINS]; 2];
    for &(score, pos) in &scored {
        let bin = ((score * BINS as f64) as usize).min(BINS - 1);
        hist[usize::from(pos)][bin] += 1;
    }
    let top = hist.iter().flatten().copied().max().unwrap_or(1).max(1);
    let mut histogram_svg = String::new();
    {
        let root = SVGBackend::with_string(&mut histogram_svg, (420, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..1f64, 0u32..top + top / 10 + 1)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc(format!("score of '{}'", labels[positive as usize]))
            .y_desc("documents")
            .draw()
            .map_err(plot_error)?;
        let width = 1.0 / BINS as f64;
        let colors = [RGBColor(90, 120, 200), RGBColor(220, 90, 60)];
        for (class, color) in colors.into_iter().enumerate() {
            let name = if class == 1 {
                labels[positive as usize].clone()
            } else {
                labels[1 - positive as usize].clone()
            };
            chart
                .draw_series(hist[class].iter().enumerate().filter(|(_, &h)| h > 0).map(
                    |(b, &h)| {
                        Rectangle::new(
                            [(b as f64 * width, 0), ((b + 1) as f64 * width, h)],
                            color.mix(0.55).filled(),
                        )
                    },
                ))
                .map_err(plot_error)?
                .label(format!("true {name}"))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.mix(0.55).filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperMiddle)
            .draw()
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(Binary {
        positive: labels[positive as usize].clone(),
        pr_svg,
        histogram_svg,
    })
}
