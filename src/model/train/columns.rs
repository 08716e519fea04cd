//! The objective walked column by column, for problems of many heads and fewer rows than
//! columns (20news: 10,000 posts, 20 labels, 130,000 columns). There the row-by-row pass
//! (`objective`) reaches into weight and gradient rows of `heads` values spread over tens of
//! megabytes for every entry; walking the columns instead reads each weight row once, in order,
//! and reaches into the rows' scores and residuals, which are small enough to stay in cache.
//! The price is a transposed copy of the fit's rows (eight bytes an entry), so it is used only
//! when that copy is small (`use_columns`). Sums run over fixed column and row ranges, so the
//! result does not depend on the thread count.

use std::ops::Range;

use rayon::prelude::*;

use super::objective::{sigmoid_row, softmax_row, Encoded};
use super::sparse::Rows;

/// Rows per chunk of the per-row work.
const ROW_CHUNK: usize = 256;
/// Columns per chunk of the gradient.
const COL_CHUNK: usize = 4096;
/// Column ranges of the forward pass, each scoring into its own buffer; fixed, so sums never
/// depend on the thread count.
const FORWARD_PARTS: usize = 4;
/// Largest transposed copy worth making.
const MAX_COPY_BYTES: u64 = 1 << 30;

/// Whether a fit of `x` with `heads` heads walks columns: many heads, fewer rows than columns,
/// and a copy of at most `MAX_COPY_BYTES`.
pub fn use_columns<R: Rows>(x: &R, heads: usize) -> bool {
    heads > 1
        && x.n_rows() < x.n_cols()
        && copy_bytes(x.entries(), x.n_rows(), heads) <= MAX_COPY_BYTES
}

/// Bytes of the transposed copy and the per-row buffers a column walk allocates.
pub fn copy_bytes(entries: u64, n_rows: usize, heads: usize) -> u64 {
    8 * entries + (FORWARD_PARTS as u64 + 2) * 8 * (n_rows * heads) as u64
}

/// The rows of a fit, transposed: for every column, the rows holding it and their values (the
/// stored value times the row's factor; the column's factor goes into the weights).
struct ByColumn {
    indptr: Vec<usize>,
    rows: Vec<u32>,
    values: Vec<f32>,
}

impl ByColumn {
    fn from_rows<R: Rows>(x: &R) -> Self {
        let n_cols = x.n_cols();
        let (mut cols, mut vals) = (Vec::new(), Vec::new());
        let mut count = vec![0usize; n_cols + 1];
        for k in 0..x.n_rows() {
            let (n, _) = x.row_into(k, &mut cols, &mut vals);
            for &c in &cols[..n] {
                count[c as usize + 1] += 1;
            }
        }
        for c in 0..n_cols {
            count[c + 1] += count[c];
        }
        let nnz = count[n_cols];
        let mut rows = vec![0u32; nnz];
        let mut values = vec![0f32; nnz];
        let mut next = count.clone();
        for k in 0..x.n_rows() {
            let (n, factor) = x.row_into(k, &mut cols, &mut vals);
            for (&c, &v) in cols[..n].iter().zip(&vals[..n]) {
                let at = &mut next[c as usize];
                rows[*at] = k as u32;
                values[*at] = v * factor;
                *at += 1;
            }
        }
        ByColumn {
            indptr: count,
            rows,
            values,
        }
    }

    /// Consecutive column ranges holding about the same number of entries each.
    fn parts(&self, parts: usize) -> Vec<Range<usize>> {
        let n_cols = self.indptr.len() - 1;
        let nnz = self.indptr[n_cols];
        let mut out = Vec::with_capacity(parts);
        let mut start = 0;
        for p in 1..=parts {
            let target = nnz * p / parts;
            let mut end = start;
            while end < n_cols && (self.indptr[end + 1] <= target || p == parts) {
                end += 1;
            }
            out.push(start..end);
            start = end;
        }
        out
    }
}

/// The logistic objective (`objective::Logistic`'s) over a transposed copy of the rows.
pub struct ColumnLogistic<'a, R: Rows> {
    x: &'a R,
    t: ByColumn,
    rows: Encoded,
    c: f64,
    parts: Vec<Range<usize>>,
    partial: Vec<Vec<f64>>,
    scores: Vec<f64>,
    /// `s_i · (p - t)` per row and head, from the loss pass, for the gradient.
    resid: Vec<f64>,
    scaled: Vec<f64>,
}

impl<'a, R: Rows> ColumnLogistic<'a, R> {
    pub fn new(x: &'a R, rows: Encoded, c: f64) -> Self {
        let t = ByColumn::from_rows(x);
        let n = x.n_rows() * rows.heads;
        let parts = t.parts(FORWARD_PARTS);
        ColumnLogistic {
            x,
            partial: vec![vec![0f64; n]; parts.len()],
            parts,
            t,
            rows,
            c,
            scores: vec![0f64; n],
            resid: vec![0f64; n],
            scaled: Vec::new(),
        }
    }

    pub fn n_params(&self) -> usize {
        self.x.n_cols() * self.rows.heads + self.rows.heads
    }

    /// The objective at `w`, with its gradient written into `grad`.
    pub fn value_and_gradient(&mut self, w: &[f64], grad: &mut [f64]) -> f64 {
        let m = self.rows.heads;
        let n_weights = self.x.n_cols() * m;
        let scale = self.x.column_scale();
        self.scaled.clear();
        self.scaled.extend_from_slice(w);
        if let Some(scale) = scale {
            self.scaled[..n_weights]
                .par_chunks_mut(COL_CHUNK * m)
                .enumerate()
                .for_each(|(chunk, out)| {
                    for (o, out) in out.chunks_mut(m).enumerate() {
                        let f = f64::from(scale[chunk * COL_CHUNK + o]);
                        out.iter_mut().for_each(|v| *v *= f);
                    }
                });
        }
        self.forward();
        let loss = self.loss_and_residuals();
        self.backward(w, grad);
        let reg: f64 = w[..n_weights].iter().map(|v| v * v).sum::<f64>() * 0.5;
        self.c * loss + reg
    }

    /// Scores of every row: each part of the columns scatters into its own buffer, and the
    /// buffers are added in order.
    fn forward(&mut self) {
        let m = self.rows.heads;
        let (t, w) = (&self.t, &self.scaled);
        self.partial
            .par_iter_mut()
            .zip(self.parts.par_iter())
            .for_each(|(zp, range)| {
                zp.fill(0.0);
                for col in range.clone() {
                    let wc = &w[col * m..col * m + m];
                    for p in t.indptr[col]..t.indptr[col + 1] {
                        let i = t.rows[p] as usize;
                        let v = f64::from(t.values[p]);
                        for (z, w) in zp[i * m..i * m + m].iter_mut().zip(wc) {
                            *z += v * w;
                        }
                    }
                }
            });
        let bias = &w[self.x.n_cols() * m..];
        let partial = &self.partial;
        self.scores
            .par_chunks_mut(ROW_CHUNK * m)
            .enumerate()
            .for_each(|(chunk, z)| {
                let base = chunk * ROW_CHUNK * m;
                for (o, z) in z.chunks_mut(m).enumerate() {
                    z.copy_from_slice(bias);
                    for part in partial {
                        let src = &part[base + o * m..base + o * m + m];
                        for (z, s) in z.iter_mut().zip(src) {
                            *z += s;
                        }
                    }
                }
            });
    }

    /// The weighted data loss, summed over fixed row chunks; fills the residuals.
    fn loss_and_residuals(&mut self) -> f64 {
        let m = self.rows.heads;
        let (rows, scores) = (&self.rows, &self.scores);
        let losses: Vec<f64> = self
            .resid
            .par_chunks_mut(ROW_CHUNK * m)
            .enumerate()
            .map(|(chunk, r)| {
                let mut loss = 0.0;
                for (o, r) in r.chunks_mut(m).enumerate() {
                    let i = chunk * ROW_CHUNK + o;
                    let z = &scores[i * m..i * m + m];
                    let s = rows.weights[i];
                    if rows.softmax {
                        softmax_row(z, rows.class[i] as usize, s, r, &mut loss);
                    } else {
                        let t = &rows.targets[i * m..i * m + m];
                        sigmoid_row(z, t, (s, &rows.head_weights), r, &mut loss);
                    }
                }
                loss
            })
            .collect();
        losses.iter().sum()
    }

    /// Gradient of the weights column by column (each written by one thread, in entry order),
    /// then of the biases over fixed row chunks.
    fn backward(&self, w: &[f64], grad: &mut [f64]) {
        let m = self.rows.heads;
        let c = self.c;
        let (t, resid) = (&self.t, &self.resid);
        let scale = self.x.column_scale();
        let (gw, gb) = grad.split_at_mut(self.x.n_cols() * m);
        gw.par_chunks_mut(COL_CHUNK * m)
            .enumerate()
            .for_each(|(chunk, g)| {
                for (o, g) in g.chunks_mut(m).enumerate() {
                    let col = chunk * COL_CHUNK + o;
                    g.fill(0.0);
                    for p in t.indptr[col]..t.indptr[col + 1] {
                        let i = t.rows[p] as usize;
                        let v = f64::from(t.values[p]);
                        for (g, r) in g.iter_mut().zip(&resid[i * m..i * m + m]) {
                            *g += v * r;
                        }
                    }
                    let f = scale.map_or(1.0, |s| f64::from(s[col]));
                    for (h, g) in g.iter_mut().enumerate() {
                        *g = c * f * *g + w[col * m + h];
                    }
                }
            });
        let bias_parts: Vec<Vec<f64>> = resid
            .par_chunks(ROW_CHUNK * m)
            .map(|r| {
                let mut acc = vec![0f64; m];
                for r in r.chunks(m) {
                    for (a, r) in acc.iter_mut().zip(r) {
                        *a += r;
                    }
                }
                acc
            })
            .collect();
        gb.fill(0.0);
        for part in &bias_parts {
            for (g, p) in gb.iter_mut().zip(part) {
                *g += c * p;
            }
        }
    }
}
