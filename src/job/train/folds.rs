//! Splits that keep every group of duplicates and every thread on one side: k folds for
//! cross-validation and the settings search, and the hold-out of Comprehend's evaluation (the
//! first of `round(1 / fraction)` folds). Each fold gets about the same number of documents of
//! every label.

use std::collections::BTreeMap;

use crate::model::Targets;
use crate::rng::SplitMix64;

/// The fold (0..k) of every document. Groups are placed largest first (ties in a seeded
/// order) into the fold holding the fewest documents of the group's main label so far, then the
/// fewest documents overall.
pub fn grouped_folds(groups: &[usize], targets: &Targets, k: usize, seed: u64) -> Vec<usize> {
    assert_eq!(groups.len(), targets.len());
    let k = k.max(1);
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &g) in groups.iter().enumerate() {
        members.entry(g).or_default().push(i);
    }
    let mut order: Vec<Vec<usize>> = members.into_values().collect();
    SplitMix64(seed).shuffle(&mut order);
    order.sort_by_key(|m| std::cmp::Reverse(m.len()));

    let n_labels = targets.n_labels.max(1);
    let mut per_label = vec![vec![0usize; n_labels]; k];
    let mut total = vec![0usize; k];
    let mut fold = vec![0usize; groups.len()];
    let mut counts = vec![0usize; n_labels];
    for m in order {
        counts.iter_mut().for_each(|c| *c = 0);
        for &i in &m {
            if let Some(&l) = targets.get(i).first() {
                counts[l as usize] += 1;
            }
        }
        let main = (0..n_labels).max_by_key(|&l| (counts[l], std::cmp::Reverse(l)));
        let f = (0..k)
            .min_by_key(|&f| (main.map_or(0, |l| per_label[f][l]), total[f], f))
            .unwrap_or(0);
        for l in 0..n_labels {
            per_label[f][l] += counts[l];
        }
        total[f] += m.len();
        for i in m {
            fold[i] = f;
        }
    }
    fold
}

/// Rows for fitting and testing when `fraction` of the documents is held out, groups kept whole.
pub fn grouped_holdout(
    groups: &[usize],
    targets: &Targets,
    fraction: f64,
    seed: u64,
) -> (Vec<u32>, Vec<u32>) {
    let all = 0..groups.len() as u32;
    if fraction <= 0.0 {
        return (all.collect(), Vec::new());
    }
    let k = (1.0 / fraction).round().max(2.0) as usize;
    let fold = grouped_folds(groups, targets, k, seed);
    all.partition(|&i| fold[i as usize] != 0)
}

/// About `size` of the documents, drawn at random (seeded), each label in its share; all of them
/// when there are no more than `size`. Documents are drawn one by one rather than whole groups:
/// where groups are large (5M SMS-length messages cycled from 4,459: 11,213 copies in one), a
/// sample of whole groups is a handful of groups and ranks nothing. The sample's folds still
/// keep its members of each group together.
pub fn sample(targets: &Targets, size: usize, seed: u64) -> Vec<u32> {
    let n = targets.len();
    if n <= size {
        return (0..n as u32).collect();
    }
    let mut by_label: Vec<Vec<u32>> = vec![Vec::new(); targets.n_labels.max(1) + 1];
    for i in 0..n {
        let main = targets
            .get(i)
            .first()
            .map_or(targets.n_labels, |&l| l as usize);
        by_label[main.min(targets.n_labels)].push(i as u32);
    }
    let mut rng = SplitMix64(seed);
    let mut picked = Vec::with_capacity(size);
    for rows in &mut by_label {
        let take = (rows.len() * size).div_ceil(n).min(rows.len());
        rng.shuffle(rows);
        picked.extend_from_slice(&rows[..take]);
    }
    picked.sort_unstable();
    picked
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn labels_are_spread_over_folds() {
        let groups: Vec<usize> = (0..100).collect();
        let targets = Targets::from_rows(2, (0..100).map(|i| [u32::from(i < 10)]));
        let fold = grouped_folds(&groups, &targets, 5, 7);
        for f in 0..5 {
            let rare = (0..100).filter(|&i| fold[i] == f && i < 10).count();
            let all = (0..100).filter(|&i| fold[i] == f).count();
            assert_eq!((rare, all), (2, 20), "fold {f}");
        }
    }

    #[test]
    fn holdout_is_a_tenth_and_seeded() {
        let groups: Vec<usize> = (0..200).map(|i| i / 2 * 2).collect();
        let targets = Targets::from_rows(3, (0..200).map(|i| [(i % 3) as u32]));
        let (train, test) = grouped_holdout(&groups, &targets, 0.1, 1);
        assert!((16..=24).contains(&test.len()), "{}", test.len());
        assert_eq!(train.len() + test.len(), 200);
        assert_eq!(grouped_holdout(&groups, &targets, 0.1, 1).1, test);
        assert!(test
            .iter()
            .all(|&i| test.contains(&(groups[i as usize] as u32))));
        let picked = sample(&targets, 50, 1);
        assert!((50..=53).contains(&picked.len()), "{}", picked.len());
        for l in 0..3u32 {
            let of_label = picked
                .iter()
                .filter(|&&i| targets.get(i as usize)[0] == l)
                .count();
            assert!((16..=18).contains(&of_label), "label {l}: {of_label}");
        }
        assert_eq!(sample(&targets, 50, 1), picked);
        assert_eq!(sample(&targets, 500, 1).len(), 200);
    }

    proptest! {
        #[test]
        fn groups_are_never_split(groups in proptest::collection::vec(0usize..40, 1..200), k in 2usize..8, seed: u64) {
            let targets = Targets::from_rows(3, groups.iter().map(|&g| [(g % 3) as u32]));
            let fold = grouped_folds(&groups, &targets, k, seed);
            for i in 0..groups.len() {
                for j in 0..groups.len() {
                    if groups[i] == groups[j] {
                        prop_assert_eq!(fold[i], fold[j]);
                    }
                }
                prop_assert!(fold[i] < k);
            }
        }
    }
}
