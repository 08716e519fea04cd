//! The learner's view of the data: rows in compressed-row form (`SparseRows`, linfa's records),
//! and `Rows`, what the objective reads one row at a time (from `SparseRows`, or from the compact
//! training store through `store::Design`).

use linfa::dataset::Records;

use crate::text::SparseVec;

/// Sparse rows in compressed-row form over `n_features` columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseRows {
    pub indptr: Vec<usize>,
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
    pub n_features: usize,
}

impl SparseRows {
    pub fn new(n_features: usize) -> Self {
        SparseRows {
            indptr: vec![0],
            indices: Vec::new(),
            values: Vec::new(),
            n_features,
        }
    }

    pub fn from_vecs<'a>(n_features: usize, rows: impl IntoIterator<Item = &'a SparseVec>) -> Self {
        let mut out = SparseRows::new(n_features);
        for r in rows {
            out.push(r);
        }
        out
    }

    pub fn push(&mut self, row: &SparseVec) {
        self.indices.extend_from_slice(&row.idx);
        self.values.extend_from_slice(&row.val);
        self.indptr.push(self.indices.len());
    }

    pub fn n_rows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[a..b], &self.values[a..b])
    }
}

impl Records for SparseRows {
    type Elem = f32;
    fn nsamples(&self) -> usize {
        self.n_rows()
    }
    fn nfeatures(&self) -> usize {
        self.n_features
    }
}

/// Rows as the learner reads them: `n_rows` rows over `n_cols` columns, each column one feature of
/// a hashed space of `n_features` (`column_feature`). An entry's value is its stored value times
/// its column's factor (`column_scale`: IDF and label weights, the same for every row) times its
/// row's factor (the inverse L2 norm): the objective folds the column factors into the weights
/// once per pass and the row factor into each row's score, so reading an entry costs no more
/// than its stored value. The objective asks for one row at a time, so a row may be decoded as
/// it is read (`store::Design`).
pub trait Rows: Sync {
    fn n_rows(&self) -> usize;
    fn n_cols(&self) -> usize;
    /// The hashed feature of every column.
    fn column_feature(&self) -> &[u32];
    fn n_features(&self) -> usize;
    /// Stored entries of all rows.
    fn entries(&self) -> u64;
    /// Every column's factor; `None` when all are one.
    fn column_scale(&self) -> Option<&[f32]>;
    /// Row `k`'s columns and stored values, written into the front of `cols` and `vals` (grown
    /// when too short); returns how many entries the row has and the row's factor.
    fn row_into(&self, k: usize, cols: &mut Vec<u32>, vals: &mut Vec<f32>) -> (usize, f32);
}

/// `SparseRows` over the columns that occur (linfa's records as the learner reads them).
pub struct ActiveColumns<'a> {
    x: &'a SparseRows,
    column_feature: Vec<u32>,
    column_of: Vec<u32>,
}

impl<'a> ActiveColumns<'a> {
    pub fn new(x: &'a SparseRows) -> Self {
        let mut seen = vec![false; x.n_features];
        for &j in &x.indices {
            seen[j as usize] = true;
        }
        let column_feature: Vec<u32> = (0..x.n_features as u32)
            .filter(|&j| seen[j as usize])
            .collect();
        let mut column_of = vec![u32::MAX; x.n_features];
        for (c, &j) in column_feature.iter().enumerate() {
            column_of[j as usize] = c as u32;
        }
        ActiveColumns {
            x,
            column_feature,
            column_of,
        }
    }
}

impl Rows for ActiveColumns<'_> {
    fn n_rows(&self) -> usize {
        self.x.n_rows()
    }

    fn n_cols(&self) -> usize {
        self.column_feature.len()
    }

    fn column_feature(&self) -> &[u32] {
        &self.column_feature
    }

    fn n_features(&self) -> usize {
        self.x.n_features
    }

    fn entries(&self) -> u64 {
        self.x.indices.len() as u64
    }

    fn column_scale(&self) -> Option<&[f32]> {
        None
    }

    fn row_into(&self, k: usize, cols: &mut Vec<u32>, vals: &mut Vec<f32>) -> (usize, f32) {
        let (idx, val) = self.x.row(k);
        cols.clear();
        vals.clear();
        cols.extend(idx.iter().map(|&j| self.column_of[j as usize]));
        vals.extend_from_slice(val);
        (idx.len(), 1.0)
    }
}
