//! The settings search. Comprehend's `CreateDocumentClassifier` has no tuning knobs, so with no
//! tuning flags docclass chooses the features and the regularisation from the data: candidates
//! are scored by cross-validation on folds that keep duplicates and threads whole (`folds`), in
//! stages (features first, then the regularisation, then the class weights, each stage starting
//! from the best so far), and the winner is refitted on all the data. Flags fix their setting in
//! every candidate. Candidates that differ from the previous one only in C or class weights
//! start their fold fits from its fold models (a quarter of the time on 20news). Everything is
//! recorded in `model.json` under `Search`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{out_of_fold, term_frequencies, Prepared, TrainProgress};
use crate::error::Result;
use crate::input::labeled::LabeledDoc;
use crate::model::metrics;
use crate::model::train::lbfgs::LbfgsParams;
use crate::model::{ClassWeight, LinearModel, Mode, TrainParams};
use crate::text::FeatureSpec;

/// Settings fixed by the user (tuning flags); `None` leaves the setting to the search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub n_features_log2: Option<u32>,
    pub word_ngrams: Option<u32>,
    pub char_ngrams: Option<Option<[u32; 2]>>,
    pub symbols: Option<bool>,
    pub digit_shapes: Option<bool>,
    pub sublinear_tf: Option<bool>,
    pub idf: Option<bool>,
    pub label_weighting: Option<bool>,
    pub c: Option<f64>,
    pub class_weight: Option<ClassWeight>,
}

impl Overrides {
    pub fn apply(&self, features: &mut FeatureSpec, params: &mut TrainParams) {
        let f = features;
        if let Some(v) = self.n_features_log2 {
            f.n_features_log2 = v;
        }
        if let Some(v) = self.word_ngrams {
            f.word_ngrams = v;
        }
        if let Some(v) = self.char_ngrams {
            f.char_ngrams = v;
        }
        if let Some(v) = self.symbols {
            f.symbols = v;
        }
        if let Some(v) = self.digit_shapes {
            f.digit_shapes = v;
        }
        if let Some(v) = self.sublinear_tf {
            f.sublinear_tf = v;
        }
        if let Some(v) = self.idf {
            f.idf = v;
        }
        if let Some(v) = self.label_weighting {
            f.label_weighting = v;
        }
        if let Some(v) = self.c {
            params.c = v;
        }
        if let Some(v) = self.class_weight {
            params.class_weight = v;
        }
    }
}

/// How the search runs.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSettings {
    pub folds: usize,
    /// Wall time the search may take: a candidate predicted (from those scored before it) to
    /// run past it is skipped, and the best so far wins.
    pub budget: Duration,
    /// Largest estimated optimiser memory a candidate may need.
    pub memory_budget_bytes: u64,
}

impl Default for SearchSettings {
    fn default() -> Self {
        SearchSettings {
            folds: 3,
            budget: Duration::from_secs(40),
            memory_budget_bytes: 640 << 20,
        }
    }
}

/// One setting the search may choose.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub features: FeatureSpec,
    pub params: TrainParams,
}

impl Candidate {
    /// A short description, e.g. `words 1-2 + chars 1-4, C=100, balanced`.
    pub fn describe(&self) -> String {
        let f = &self.features;
        let mut kinds = Vec::new();
        match f.word_ngrams {
            0 => {}
            1 => kinds.push("words".into()),
            n => kinds.push(format!("words 1-{n}")),
        }
        if let Some([lo, hi]) = f.char_ngrams {
            kinds.push(format!("chars {lo}-{hi}"));
        }
        if f.symbols {
            kinds.push("symbols".into());
        }
        if f.digit_shapes {
            kinds.push("digit shapes".into());
        }
        format!(
            "{} (2^{}{}), C={}, {}",
            kinds.join(" + "),
            f.n_features_log2,
            if f.label_weighting {
                ", label-weighted"
            } else {
                ""
            },
            self.params.c,
            self.params.class_weight.describe()
        )
    }
}

/// A candidate's cross-validated score, as `model.json` records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CandidateScore {
    pub setting: String,
    pub features: FeatureSpec,
    pub c: f64,
    pub class_weight: ClassWeight,
    /// Accuracy (MULTI_CLASS) or micro F1 (MULTI_LABEL) of the pooled out-of-fold predictions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub macro_f1: Option<f64>,
    /// Wall time (shown in the report; left out of `model.json`, which must not vary between
    /// identical runs).
    #[serde(skip)]
    pub seconds: f64,
    /// Why the candidate was not scored (time or memory budget).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// What the search did, for `model.json` and the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SearchRecord {
    pub folds: usize,
    pub candidates: Vec<CandidateScore>,
    /// Index into `candidates` of the setting chosen.
    pub chosen: usize,
    /// Wall time of the whole search (not in `model.json`).
    #[serde(skip)]
    pub seconds: f64,
}

/// The feature families tried, in order of preference on ties: short texts gain from character
/// n-grams and symbols (`£`, `!`), long ones from plain word features weighted by how well they
/// tell the labels apart (grouped 5-fold CV, words, C=100: 20news 0.8717 -> 0.8788,
/// SpamAssassin 0.9895 -> 0.9901 at C=300; on SMS, character n-grams without it win).
fn feature_families() -> Vec<FeatureSpec> {
    let base = FeatureSpec::default();
    vec![
        base.clone(),
        FeatureSpec {
            char_ngrams: None,
            ..base.clone()
        },
        FeatureSpec {
            word_ngrams: 1,
            char_ngrams: None,
            symbols: false,
            digit_shapes: false,
            label_weighting: true,
            ..base
        },
    ]
}

/// Regularisation strengths, walked from `STARTING_C` up or down while the score improves.
const C_LADDER: [f64; 7] = [1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0];
const STARTING_C: f64 = 100.0;
/// The larger feature space tried last (fewer hash collisions, a larger model file).
const LARGE_FEATURES_LOG2: u32 = 20;
/// A later, costlier or less usual setting must beat the best so far by this much (a tenth of
/// a point of accuracy is about what separates real gains from fold noise on a few thousand
/// documents).
const MIN_GAIN: f64 = 0.0005;
/// Optimiser tolerance while candidates are compared (the final fits use the configured one):
/// 1.7x faster on 20news, rankings unchanged.
const SEARCH_TOLERANCE: f64 = 1e-4;

/// The training documents the search scores candidates on.
pub struct Data<'a> {
    pub docs: &'a [LabeledDoc],
    pub targets: &'a [Vec<u32>],
    pub labels: &'a [String],
    /// Fold of every document (`folds::grouped_folds`).
    pub fold_of: &'a [usize],
}

/// Scores candidates, remembering every one, within the time and memory budgets.
struct Scorer<'a, 'p> {
    data: &'a Data<'a>,
    settings: &'a SearchSettings,
    mode: Mode,
    started: Instant,
    scored: Vec<(Candidate, CandidateScore)>,
    tf_cache: Option<(FeatureSpec, Prepared)>,
    /// The last scored candidate's fold models: the next candidate with the same features (a
    /// neighbouring C, the other class weights) starts its fits there, in a fraction of the
    /// iterations.
    warm: Option<(FeatureSpec, Vec<LinearModel>)>,
    /// A fold model of the best candidate so far: the evaluation's fit starts there.
    best_model: Option<LinearModel>,
    /// Longest time a candidate took from cold (a new feature family) and from a warm start.
    cold_seconds: f64,
    warm_seconds: f64,
    progress: &'p mut dyn FnMut(TrainProgress),
    best_index: Option<usize>,
}

impl Scorer<'_, '_> {
    /// The candidate's score (`None` when it was skipped); each candidate is scored once.
    fn score(&mut self, cand: Candidate, force: bool) -> Result<Option<f64>> {
        if let Some((_, r)) = self.scored.iter().find(|(c, _)| *c == cand) {
            return Ok(r.score);
        }
        let Data {
            docs,
            targets,
            labels,
            fold_of,
        } = *self.data;
        let mut record = CandidateScore {
            setting: cand.describe(),
            features: cand.features.clone(),
            c: cand.params.c,
            class_weight: cand.params.class_weight,
            score: None,
            macro_f1: None,
            seconds: 0.0,
            skipped: None,
        };
        let memory = optimiser_bytes(&cand, docs, labels.len(), self.mode);
        if !force && memory > self.settings.memory_budget_bytes {
            record.skipped = Some(format!(
                "needs about {} MB for the optimiser, over the {} MB budget",
                memory >> 20,
                self.settings.memory_budget_bytes >> 20
            ));
        } else if !force && self.started.elapsed() + self.predicted(&cand) > self.settings.budget {
            record.skipped = Some(format!(
                "about {:.0} s more would overrun the search's {} s budget",
                self.predicted(&cand).as_secs_f64(),
                self.settings.budget.as_secs()
            ));
        }
        if let Some(why) = &record.skipped {
            (self.progress)(TrainProgress::Line(format!(
                "search: {}: skipped ({why})",
                record.setting
            )));
            self.scored.push((cand, record));
            return Ok(None);
        }
        let t = Instant::now();
        let key = tf_key(&cand.features);
        if self.tf_cache.as_ref().map(|(k, _)| k) != Some(&key) {
            drop(self.tf_cache.take()); // one family's vectors at a time
            let tf = term_frequencies(&key, docs)?;
            self.tf_cache = Some((
                key,
                Prepared {
                    labels: labels.to_vec(),
                    tf,
                    targets: targets.to_vec(),
                },
            ));
        }
        let prepared = &self.tf_cache.as_ref().expect("vectorized above").1;
        let params = TrainParams {
            tolerance: cand.params.tolerance.max(SEARCH_TOLERANCE),
            ..cand.params.clone()
        };
        let warm = self.warm.take().filter(|(f, _)| *f == cand.features);
        let context = format!("search: {}", record.setting);
        let progress = &mut *self.progress;
        let oof = out_of_fold(
            &cand.features,
            &params,
            prepared,
            fold_of,
            self.settings.folds,
            warm.as_ref().map(|(_, models)| models.as_slice()),
            &mut |event| progress(event.as_status_of(&context)),
        )?;
        let warmed = warm.is_some();
        drop(warm);
        self.warm = Some((cand.features.clone(), oof.models));
        let (m, _) = metrics::evaluate(self.mode, labels, targets, &oof.predicted);
        let score = score_of(self.mode, &m);
        record.score = Some(score);
        record.macro_f1 = Some(m.f1_score);
        record.seconds = t.elapsed().as_secs_f64();
        let longest = if warmed {
            &mut self.warm_seconds
        } else {
            &mut self.cold_seconds
        };
        *longest = longest.max(record.seconds);
        (self.progress)(TrainProgress::Line(format!(
            "search: {}: {} {:.4}, macro F1 {:.4} ({:.1} s)",
            record.setting,
            match self.mode {
                Mode::MultiClass => "accuracy",
                Mode::MultiLabel => "micro F1",
            },
            score,
            m.f1_score,
            record.seconds
        )));
        self.scored.push((cand, record));
        Ok(Some(score))
    }

    /// How long `cand` will take, from the candidates scored so far: a warm start like the
    /// longest warm one (a third of a cold one before any), a new feature space like the
    /// longest cold one, scaled by its size.
    fn predicted(&self, cand: &Candidate) -> Duration {
        let warm = self.warm.as_ref().is_some_and(|(f, _)| *f == cand.features);
        let seconds = if warm {
            if self.warm_seconds > 0.0 {
                self.warm_seconds
            } else {
                self.cold_seconds / 3.0
            }
        } else {
            let log2 = self
                .scored
                .iter()
                .filter(|(_, r)| r.score.is_some())
                .map(|(c, _)| c.features.n_features_log2)
                .max()
                .unwrap_or(cand.features.n_features_log2);
            // Time grows with the optimiser's vectors: about 1.4x per 4x more features (20news).
            let growth = 1.4f64.powf((cand.features.n_features_log2 as f64 - log2 as f64) / 2.0);
            self.cold_seconds * growth.max(1.0)
        };
        Duration::from_secs_f64(seconds)
    }

    fn best(&self) -> Option<(usize, f64)> {
        self.best_index
            .map(|i| (i, self.scored[i].1.score.expect("the best was scored")))
    }
}

/// What the search found.
pub struct Winner {
    pub candidate: Candidate,
    /// Every candidate, its score and the choice (for `model.json` and the report).
    pub record: SearchRecord,
    /// One of the winner's fold models: a starting point for fits of the same setting.
    pub start: Option<LinearModel>,
}

/// Runs the search and returns the winner with the record of every candidate.
/// Stages: 1. feature family, 2. C, 3. class weights, 4. feature space, 5. label weighting.
pub fn search(
    data: &Data,
    base: &TrainParams,
    overrides: &Overrides,
    settings: &SearchSettings,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<Winner> {
    let mode = base.mode;
    let mut s = Scorer {
        data,
        settings,
        mode,
        started: Instant::now(),
        scored: Vec::new(),
        tf_cache: None,
        warm: None,
        best_model: None,
        cold_seconds: 0.0,
        warm_seconds: 0.0,
        progress,
        best_index: None,
    };
    let fix = |mut c: Candidate| {
        overrides.apply(&mut c.features, &mut c.params);
        c
    };
    // Proposes `cand` and keeps it when it beats the best by `MIN_GAIN` (the first always wins).
    let try_move = |s: &mut Scorer, cand: Candidate, force: bool| -> Result<bool> {
        let Some(score) = s.score(cand, force)? else {
            return Ok(false);
        };
        let wins = s.best().is_none_or(|(_, b)| score >= b + MIN_GAIN);
        if wins {
            s.best_index = Some(s.scored.len() - 1);
            s.best_model = s.warm.as_ref().and_then(|(_, m)| m.first().cloned());
        }
        Ok(wins)
    };

    // 1. Feature families, at the starting regularisation.
    let families: Vec<Candidate> = feature_families()
        .into_iter()
        .map(|features| {
            fix(Candidate {
                features,
                params: TrainParams {
                    c: STARTING_C,
                    class_weight: ClassWeight::Balanced,
                    ..base.clone()
                },
            })
        })
        .collect();
    for cand in &families {
        try_move(&mut s, cand.clone(), false)?;
    }
    if s.best_index.is_none() {
        // Every family was over the memory budget: train the smallest anyway, as a run with
        // that setting given by flags would.
        let smallest = families
            .iter()
            .min_by_key(|c| optimiser_bytes(c, data.docs, data.labels.len(), mode))
            .expect("there are feature families")
            .clone();
        s.scored.retain(|(c, _)| *c != smallest);
        try_move(&mut s, smallest, true)?;
    }

    // 2. Regularisation: walk the ladder up from the start, or down if up does not help.
    if overrides.c.is_none() {
        let at = |c: f64| C_LADDER.iter().position(|&v| v == c);
        for step in [1isize, -1] {
            let mut moved = false;
            loop {
                let (b, _) = s.best().expect("a family was scored");
                let current = s.scored[b].0.clone();
                let Some(i) = at(current.params.c) else { break };
                let j = i as isize + step;
                if j < 0 || j as usize >= C_LADDER.len() {
                    break;
                }
                let mut next = current;
                next.params.c = C_LADDER[j as usize];
                if !try_move(&mut s, fix(next), false)? {
                    break;
                }
                moved = true;
            }
            if moved {
                break;
            }
        }
    }

    // 3. Class weights, 4. a larger feature space.
    if overrides.class_weight.is_none() {
        let (b, _) = s.best().expect("a family was scored");
        let mut next = s.scored[b].0.clone();
        next.params.class_weight = match next.params.class_weight {
            ClassWeight::Balanced => ClassWeight::None,
            ClassWeight::None => ClassWeight::Balanced,
        };
        try_move(&mut s, fix(next), false)?;
    }
    if overrides.n_features_log2.is_none() {
        let (b, _) = s.best().expect("a family was scored");
        let mut next = s.scored[b].0.clone();
        if next.features.n_features_log2 < LARGE_FEATURES_LOG2 {
            next.features.n_features_log2 = LARGE_FEATURES_LOG2;
            try_move(&mut s, fix(next), false)?;
        }
    }

    // 5. Label weighting of the features (NB-SVM's log-count ratios, folded into IDF).
    if overrides.label_weighting.is_none() {
        let (b, _) = s.best().expect("a family was scored");
        let mut next = s.scored[b].0.clone();
        if next.features.idf {
            next.features.label_weighting = !next.features.label_weighting;
            try_move(&mut s, fix(next), false)?;
        }
    }

    let (chosen, _) = s.best().expect("a family was scored");
    let seconds = s.started.elapsed().as_secs_f64();
    (s.progress)(TrainProgress::Line(format!(
        "search: chose {} after {} candidates in {:.1} s",
        s.scored[chosen].1.setting,
        s.scored.len(),
        seconds
    )));
    let candidate = s.scored[chosen].0.clone();
    Ok(Winner {
        candidate,
        start: s.best_model.take(),
        record: SearchRecord {
            folds: settings.folds,
            candidates: s.scored.into_iter().map(|(_, r)| r).collect(),
            chosen,
            seconds,
        },
    })
}

/// What the search maximises: accuracy for MULTI_CLASS, micro F1 for MULTI_LABEL.
fn score_of(mode: Mode, m: &metrics::EvaluationMetrics) -> f64 {
    match mode {
        Mode::MultiClass => m.accuracy,
        Mode::MultiLabel => m.micro_f1_score,
    }
}

/// The part of a feature spec term frequencies depend on (IDF and normalisation come later).
fn tf_key(spec: &FeatureSpec) -> FeatureSpec {
    FeatureSpec {
        idf: true,
        l2_normalize: true,
        label_weighting: false,
        ..spec.clone()
    }
}

/// The optimiser's memory for a candidate: L-BFGS keeps two vectors per remembered step and
/// about eight more of one f64 per parameter, and there is one parameter per feature seen in
/// the data and head. Features seen are estimated from a sample of the documents.
fn optimiser_bytes(cand: &Candidate, docs: &[LabeledDoc], n_labels: usize, mode: Mode) -> u64 {
    let heads = match mode {
        Mode::MultiClass if n_labels == 2 => 1,
        _ => n_labels,
    } as u64;
    let features = estimated_features(&cand.features, docs);
    let vectors = 2 * LbfgsParams::default().history as u64 + 8;
    features * heads * 8 * vectors
}

/// Distinct hashed features in the corpus, counted on every document when there are few and
/// extrapolated from a fixed sample otherwise (vocabularies grow about as n^0.7).
fn estimated_features(spec: &FeatureSpec, docs: &[LabeledDoc]) -> u64 {
    const SAMPLE: usize = 2000;
    let step = docs.len().div_ceil(SAMPLE).max(1);
    let sample: Vec<&LabeledDoc> = docs.iter().step_by(step).collect();
    let vectorizer = match crate::text::HashingVectorizer::new(spec.clone()) {
        Ok(v) => v,
        Err(_) => return u64::MAX,
    };
    let seen: HashMap<u32, ()> = sample
        .par_iter()
        .map_init(
            || {
                (
                    crate::text::VectorizerScratch::default(),
                    Default::default(),
                )
            },
            |(scratch, out), d| {
                vectorizer.term_frequencies_into(&d.text, scratch, out);
                out.idx.clone()
            },
        )
        .flatten_iter()
        .map(|j| (j, ()))
        .collect();
    let in_sample = seen.len() as f64;
    let scale = (docs.len() as f64 / sample.len().max(1) as f64).powf(0.7);
    (in_sample * scale).min(spec.n_features() as f64) as u64
}
