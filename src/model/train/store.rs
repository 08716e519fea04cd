//! The training data, vectorized once and kept compact: every document's term counts in one
//! store that every fold, candidate and fit reads (folds are lists of rows, never copies).
//!
//! Columns are the features that occur, numbered by falling document frequency, so the features
//! nearly every row holds (short character n-grams, common words) get the smallest numbers and
//! a row's columns, in ascending order, are close together. Each entry is one 16-bit word: the
//! gap from the previous column shifted left once, the low bit saying the count is not one (two
//! words when the gap reaches 2^14, rare). The counts other than one follow in a byte stream of
//! their own (`count - 1`; 255 says the count is in the next two words). Two or three bytes an
//! entry, against eight for an index and a float, and read without a branch the processor
//! cannot predict: a fit reads every entry a hundred times. IDF, label weights and the L2 norm
//! are not stored: a fit applies them as it reads a row (`Design`), since each fit learns its
//! own IDF on its own rows.

use rayon::prelude::*;

use super::sparse::Rows;
use crate::text::SparseVec;

/// Rows per block: the unit of parallel building and of row lookup.
const BLOCK_ROWS: usize = 1024;

/// One block of rows: their encoded words and count codes, and where each row's start.
#[derive(Debug, Clone, Default, PartialEq)]
struct Block {
    /// `rows + 1` offsets into `words`, and into `codes`.
    word_starts: Vec<u32>,
    code_starts: Vec<u32>,
    words: Vec<u16>,
    /// Every row's codes end with one padding byte, so a row may read one code past its last.
    codes: Vec<u8>,
}

/// A word holding a gap of up to this (shifted, with the count bit) is a short entry.
const SHORT: u32 = 0x8000;
/// The count code saying the count follows in two words.
const CODE_FOLLOWS: u8 = u8::MAX;

/// Term counts of many documents over the columns that occur (see the module comment).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TfStore {
    /// Size of the hashed feature space the columns come from.
    n_features: usize,
    /// The hashed feature of every column, most frequent first.
    column_feature: Vec<u32>,
    /// Documents holding each column.
    column_df: Vec<u32>,
    blocks: Vec<Block>,
    n_rows: usize,
    entries: u64,
}

impl TfStore {
    /// Vectorizes `n_docs` documents into a store over `n_features` hashed features.
    /// `count(state, i, out)` writes document `i`'s distinct features and their raw counts into
    /// `out`; `init` makes one `state` (scratch buffers) per worker. Documents are vectorized
    /// twice (first to count document frequencies and so number the columns, then to encode),
    /// which costs far less than holding uncompressed vectors.
    pub fn build<S: Send, I, F>(n_docs: usize, n_features: usize, init: I, count: F) -> TfStore
    where
        I: Fn() -> S + Sync + Send,
        F: Fn(&mut S, usize, &mut SparseVec) + Sync + Send,
    {
        let n_blocks = n_docs.div_ceil(BLOCK_ROWS);
        let block_rows = |b: usize| b * BLOCK_ROWS..((b + 1) * BLOCK_ROWS).min(n_docs);
        // 1. Document frequency of every hashed feature (integer sums: any order gives the same).
        let df: Vec<u32> = (0..n_blocks)
            .into_par_iter()
            .fold(
                || (init(), SparseVec::default(), vec![0u32; n_features]),
                |(mut state, mut tf, mut df), b| {
                    for i in block_rows(b) {
                        tf.clear();
                        count(&mut state, i, &mut tf);
                        for &j in &tf.idx {
                            df[j as usize] += 1;
                        }
                    }
                    (state, tf, df)
                },
            )
            .map(|(_, _, df)| df)
            .reduce(
                || vec![0u32; n_features],
                |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        // 2. Columns: the features that occur, by falling frequency, ties by feature.
        let mut column_feature: Vec<u32> = (0..n_features as u32)
            .filter(|&j| df[j as usize] > 0)
            .collect();
        column_feature.sort_by_key(|&j| (std::cmp::Reverse(df[j as usize]), j));
        let column_df: Vec<u32> = column_feature.iter().map(|&j| df[j as usize]).collect();
        drop(df);
        let mut column_of = vec![u32::MAX; n_features];
        for (c, &j) in column_feature.iter().enumerate() {
            column_of[j as usize] = c as u32;
        }
        // 3. Rows encoded block by block, in order.
        let blocks: Vec<Block> = (0..n_blocks)
            .into_par_iter()
            .map_init(
                || (init(), SparseVec::default(), Vec::<(u32, u32)>::new()),
                |(state, tf, pairs), b| {
                    let rows = block_rows(b);
                    let mut block = Block::default();
                    block.word_starts.push(0);
                    block.code_starts.push(0);
                    for i in rows {
                        tf.clear();
                        count(state, i, tf);
                        pairs.clear();
                        pairs.extend(
                            tf.iter()
                                .map(|(j, v)| (column_of[j as usize], v.round() as u32)),
                        );
                        pairs.sort_unstable_by_key(|p| p.0);
                        block.push_row(pairs);
                    }
                    block.words.shrink_to_fit();
                    block.codes.shrink_to_fit();
                    block
                },
            )
            .collect();
        let entries = column_df.iter().map(|&d| u64::from(d)).sum();
        TfStore {
            n_features,
            column_feature,
            column_df,
            blocks,
            n_rows: n_docs,
            entries,
        }
    }

    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Columns: features that occur in at least one row.
    pub fn n_cols(&self) -> usize {
        self.column_feature.len()
    }

    /// Size of the hashed feature space.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The hashed feature of every column.
    pub fn column_feature(&self) -> &[u32] {
        &self.column_feature
    }

    /// Stored (row, column) entries.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Bytes the store holds (encoded rows, offsets and the column tables).
    pub fn heap_bytes(&self) -> u64 {
        let blocks: usize = self
            .blocks
            .iter()
            .map(|b| {
                2 * b.words.capacity()
                    + b.codes.capacity()
                    + 4 * (b.word_starts.capacity() + b.code_starts.capacity())
            })
            .sum();
        (blocks + 8 * self.column_feature.len()) as u64
    }

    /// Row `i`'s words and count codes.
    fn row(&self, i: usize) -> (&[u16], &[u8]) {
        let b = &self.blocks[i / BLOCK_ROWS];
        let k = i % BLOCK_ROWS;
        (
            &b.words[b.word_starts[k] as usize..b.word_starts[k + 1] as usize],
            &b.codes[b.code_starts[k] as usize..b.code_starts[k + 1] as usize],
        )
    }

    /// Calls `each(column, count)` for row `i`'s entries, columns ascending.
    #[inline]
    pub fn for_each_in_row(&self, i: usize, mut each: impl FnMut(u32, u32)) {
        let (words, codes) = self.row(i);
        let mut reader = RowReader::new(words, codes);
        while let Some((col, code)) = reader.next_entry() {
            each(col, reader.count(code));
        }
    }

    /// Row `i`'s columns (ascending) and scaled counts, written into the front of `cols` and
    /// `tfs` (grown when too short); returns how many entries the row has.
    #[inline]
    pub fn row_into(
        &self,
        i: usize,
        tf: &TfTable,
        cols: &mut Vec<u32>,
        tfs: &mut Vec<f32>,
    ) -> usize {
        let (words, codes) = self.row(i);
        if cols.len() < words.len() {
            cols.resize(words.len(), 0);
            tfs.resize(words.len(), 0.0);
        }
        let (cols, tfs) = (&mut cols[..words.len()], &mut tfs[..words.len()]);
        let (mut n, mut at, mut code_at, mut col) = (0usize, 0usize, 0usize, 0u32);
        // Locals only and no calls in the loop, so everything stays in registers: a fit reads
        // every entry once per pass of the optimiser.
        while at < words.len() {
            // SAFETY: `at < words.len()` (loop condition); a long entry's second word exists
            // (written together, `push_row`).
            let mut v = u32::from(unsafe { *words.get_unchecked(at) });
            at += 1;
            if v >= SHORT {
                v = ((v - SHORT) << 16) | u32::from(words[at]);
                at += 1;
            }
            col += v >> 1;
            let more = (v & 1) as usize;
            // SAFETY: `code_at` counts the codes taken so far, at most the row's codes, and
            // every row's codes end with a padding byte: `code_at < codes.len()`.
            let code = unsafe { *codes.get_unchecked(code_at) } as usize * more;
            code_at += more;
            let value = if code == CODE_FOLLOWS as usize {
                let count = (u32::from(words[at]) << 16) | u32::from(words[at + 1]);
                at += 2;
                tf.get(count)
            } else {
                tf.by_code[code]
            };
            // SAFETY: every entry takes at least one word, so `n < at <= words.len()`, the
            // length of both slices.
            unsafe {
                *cols.get_unchecked_mut(n) = col;
                *tfs.get_unchecked_mut(n) = value;
            }
            n += 1;
            col += 1;
        }
        n
    }

    /// Document frequency of every column among `rows`.
    pub fn df(&self, rows: &[u32]) -> Vec<u32> {
        if rows.len() == self.n_rows && rows.iter().enumerate().all(|(k, &i)| k == i as usize) {
            return self.column_df.clone();
        }
        let n = self.n_cols();
        rows.par_chunks(BLOCK_ROWS)
            .fold(
                || vec![0u32; n],
                |mut df, chunk| {
                    for &i in chunk {
                        self.for_each_in_row(i as usize, |c, _| df[c as usize] += 1);
                    }
                    df
                },
            )
            .reduce(
                || vec![0u32; n],
                |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    a
                },
            )
    }

    /// For every label, how many of `rows` having it hold each column (`n_labels × n_cols`,
    /// label-major). `labels_of(row)` gives a row's labels.
    pub fn df_by_label<'a, L>(&self, rows: &[u32], n_labels: usize, labels_of: L) -> Vec<u32>
    where
        L: Fn(usize) -> &'a [u32] + Sync,
    {
        let n = self.n_cols();
        rows.par_chunks(BLOCK_ROWS)
            .fold(
                || vec![0u32; n_labels * n],
                |mut counts, chunk| {
                    for &i in chunk {
                        for &l in labels_of(i as usize) {
                            let base = l as usize * n;
                            self.for_each_in_row(i as usize, |c, _| counts[base + c as usize] += 1);
                        }
                    }
                    counts
                },
            )
            .reduce(
                || vec![0u32; n_labels * n],
                |mut a, b| {
                    a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                    a
                },
            )
    }
}

impl Block {
    /// Appends one row: `(column, count)` pairs with ascending, distinct columns.
    fn push_row(&mut self, pairs: &[(u32, u32)]) {
        let mut next = 0u32;
        for &(col, count) in pairs {
            let v = ((col - next) << 1) | u32::from(count != 1);
            if v < SHORT {
                self.words.push(v as u16);
            } else {
                self.words.push((SHORT | (v >> 16)) as u16);
                self.words.push(v as u16);
            }
            if count != 1 {
                match u8::try_from(count - 1) {
                    Ok(code) if code != CODE_FOLLOWS => self.codes.push(code),
                    _ => {
                        self.codes.push(CODE_FOLLOWS);
                        self.words.push((count >> 16) as u16);
                        self.words.push(count as u16);
                    }
                }
            }
            next = col + 1;
        }
        self.codes.push(0);
        self.word_starts.push(self.words.len() as u32);
        self.code_starts.push(self.codes.len() as u32);
    }
}

/// Reads one row's entries.
struct RowReader<'a> {
    words: &'a [u16],
    codes: &'a [u8],
    at: usize,
    code_at: usize,
    col: u32,
}

impl<'a> RowReader<'a> {
    fn new(words: &'a [u16], codes: &'a [u8]) -> Self {
        RowReader {
            words,
            codes,
            at: 0,
            code_at: 0,
            col: 0,
        }
    }

    /// The next entry's column and count code (0 for a count of one), or `None` at the end.
    #[inline(always)]
    fn next_entry(&mut self) -> Option<(u32, u8)> {
        let &w = self.words.get(self.at)?;
        self.at += 1;
        let mut v = u32::from(w);
        if v >= SHORT {
            v = ((v - SHORT) << 16) | u32::from(self.words[self.at]);
            self.at += 1;
        }
        let col = self.col + (v >> 1);
        self.col = col + 1;
        // Branch-free: a count of one reads the next code but does not take it.
        let more = (v & 1) as usize;
        let code = self.codes[self.code_at] * more as u8;
        self.code_at += more;
        Some((col, code))
    }

    /// The count a code stands for, reading it from the words when it follows there.
    #[inline(always)]
    fn count(&mut self, code: u8) -> u32 {
        if code == CODE_FOLLOWS {
            let count = (u32::from(self.words[self.at]) << 16) | u32::from(self.words[self.at + 1]);
            self.at += 2;
            count
        } else {
            u32::from(code) + 1
        }
    }
}

/// How a term count becomes a feature value before IDF and normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TfScale {
    Raw,
    /// `1 + ln(tf)`.
    Sublinear,
}

impl TfScale {
    #[inline]
    pub fn apply(self, count: u32) -> f32 {
        match self {
            TfScale::Raw => count as f32,
            TfScale::Sublinear => crate::text::hash::sublinear(count as f32),
        }
    }
}

/// `TfScale::apply` of the small counts nearly all entries have, looked up.
pub struct TfTable {
    scale: TfScale,
    small: [f32; 64],
    /// By count code (`count - 1`).
    by_code: [f32; 256],
}

impl TfTable {
    pub fn new(scale: TfScale) -> Self {
        TfTable {
            scale,
            small: std::array::from_fn(|c| scale.apply(c as u32)),
            by_code: std::array::from_fn(|c| scale.apply(c as u32 + 1)),
        }
    }

    #[inline]
    pub fn get(&self, count: u32) -> f32 {
        match self.small.get(count as usize) {
            Some(&v) => v,
            None => self.scale.apply(count),
        }
    }
}

/// What one fit reads: some rows of a store, each entry's count scaled (`tf`), multiplied by its
/// column's weight (IDF, label weight) and by its row's (the inverse L2 norm).
pub struct Design<'a> {
    store: &'a TfStore,
    rows: &'a [u32],
    tf: TfTable,
    column_scale: Vec<f32>,
    row_scale: Vec<f32>,
    entries: u64,
}

impl<'a> Design<'a> {
    /// Rows `rows` of `store` with per-column weights `column_scale` (one per column) and, when
    /// `l2_normalize`, each row scaled to unit length.
    pub fn new(
        store: &'a TfStore,
        rows: &'a [u32],
        tf: TfScale,
        column_scale: Vec<f32>,
        l2_normalize: bool,
    ) -> Design<'a> {
        assert_eq!(column_scale.len(), store.n_cols());
        let tf = TfTable::new(tf);
        let (row_scale, lengths): (Vec<f32>, Vec<u32>) = rows
            .par_iter()
            .map(|&i| {
                let (mut sum, mut length) = (0f64, 0u32);
                store.for_each_in_row(i as usize, |c, n| {
                    let v = f64::from(tf.get(n) * column_scale[c as usize]);
                    sum += v * v;
                    length += 1;
                });
                let scale = match (l2_normalize, sum > 0.0) {
                    (false, _) => 1.0,
                    (true, true) => (1.0 / sum.sqrt()) as f32,
                    (true, false) => 0.0,
                };
                (scale, length)
            })
            .unzip();
        Design {
            store,
            rows,
            tf,
            column_scale,
            row_scale,
            entries: lengths.iter().map(|&l| u64::from(l)).sum(),
        }
    }
}

impl Rows for Design<'_> {
    fn n_rows(&self) -> usize {
        self.rows.len()
    }

    fn n_cols(&self) -> usize {
        self.store.n_cols()
    }

    fn column_feature(&self) -> &[u32] {
        self.store.column_feature()
    }

    fn n_features(&self) -> usize {
        self.store.n_features()
    }

    fn entries(&self) -> u64 {
        self.entries
    }

    fn column_scale(&self) -> Option<&[f32]> {
        Some(&self.column_scale)
    }

    #[inline]
    fn row_into(&self, k: usize, cols: &mut Vec<u32>, vals: &mut Vec<f32>) -> (usize, f32) {
        let n = self
            .store
            .row_into(self.rows[k] as usize, &self.tf, cols, vals);
        (n, self.row_scale[k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn store_of(docs: &[Vec<(u32, u32)>], n_features: usize) -> TfStore {
        TfStore::build(
            docs.len(),
            n_features,
            || (),
            |_, i, out| {
                for &(j, c) in &docs[i] {
                    out.idx.push(j);
                    out.val.push(c as f32);
                }
            },
        )
    }

    #[test]
    fn columns_are_numbered_by_falling_frequency() {
        let docs = vec![vec![(7, 1), (3, 2)], vec![(3, 1)], vec![(3, 5), (9, 1)]];
        let s = store_of(&docs, 16);
        assert_eq!(s.column_feature(), &[3, 7, 9]);
        assert_eq!(s.df(&[0, 1, 2]), vec![3, 1, 1]);
        assert_eq!(s.df(&[0, 2]), vec![2, 1, 1]);
        let mut row = Vec::new();
        s.for_each_in_row(2, |c, n| row.push((c, n)));
        assert_eq!(row, vec![(0, 5), (2, 1)]);
        assert_eq!(s.entries(), 5);
    }

    proptest! {
        // Every row reads back as written (columns mapped, sorted), whatever the counts and
        // feature numbers, across block boundaries.
        #[test]
        fn rows_round_trip(docs in proptest::collection::vec(
            proptest::collection::btree_map(0u32..5000, 1u32..100_000, 0..40), 0..2100)) {
            let docs: Vec<Vec<(u32, u32)>> =
                docs.into_iter().map(|m| m.into_iter().collect()).collect();
            let s = store_of(&docs, 5000);
            prop_assert_eq!(s.n_rows(), docs.len());
            for (i, d) in docs.iter().enumerate() {
                let mut got = Vec::new();
                s.for_each_in_row(i, |c, n| got.push((s.column_feature()[c as usize], n)));
                let mut want = d.clone();
                want.sort_by_key(|&(j, _)| {
                    s.column_feature().iter().position(|&f| f == j).unwrap()
                });
                prop_assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn a_design_scales_by_column_and_normalises_rows() {
        let docs = vec![vec![(1, 1), (2, 4)], vec![(2, 1)]];
        let s = store_of(&docs, 4);
        // Columns: feature 2 (df 2) then feature 1.
        let rows = [0u32, 1];
        let d = Design::new(&s, &rows, TfScale::Raw, vec![1.0, 2.0], true);
        let (mut cols, mut vals) = (Vec::new(), Vec::new());
        let (n, r) = d.row_into(0, &mut cols, &mut vals);
        assert_eq!(&cols[..n], &[0, 1]);
        assert_eq!(d.column_scale(), Some([1.0f32, 2.0].as_slice()));
        // Row 0: feature 2 count 4 (scale 1), feature 1 count 1 (scale 2): (4, 2) / sqrt(20).
        assert_eq!(&vals[..n], &[4.0, 1.0]);
        assert!((r - 1.0 / 20f32.sqrt()).abs() < 1e-6, "{r}");
        let (n, r) = d.row_into(1, &mut cols, &mut vals);
        assert_eq!(
            (&cols[..n], &vals[..n], r),
            ([0u32].as_slice(), [1.0f32].as_slice(), 1.0)
        );
    }
}
