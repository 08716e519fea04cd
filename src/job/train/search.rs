//! The settings search. Comprehend's `CreateDocumentClassifier` has no tuning knobs, so with no
//! tuning flags docclass chooses the features and the regularisation from the data: candidates
//! are scored by cross-validation on folds that keep duplicates and threads whole (`folds`), in
//! stages (features first, then the regularisation, then the class weights, each stage starting
//! from the best so far), and the winner is refitted on all the data. Flags fix their setting in
//! every candidate. Candidates that differ from the previous one only in C or class weights
//! start their fold fits from its fold models. Everything is recorded in `model.json` under
//! `Search`.
//!
//! Ranking candidates does not need every row of a large corpus: above `SEARCH_ROWS` training
//! documents the stages run on a random sample of that size (its folds still keep duplicates and
//! threads together), and the best few candidates are then scored again on a sample four times
//! larger (a learning-curve check: the winner there wins), so the search's cost stops growing
//! with the corpus while the final fit uses it all.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::budget::{self, Estimate};
use super::cross_validate::{out_of_fold, OutOfFold};
use super::data::Corpus;
use super::fit;
use super::folds::{grouped_folds, sample};
use super::store::{tf_key, vectorize};
use super::{TrainConfig, TrainProgress};
use crate::error::Result;
use crate::model::metrics;
use crate::model::{ClassWeight, LinearModel, Mode, Targets, TfStore, TrainParams};
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
}

impl Default for SearchSettings {
    fn default() -> Self {
        SearchSettings {
            folds: 3,
            budget: Duration::from_secs(40),
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
    /// Accuracy (MULTI_CLASS) or micro F1 averaged at 0.5 and 0.3 (MULTI_LABEL) of the pooled
    /// out-of-fold predictions.
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
    /// Documents it was scored on, when a sample of the training documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<usize>,
}

impl CandidateScore {
    /// The record of `cand` before it is scored (or skipped), scored on `documents` when a sample.
    fn unscored(cand: &Candidate, documents: Option<usize>) -> Self {
        CandidateScore {
            setting: cand.describe(),
            features: cand.features.clone(),
            c: cand.params.c,
            class_weight: cand.params.class_weight,
            score: None,
            macro_f1: None,
            seconds: 0.0,
            skipped: None,
            documents,
        }
    }
}

/// What the search did, for `model.json` and the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SearchRecord {
    pub folds: usize,
    /// Training documents the stages scored candidates on, when a sample (the best few were
    /// scored again on a larger one, recorded with their `Documents`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<usize>,
    pub candidates: Vec<CandidateScore>,
    /// Index into `candidates` of the setting chosen.
    pub chosen: usize,
    /// Wall time of the whole search (not in `model.json`).
    #[serde(skip)]
    pub seconds: f64,
}

/// The feature families tried, in order of preference on ties and of falling cost per document
/// (each stores more features than the next): short texts gain from character
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

/// Training documents above which the stages run on a grouped sample of this many.
pub const SEARCH_ROWS: usize = 25_000;
/// How much larger the sample the best candidates are scored again on is.
const CONFIRM_FACTOR: usize = 4;
/// How many of the best candidates are scored again.
const CONFIRM_TOP: usize = 3;
/// Passes a fit from zero is expected to take before one has been seen (C=100: 40 on SMS,
/// 150-200 on 20news).
const COLD_PASSES: usize = 150;

/// The training documents the search may use.
pub struct Data<'a> {
    pub corpus: &'a Corpus,
    /// Corpus rows to search on (a fold's training rows, or every training row).
    pub rows: &'a [u32],
    /// The duplicate group of every training row of the corpus.
    pub groups: &'a [usize],
}

/// One sample of the search's rows, vectorized one feature family at a time.
struct Sample {
    /// Corpus rows; store row `k` is `rows[k]`.
    rows: Vec<u32>,
    targets: Targets,
    fold_of: Vec<usize>,
    store: Option<(FeatureSpec, TfStore)>,
}

impl Sample {
    fn new(data: &Data, size: usize, config: &TrainConfig, folds: usize) -> Sample {
        let targets = data.corpus.targets.subset(data.rows);
        let picked = sample(&targets, size, config.seed);
        let rows: Vec<u32> = picked.iter().map(|&k| data.rows[k as usize]).collect();
        let groups: Vec<usize> = rows.iter().map(|&i| data.groups[i as usize]).collect();
        let targets = targets.subset(&picked);
        let fold_of = grouped_folds(&groups, &targets, folds, config.seed);
        Sample {
            rows,
            targets,
            fold_of,
            store: None,
        }
    }

    /// Vectorizes the sample under `spec` unless its store already has that family's counts
    /// (one family's at a time).
    fn vectorize(&mut self, corpus: &Corpus, spec: &FeatureSpec) -> Result<()> {
        let key = tf_key(spec);
        if self.store.as_ref().map(|(k, _)| k) != Some(&key) {
            self.store = None;
            self.store = Some((key.clone(), vectorize(&key, corpus, &self.rows)?));
        }
        Ok(())
    }

    fn store(&self) -> &TfStore {
        &self.store.as_ref().expect("vectorized first").1
    }
}

/// Scores candidates, remembering every one, within the time and memory budgets.
struct Scorer<'a, 'p> {
    data: &'a Data<'a>,
    config: &'a TrainConfig,
    settings: &'a SearchSettings,
    mode: Mode,
    started: Instant,
    sample: Sample,
    /// Whether `sample` is less than all the search's rows.
    sampled: bool,
    scored: Vec<(Candidate, CandidateScore)>,
    /// The last scored candidate's fold models: the next candidate with the same features (a
    /// neighbouring C, the other class weights) starts its fits there, in a fraction of the
    /// iterations.
    warm: Option<(FeatureSpec, Vec<LinearModel>)>,
    /// The mean of the best candidate's fold models: the evaluation's fit starts there.
    best_model: Option<LinearModel>,
    /// Most passes one fold's fit took from cold (a new feature family), and the longest time a
    /// warm-started candidate took.
    cold_passes: usize,
    warm_seconds: f64,
    /// Seconds of one pass over the sample's first fold, per feature family probed.
    pass_seconds: Vec<(FeatureSpec, f64)>,
    progress: &'p mut dyn FnMut(TrainProgress),
    best_index: Option<usize>,
}

impl Scorer<'_, '_> {
    /// The candidate's score (`None` when it was skipped); each candidate is scored once per
    /// sample.
    fn score(&mut self, cand: Candidate, force: bool) -> Result<Option<f64>> {
        let documents = self.sampled.then_some(self.sample.rows.len());
        if let Some((_, r)) = self
            .scored
            .iter()
            .find(|(c, r)| *c == cand && r.documents == documents)
        {
            return Ok(r.score);
        }
        let mut record = CandidateScore::unscored(&cand, documents);
        if !force {
            record.skipped = self.over_budget(&cand)?;
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
        let labels = &self.data.corpus.labels;
        self.sample.vectorize(self.data.corpus, &cand.features)?;
        let store = self.sample.store();
        let params = TrainParams {
            tolerance: cand.params.tolerance.max(SEARCH_TOLERANCE),
            ..cand.params.clone()
        };
        let warm = self
            .warm
            .take()
            .and_then(|(f, models)| warm_for(&f, models, &cand.features));
        let context = format!("search: {}", record.setting);
        let progress = &mut *self.progress;
        let oof = out_of_fold(
            &cand.features,
            &params,
            &fit::Data {
                store,
                targets: &self.sample.targets,
                labels,
            },
            &self.sample.fold_of,
            self.settings.folds,
            warm.as_ref().map(|(_, models)| models.as_slice()),
            &mut |event| progress(event.as_status_of(&context)),
        )?;
        let warmed = warm.is_some();
        drop(warm);
        if !warmed {
            self.cold_passes = self.cold_passes.max(oof.most_passes);
        }
        let truth = self.sample.targets.to_vecs();
        let (m, _) = metrics::evaluate(self.mode, labels, &truth, &oof.predicted);
        let score = score_of(self.mode, labels, &truth, &oof);
        self.warm = Some((cand.features.clone(), oof.models));
        record.score = Some(score);
        record.macro_f1 = Some(m.f1_score);
        record.seconds = t.elapsed().as_secs_f64();
        if warmed {
            self.warm_seconds = self.warm_seconds.max(record.seconds);
        }
        (self.progress)(TrainProgress::Line(format!(
            "search: {}: {} {:.4}, macro F1 {:.4} ({:.1} s{})",
            record.setting,
            match self.mode {
                Mode::MultiClass => "accuracy",
                Mode::MultiLabel => "micro F1 at 0.5 and 0.3",
            },
            score,
            m.f1_score,
            record.seconds,
            match documents {
                Some(n) => format!(", {n} documents"),
                None => String::new(),
            }
        )));
        self.scored.push((cand, record));
        Ok(Some(score))
    }

    /// Why `cand` must be skipped, if it must: its final fit on every row would not fit the
    /// memory budget, or scoring it would overrun the search's time budget.
    fn over_budget(&mut self, cand: &Candidate) -> Result<Option<String>> {
        let estimate = self.final_fit_estimate(cand)?;
        if estimate.peak() > self.config.memory.bytes {
            return Ok(Some(format!(
                "its final fit would need about {}, over the memory budget of {}",
                budget::human_bytes(estimate.peak()),
                budget::human_bytes(self.config.memory.bytes)
            )));
        }
        let predicted = self.predicted(cand)?;
        if self.started.elapsed() + predicted > self.settings.budget {
            return Ok(Some(format!(
                "about {:.0} s more would overrun the search's {} s budget",
                predicted.as_secs_f64(),
                self.settings.budget.as_secs()
            )));
        }
        Ok(None)
    }

    /// The run's peak if `cand` wins: every row vectorized like the sample's, and the final fit.
    fn final_fit_estimate(&mut self, cand: &Candidate) -> Result<Estimate> {
        let corpus = self.data.corpus;
        let n_labels = corpus.labels.len();
        let rows = self.data.rows.len();
        self.sample.vectorize(corpus, &cand.features)?;
        let store = self.sample.store();
        let scale = rows as f64 / store.n_rows().max(1) as f64;
        // Vocabularies grow about as n^0.7; the hashed space caps them.
        let columns = (store.n_cols() as f64 * scale.powf(0.7))
            .min(cand.features.n_features() as f64) as usize;
        let heads = self.mode.heads(n_labels);
        let params = columns * heads + heads;
        Ok(Estimate {
            documents: corpus.len() as u64,
            text_bytes: corpus.text_bytes() as u64,
            store_bytes: (store.heap_bytes() as f64 * corpus.len() as f64
                / store.n_rows().max(1) as f64) as u64,
            fit_bytes: budget::fit_bytes(rows, params, heads)
                + 8 * (cand.features.n_features() * heads) as u64,
        })
    }

    /// How long `cand` will take: a warm start like the longest warm one so far; a cold one
    /// (a new feature family) one measured pass over the sample's first fold times the most
    /// passes a cold fit has taken (`COLD_PASSES` before any), for every fold.
    fn predicted(&mut self, cand: &Candidate) -> Result<Duration> {
        let warm = self
            .warm
            .as_ref()
            .is_some_and(|(f, _)| *f == cand.features || lift_bits(f, &cand.features).is_some());
        if warm && self.warm_seconds > 0.0 {
            return Ok(Duration::from_secs_f64(self.warm_seconds));
        }
        let pass = self.pass_seconds(cand)?;
        let passes = if self.cold_passes > 0 {
            self.cold_passes
        } else {
            COLD_PASSES
        };
        let cold = pass * passes as f64 * self.settings.folds as f64;
        Ok(Duration::from_secs_f64(if warm {
            cold / 3.0
        } else {
            cold
        }))
    }

    /// One pass of `cand`'s optimiser over the sample's first fold's training rows, timed once
    /// per feature family and sample.
    fn pass_seconds(&mut self, cand: &Candidate) -> Result<f64> {
        if let Some((_, s)) = self.pass_seconds.iter().find(|(f, _)| *f == cand.features) {
            return Ok(*s);
        }
        self.sample.vectorize(self.data.corpus, &cand.features)?;
        let rows: Vec<u32> = (0..self.sample.fold_of.len() as u32)
            .filter(|&i| self.sample.fold_of[i as usize] != 0)
            .collect();
        let seconds = fit::pass_seconds(
            &cand.features,
            &cand.params,
            &fit::Data {
                store: self.sample.store(),
                targets: &self.sample.targets,
                labels: &self.data.corpus.labels,
            },
            &rows,
        )?;
        self.pass_seconds.push((cand.features.clone(), seconds));
        Ok(seconds)
    }

    fn best(&self) -> Option<(usize, f64)> {
        self.best_index
            .map(|i| (i, self.scored[i].1.score.expect("the best was scored")))
    }

    /// Proposes `cand` and keeps it when it beats the best by `MIN_GAIN` (the first always wins).
    fn try_move(&mut self, cand: Candidate, force: bool) -> Result<bool> {
        let Some(score) = self.score(cand, force)? else {
            return Ok(false);
        };
        let wins = self.best().is_none_or(|(_, b)| score >= b + MIN_GAIN);
        if wins {
            self.best_index = Some(self.scored.len() - 1);
            self.best_model = self.warm_mean();
        }
        Ok(wins)
    }

    /// The mean of the last scored candidate's fold models: each saw two thirds of the rows,
    /// their mean is nearer the fit on all of them than any one (20news, words, C=300: the
    /// evaluation's fit from one fold model took 170 iterations).
    fn warm_mean(&self) -> Option<LinearModel> {
        self.warm
            .as_ref()
            .and_then(|(_, models)| LinearModel::mean(models))
    }

    /// The current best candidate.
    fn best_candidate(&self) -> Candidate {
        let (b, _) = self.best().expect("a family was scored");
        self.scored[b].0.clone()
    }
}

/// How many bits larger `to`'s feature space is than `from`'s, when that is all that differs.
fn lift_bits(from: &FeatureSpec, to: &FeatureSpec) -> Option<u32> {
    let bits = to.n_features_log2.checked_sub(from.n_features_log2)?;
    let same = FeatureSpec {
        n_features_log2: to.n_features_log2,
        ..from.clone()
    };
    (bits > 0 && same == *to).then_some(bits)
}

/// Fold models of `from`'s features as starting points for `to`'s: as they are for the same
/// features, lifted into the larger space when only the space grew (`LinearModel::lifted`), none
/// otherwise.
fn warm_for(
    from: &FeatureSpec,
    models: Vec<LinearModel>,
    to: &FeatureSpec,
) -> Option<(FeatureSpec, Vec<LinearModel>)> {
    if from == to {
        return Some((to.clone(), models));
    }
    let bits = lift_bits(from, to)?;
    let lifted: Option<Vec<LinearModel>> = models.iter().map(|m| m.lifted(bits)).collect();
    lifted.map(|m| (to.clone(), m))
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
/// Stages: 1. feature family, 2. C, 3. class weights, 4. feature space, 5. label weighting;
/// then, when the stages ran on a sample, the learning-curve check.
pub fn search(
    data: &Data,
    config: &TrainConfig,
    settings: &SearchSettings,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<Winner> {
    let base = &config.params;
    let overrides = &config.overrides;
    let mode = base.mode;
    let sample = Sample::new(data, SEARCH_ROWS, config, settings.folds);
    let sampled = sample.rows.len() < data.rows.len();
    if sampled {
        progress(TrainProgress::Line(format!(
            "search: scoring candidates on a sample of {} of the {} documents",
            sample.rows.len(),
            data.rows.len()
        )));
    }
    let mut s = Scorer {
        data,
        config,
        settings,
        mode,
        started: Instant::now(),
        sample,
        sampled,
        scored: Vec::new(),
        warm: None,
        best_model: None,
        cold_passes: 0,
        warm_seconds: 0.0,
        pass_seconds: Vec::new(),
        progress,
        best_index: None,
    };
    let fix = |mut c: Candidate| {
        overrides.apply(&mut c.features, &mut c.params);
        c
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
    score_families(&mut s, &families)?;
    if s.best_index.is_none() {
        // Every family was over a budget: train the first anyway, as a run with that setting
        // given by flags would (the run's own memory check refuses it if it cannot fit).
        let first = families[0].clone();
        s.scored.retain(|(c, _)| *c != first);
        s.try_move(first, true)?;
    }

    // 2. Regularisation: walk the ladder up from the start, or down if up does not help.
    if overrides.c.is_none() {
        let at = |c: f64| C_LADDER.iter().position(|&v| v == c);
        for step in [1isize, -1] {
            let mut moved = false;
            loop {
                let current = s.best_candidate();
                let Some(i) = at(current.params.c) else { break };
                let j = i as isize + step;
                if j < 0 || j as usize >= C_LADDER.len() {
                    break;
                }
                let mut next = current;
                next.params.c = C_LADDER[j as usize];
                if !s.try_move(fix(next), false)? {
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
        let mut next = s.best_candidate();
        next.params.class_weight = match next.params.class_weight {
            ClassWeight::Balanced => ClassWeight::None,
            ClassWeight::None => ClassWeight::Balanced,
        };
        s.try_move(fix(next), false)?;
    }
    if overrides.n_features_log2.is_none() {
        let mut next = s.best_candidate();
        if next.features.n_features_log2 < LARGE_FEATURES_LOG2 {
            next.features.n_features_log2 = LARGE_FEATURES_LOG2;
            s.try_move(fix(next), false)?;
        }
    }

    // 5. Label weighting of the features (NB-SVM's log-count ratios, folded into IDF).
    if overrides.label_weighting.is_none() {
        let mut next = s.best_candidate();
        if next.features.idf {
            next.features.label_weighting = !next.features.label_weighting;
            s.try_move(fix(next), false)?;
        }
    }

    if s.sampled {
        confirm_on_more_rows(&mut s)?;
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
    let sample = sampled.then(|| {
        s.scored
            .iter()
            .filter_map(|(_, r)| r.documents)
            .min()
            .unwrap_or(0)
    });
    Ok(Winner {
        candidate,
        start: s.best_model.take(),
        record: SearchRecord {
            folds: settings.folds,
            sample,
            candidates: s.scored.into_iter().map(|(_, r)| r).collect(),
            chosen,
            seconds,
        },
    })
}

/// Stage 1: the feature families, cheapest first, so an expensive one cannot crowd out the
/// rest of the search: a family after the first is scored only when it is predicted to take at
/// most half the time left (20news: character n-grams would take twice the whole budget, word
/// pairs most of it, for no gain). The winner is chosen in the families' order of preference:
/// a later family must beat an earlier one by `MIN_GAIN`.
fn score_families(s: &mut Scorer, families: &[Candidate]) -> Result<()> {
    let mut costs = Vec::with_capacity(families.len());
    for (i, cand) in families.iter().enumerate() {
        costs.push((s.predicted(cand)?, i));
    }
    // Each family stores fewer features per document than the one before it in
    // `feature_families`, so the last is the cheapest: scored in that fixed order, not in the
    // order of timings that vary from run to run, the search's record and the warm starts
    // that follow are the same on every run (the timings still decide what is skipped).
    costs.reverse();
    let mut scores: Vec<Option<(f64, usize, Option<LinearModel>)>> = vec![None; families.len()];
    for (k, &(cost, i)) in costs.iter().enumerate() {
        let left = s.settings.budget.saturating_sub(s.started.elapsed());
        let cand = families[i].clone();
        if k > 0 && cost > left / 2 && s.over_budget(&cand)?.is_none() {
            let setting = cand.describe();
            (s.progress)(TrainProgress::Line(format!(
                "search: {setting}: skipped (about {:.0} s, more than half of the {:.0} s the search has left)",
                cost.as_secs_f64(),
                left.as_secs_f64()
            )));
            s.scored.push((
                cand,
                CandidateScore {
                    skipped: Some(format!(
                        "about {:.0} s, more than half of the {:.0} s the search had left",
                        cost.as_secs_f64(),
                        left.as_secs_f64()
                    )),
                    ..CandidateScore::unscored(
                        &families[i],
                        s.sampled.then_some(s.sample.rows.len()),
                    )
                },
            ));
            continue;
        }
        if let Some(score) = s.score(cand.clone(), false)? {
            let first_model = s.warm_mean();
            let index = s
                .scored
                .iter()
                .rposition(|(c, r)| *c == cand && r.score.is_some())
                .expect("scored above");
            scores[i] = Some((score, index, first_model));
        }
    }
    for (score, index, model) in scores.into_iter().flatten() {
        if s.best().is_none_or(|(_, b)| score >= b + MIN_GAIN) {
            s.best_index = Some(index);
            s.best_model = model;
        }
    }
    Ok(())
}

/// The learning-curve check: the best few distinct candidates of the sample are scored again
/// on a sample `CONFIRM_FACTOR` times larger (all rows when that is fewer), and the best there
/// wins. Candidates that gain more from more data (a larger feature space, character n-grams)
/// are not ranked by a sample too small to show it.
fn confirm_on_more_rows(s: &mut Scorer) -> Result<()> {
    let mut ranked: Vec<(usize, f64)> = s
        .scored
        .iter()
        .enumerate()
        .filter_map(|(i, (_, r))| r.score.map(|v| (i, v)))
        .collect();
    // Best first; ties go to the earlier (preferred) candidate.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    // The sample's winner first (it may tie others, or have won by preference), then the
    // best of the rest.
    let winner = s.best_index.expect("a family was scored");
    let top: Vec<Candidate> = std::iter::once(winner)
        .chain(ranked.iter().map(|&(i, _)| i).filter(|&i| i != winner))
        .take(CONFIRM_TOP)
        .map(|i| s.scored[i].0.clone())
        .collect();
    if top.len() < 2 {
        return Ok(());
    }
    let size = (s.sample.rows.len() * CONFIRM_FACTOR).min(s.data.rows.len());
    let larger = Sample::new(s.data, size, s.config, s.settings.folds);
    (s.progress)(TrainProgress::Line(format!(
        "search: scoring the best {} again on {} documents",
        top.len(),
        larger.rows.len()
    )));
    s.sampled = larger.rows.len() < s.data.rows.len();
    s.sample = larger;
    s.warm = None;
    // Passes are timed afresh on the larger sample; warm times grow with its rows.
    s.pass_seconds.clear();
    s.warm_seconds *= CONFIRM_FACTOR as f64;
    let before = s.best_index;
    s.best_index = None;
    // Same features together, so warm starts and one vectorizing serve several candidates.
    let mut order: Vec<usize> = (0..top.len()).collect();
    order.sort_by_key(|&k| top.iter().position(|c| c.features == top[k].features));
    let mut scores = vec![None; top.len()];
    for k in order {
        let score = s.score(top[k].clone(), false)?;
        scores[k] = score.map(|v| (v, s.warm_mean()));
    }
    // The sample's winner stands unless another beats it on the larger sample by MIN_GAIN (or
    // it could not be scored there in time).
    let Some((base, base_model)) = scores[0].take() else {
        s.best_index = before;
        return Ok(());
    };
    let mut best = (base, top[0].clone(), base_model);
    for (k, sc) in scores.into_iter().enumerate().skip(1) {
        if let Some((v, model)) = sc {
            if v >= best.0 + MIN_GAIN {
                best = (v, top[k].clone(), model);
            }
        }
    }
    let (_, cand, model) = best;
    s.best_index = s
        .scored
        .iter()
        .rposition(|(c, r)| *c == cand && r.score.is_some());
    s.best_model = model;
    Ok(())
}

/// Thresholds MULTI_LABEL label sets are scored at: Comprehend's decision (0.5) and the 0.3 of
/// AWS's own example.
pub const LABEL_THRESHOLDS: [f64; 2] = [0.5, 0.3];

/// What the search maximises: accuracy for MULTI_CLASS; for MULTI_LABEL the micro F1 of the
/// label sets, averaged over `LABEL_THRESHOLDS`, so a model whose scores only separate labels
/// at one cut-off does not win.
fn score_of(mode: Mode, labels: &[String], truth: &[Vec<u32>], oof: &OutOfFold) -> f64 {
    match mode {
        Mode::MultiClass => {
            metrics::evaluate(mode, labels, truth, &oof.predicted)
                .0
                .accuracy
        }
        Mode::MultiLabel => {
            let f1 = |t: f64| {
                let predicted = labels_over(&oof.probabilities, t);
                metrics::evaluate(mode, labels, truth, &predicted)
                    .0
                    .micro_f1_score
            };
            LABEL_THRESHOLDS.iter().map(|&t| f1(t)).sum::<f64>() / LABEL_THRESHOLDS.len() as f64
        }
    }
}

/// Every document's labels scoring `threshold` or more.
pub fn labels_over(probabilities: &[Vec<f64>], threshold: f64) -> Vec<Vec<u32>> {
    probabilities
        .iter()
        .map(|p| {
            (0..p.len() as u32)
                .filter(|&l| p[l as usize] >= threshold)
                .collect()
        })
        .collect()
}
