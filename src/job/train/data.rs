//! The labelled documents of a run: the training set (and the test set, when given) read once,
//! their labels checked against Comprehend's rules and numbered, and the training documents
//! grouped so every split keeps duplicates and threads on one side.

use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::input::labeled::{self, DataFormat, LabeledSet};
use crate::model::{Mode, Targets};

use super::groups::{self, Fingerprints, Groups, Overlap};
use super::{TrainConfig, TrainProgress};

/// Training documents (rows `0..n_train`) then test documents, with every row's labels.
pub struct Corpus {
    n_train: usize,
    pub train: LabeledSet,
    pub test: LabeledSet,
    /// Label names, sorted: a label's index is its position here.
    pub labels: Vec<String>,
    /// Every row's label indices (training rows, then test rows).
    pub targets: Targets,
}

impl Corpus {
    pub fn n_train(&self) -> usize {
        self.n_train
    }

    /// Training and test rows.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i`'s text.
    pub fn text(&self, i: usize) -> &str {
        match i.checked_sub(self.n_train) {
            None => self.train.text(i),
            Some(t) => self.test.text(t),
        }
    }

    /// Bytes of text held.
    pub fn text_bytes(&self) -> usize {
        self.train.text_bytes() + self.test.text_bytes()
    }

    /// Frees the texts once every row that will be needed is vectorized.
    pub fn drop_texts(&mut self) {
        self.train = LabeledSet::default();
        self.test = LabeledSet::default();
    }
}

/// What `load` read: the corpus, a digest of every byte, and how the training rows group.
pub struct Loaded {
    pub corpus: Corpus,
    pub sha256: String,
    /// Duplicate and thread groups of the training rows.
    pub groups: Groups,
    /// How much of a given test set repeats the training data.
    pub overlap: Option<Overlap>,
}

/// Where a run's documents come from, for messages.
pub fn source(config: &TrainConfig) -> String {
    config
        .train_uri
        .clone()
        .unwrap_or_else(|| "AugmentedManifests".into())
}

/// Reads one split (`TRAIN` or `TEST`) of the configured data, adding its bytes to `hasher`.
pub fn read_set(
    config: &TrainConfig,
    uri: Option<&str>,
    split: &str,
    hasher: &mut Sha256,
) -> Result<LabeledSet> {
    let opts = config.read_options();
    match config.format {
        DataFormat::AugmentedManifest => {
            labeled::read_manifests(&config.manifests, split, &opts, hasher)
        }
        _ => match uri {
            Some(u) => labeled::read(u, &opts, hasher),
            None => Ok(LabeledSet::default()),
        },
    }
}

/// Reads the training and test data, checks the labels and groups duplicates.
pub fn load(config: &TrainConfig, progress: &mut dyn FnMut(TrainProgress)) -> Result<Loaded> {
    let started = Instant::now();
    let mut hasher = Sha256::new();
    let mut train = read_set(config, config.train_uri.as_deref(), "TRAIN", &mut hasher)?;
    for uri in &config.more_train_uris {
        train.extend(read_set(config, Some(uri), "TRAIN", &mut hasher)?);
    }
    let mut test = read_set(config, config.test_uri.as_deref(), "TEST", &mut hasher)?;
    for uri in &config.more_test_uris {
        test.extend(read_set(config, Some(uri), "TEST", &mut hasher)?);
    }
    if train.is_empty() {
        return Err(Error::data(
            source(config),
            "no training documents were read",
        ));
    }
    progress(TrainProgress::Line(format!(
        "read {} training and {} test documents from {} files ({:.1} MB) in {:.2} s{}",
        train.len(),
        test.len(),
        train.files + test.files,
        (train.bytes + test.bytes) as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        if train.skipped + test.skipped > 0 {
            format!(
                "; skipped {} undecodable documents",
                train.skipped + test.skipped
            )
        } else {
            String::new()
        }
    )));
    let corpus = corpus(config, train, test)?;
    let (groups, overlap) = duplicates(&corpus, progress);
    Ok(Loaded {
        corpus,
        sha256: hex(&hasher.finalize()),
        groups,
        overlap,
    })
}

/// Numbers the labels (sorted names) and checks them: enough examples of each, and no test
/// label the training data lacks.
pub fn corpus(config: &TrainConfig, train: LabeledSet, test: LabeledSet) -> Result<Corpus> {
    check_label_counts(
        &train,
        config.params.mode,
        config.min_examples_per_label,
        &source(config),
    )?;
    let mut labels = train.names().to_vec();
    labels.sort();
    let index_of = |set: &LabeledSet, what: &str| -> Result<Vec<u32>> {
        set.names()
            .iter()
            .map(|name| {
                labels
                    .binary_search(name)
                    .map(|i| i as u32)
                    .map_err(|_| {
                        let first = (0..set.len())
                            .find(|&i| set.labels(i).any(|l| l == name))
                            .unwrap_or(0);
                        Error::data(
                            set.origin(first),
                            format!("{what} label '{name}' does not occur in the training data; every test label needs training examples"),
                        )
                    })
            })
            .collect()
    };
    let train_index = index_of(&train, "training")?;
    let test_index = index_of(&test, "test")?;
    let mut targets = Targets::new(labels.len());
    let mut row = Vec::new();
    for (set, index) in [(&train, &train_index), (&test, &test_index)] {
        for i in 0..set.len() {
            row.clear();
            row.extend(set.label_ids(i).iter().map(|&l| index[l as usize]));
            row.sort_unstable();
            targets.push(&row);
        }
    }
    Ok(Corpus {
        n_train: train.len(),
        train,
        test,
        labels,
        targets,
    })
}

/// Checks label counts against Comprehend's rules.
pub fn check_label_counts(set: &LabeledSet, mode: Mode, min: usize, source: &str) -> Result<()> {
    let mut labels: Vec<(String, usize)> = set.names().iter().map(|n| (n.clone(), 0)).collect();
    for i in 0..set.len() {
        for &l in set.label_ids(i) {
            labels[l as usize].1 += 1;
        }
    }
    labels.sort();
    let names: Vec<&str> = labels.iter().map(|(n, _)| n.as_str()).collect();
    if mode == Mode::MultiClass && labels.len() < 2 {
        return Err(Error::data(
            source,
            format!(
                "found {} label(s) {:?}; MULTI_CLASS training needs at least 2",
                labels.len(),
                names
            ),
        ));
    }
    if mode == Mode::MultiLabel && labels.is_empty() {
        return Err(Error::data(source, "found no labels"));
    }
    let mut few: Vec<(String, usize)> = labels.into_iter().filter(|(_, n)| *n < min).collect();
    if !few.is_empty() {
        few.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        let list: Vec<String> = few
            .iter()
            .take(10)
            .map(|(l, n)| format!("'{l}' has {n}"))
            .collect();
        return Err(Error::data(
            source,
            format!(
                "insufficient data: at least {min} examples are required for each label, but {}{}; add examples (or lower the minimum examples per label)",
                list.join(", "),
                if few.len() > 10 { format!(" and {} more", few.len() - 10) } else { String::new() }
            ),
        ));
    }
    Ok(())
}

/// Groups the training documents and counts test documents that repeat training documents.
pub fn duplicates(
    corpus: &Corpus,
    progress: &mut dyn FnMut(TrainProgress),
) -> (Groups, Option<Overlap>) {
    let started = Instant::now();
    let prints = Fingerprints::of_all(corpus.n_train(), |i| corpus.train.text(i));
    let groups = groups::group_prints(&prints);
    let c = &groups.counts;
    progress(TrainProgress::Line(format!(
        "duplicates: {} exact, {} near, {} in threads; {} groups (largest {}) kept whole in every split ({:.2} s)",
        c.exact_duplicates,
        c.near_duplicates,
        c.thread_members,
        c.groups,
        c.largest_group,
        started.elapsed().as_secs_f64()
    )));
    let overlap = (!corpus.test.is_empty()).then(|| {
        let test = Fingerprints::of_all(corpus.test.len(), |i| corpus.test.text(i));
        let o = groups::overlap(&prints, &test);
        if o.exact_duplicates_of_training + o.near_duplicates_of_training > 0 {
            progress(TrainProgress::Line(format!(
                "warning: {} of the {} test documents repeat training documents ({} exactly, {} nearly): the evaluation overstates quality on new documents",
                o.exact_duplicates_of_training + o.near_duplicates_of_training,
                o.test_documents,
                o.exact_duplicates_of_training,
                o.near_duplicates_of_training
            )));
        }
        o
    });
    (groups, overlap)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
