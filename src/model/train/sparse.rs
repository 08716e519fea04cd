//! The learner's view of the data: rows in compressed-row form (`SparseRows`, linfa's records),
//! their transpose over the columns that occur (`Columns`, for the gradient), and the fixed
//! column split the forward pass uses so sums never depend on the thread count.

use std::ops::Range;

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

/// Transposed copy of the active columns, for the gradient.
pub struct Columns {
    /// Original feature index of each active column.
    pub feature: Vec<u32>,
    pub indptr: Vec<usize>,
    pub rows: Vec<u32>,
    pub values: Vec<f32>,
}

impl Columns {
    pub fn from_rows(x: &SparseRows) -> Self {
        let mut count = vec![0usize; x.n_features];
        for &j in &x.indices {
            count[j as usize] += 1;
        }
        // Map every feature to its active column (u32::MAX when never seen).
        let mut col_of = vec![u32::MAX; x.n_features];
        let mut feature = Vec::new();
        let mut indptr = vec![0usize];
        for (j, &c) in count.iter().enumerate() {
            if c > 0 {
                col_of[j] = feature.len() as u32;
                feature.push(j as u32);
                indptr.push(indptr.last().unwrap() + c);
            }
        }
        let nnz = x.indices.len();
        let mut rows = vec![0u32; nnz];
        let mut values = vec![0f32; nnz];
        let mut next: Vec<usize> = indptr[..feature.len()].to_vec();
        for i in 0..x.n_rows() {
            let (idx, val) = x.row(i);
            for (&j, &v) in idx.iter().zip(val) {
                let c = col_of[j as usize] as usize;
                rows[next[c]] = i as u32;
                values[next[c]] = v;
                next[c] += 1;
            }
        }
        Columns {
            feature,
            indptr,
            rows,
            values,
        }
    }
}

/// Splits columns into `parts` consecutive ranges holding about the same number of entries.
pub fn column_parts(indptr: &[usize], parts: usize) -> Vec<Range<usize>> {
    let n_cols = indptr.len() - 1;
    let nnz = indptr[n_cols];
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    for p in 1..=parts {
        let target = nnz * p / parts;
        let mut end = start;
        while end < n_cols && (indptr[end + 1] <= target || p == parts) {
            end += 1;
        }
        out.push(start..end);
        start = end;
    }
    out
}
