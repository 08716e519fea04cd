//! The objective L-BFGS minimises: L2-regularised logistic loss over sparse rows,
//! `c · Σ_i s_i · loss_i(W, b) + ½‖W‖²` (the bias is not regularised, `s_i` are sample weights),
//! with softmax heads for MULTI_CLASS over three or more labels and one sigmoid per head
//! otherwise. Work is split into fixed row and column chunks, so every sum is taken in the same
//! order whatever the number of threads, and the fitted model is identical on any machine.

use std::ops::Range;

use rayon::prelude::*;

use super::sparse::{column_parts, Columns};
use crate::model::linear::sigmoid;

const ROW_CHUNK: usize = 256;
const COL_CHUNK: usize = 4096;
/// Column ranges of the forward pass; fixed, so sums never depend on the thread count.
const FORWARD_PARTS: usize = 4;

/// What each row should score: its class (softmax) or a 0/1 target per head (sigmoids).
pub struct Encoded {
    pub heads: usize,
    pub softmax: bool,
    /// `n × heads` targets in {0, 1} for sigmoid heads.
    pub targets: Vec<f32>,
    /// Each row's class index (MULTI_CLASS).
    pub class: Vec<u32>,
    /// Each row's weight `s_i`.
    pub weights: Vec<f64>,
}

/// The logistic objective over one data set, with the buffers its passes reuse.
pub struct Logistic {
    cols: Columns,
    rows: Encoded,
    c: f64,
    /// Column ranges of the forward pass and one score buffer per range.
    parts: Vec<Range<usize>>,
    partial: Vec<Vec<f64>>,
    scores: Vec<f64>,
    /// `s_i · (p - t)` per row and head, from the loss pass, for the gradient.
    resid: Vec<f64>,
}

impl Logistic {
    pub fn new(cols: Columns, rows: Encoded, n_rows: usize, c: f64) -> Self {
        let m = rows.heads;
        let parts = column_parts(&cols.indptr, FORWARD_PARTS);
        let partial = vec![vec![0f64; n_rows * m]; parts.len()];
        Logistic {
            cols,
            rows,
            c,
            parts,
            partial,
            scores: vec![0f64; n_rows * m],
            resid: vec![0f64; n_rows * m],
        }
    }

    /// Active columns (features that occur) of the data.
    pub fn columns(&self) -> &Columns {
        &self.cols
    }

    /// Weights (active columns × heads, column-major by head) plus one bias per head.
    pub fn n_params(&self) -> usize {
        self.cols.feature.len() * self.rows.heads + self.rows.heads
    }

    /// The objective at `w`, with its gradient written into `grad`.
    pub fn value_and_gradient(&mut self, w: &[f64], grad: &mut [f64]) -> f64 {
        self.forward(w);
        let data_loss = self.loss_and_residuals();
        self.backward(w, grad);
        let n_weights = self.cols.feature.len() * self.rows.heads;
        let reg: f64 = w[..n_weights].iter().map(|v| v * v).sum::<f64>() * 0.5;
        self.c * data_loss + reg
    }

    /// Scores of every row. The weights are walked column by column (sequential reads of a
    /// large matrix) and scattered into per-part buffers, summed in a fixed order: much faster
    /// than row-wise gathers from random weight rows, and independent of the thread count.
    fn forward(&mut self, w: &[f64]) {
        let m = self.rows.heads;
        let cols = &self.cols;
        self.partial
            .par_iter_mut()
            .zip(self.parts.par_iter())
            .for_each(|(zp, range)| {
                zp.fill(0.0);
                for col in range.clone() {
                    let wc = &w[col * m..col * m + m];
                    for p in cols.indptr[col]..cols.indptr[col + 1] {
                        let i = cols.rows[p] as usize;
                        let v = cols.values[p] as f64;
                        let z = &mut zp[i * m..i * m + m];
                        for (z, w) in z.iter_mut().zip(wc) {
                            *z += v * w;
                        }
                    }
                }
            });
        let bias = &w[cols.feature.len() * m..];
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
        let rows = &self.rows;
        let scores = &self.scores;
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
                        sigmoid_row(z, &rows.targets[i * m..i * m + m], s, r, &mut loss);
                    }
                }
                loss
            })
            .collect();
        losses.iter().sum()
    }

    /// Gradient of the weights over fixed column chunks, then of the biases over row chunks.
    fn backward(&self, w: &[f64], grad: &mut [f64]) {
        let m = self.rows.heads;
        let c = self.c;
        let cols = &self.cols;
        let resid = &self.resid;
        let (gw, gb) = grad.split_at_mut(cols.feature.len() * m);
        gw.par_chunks_mut(COL_CHUNK * m)
            .enumerate()
            .for_each(|(chunk, g)| {
                for (o, g) in g.chunks_mut(m).enumerate() {
                    let col = chunk * COL_CHUNK + o;
                    g.fill(0.0);
                    for p in cols.indptr[col]..cols.indptr[col + 1] {
                        let i = cols.rows[p] as usize;
                        let v = cols.values[p] as f64;
                        for h in 0..m {
                            g[h] += v * resid[i * m + h];
                        }
                    }
                    for h in 0..m {
                        g[h] = c * g[h] + w[col * m + h];
                    }
                }
            });
        let bias_parts: Vec<Vec<f64>> = resid
            .par_chunks(ROW_CHUNK * m)
            .map(|r| {
                let mut acc = vec![0f64; m];
                for r in r.chunks(m) {
                    for h in 0..m {
                        acc[h] += r[h];
                    }
                }
                acc
            })
            .collect();
        gb.fill(0.0);
        for part in &bias_parts {
            for h in 0..m {
                gb[h] += c * part[h];
            }
        }
    }
}

/// Adds the softmax cross-entropy of one row of scores `z` whose class is `class`, weighted by
/// `s`, to `loss`; writes `s · (p - t)` into `r`.
fn softmax_row(z: &[f64], class: usize, s: f64, r: &mut [f64], loss: &mut f64) {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
    let lse = max + sum.ln();
    for h in 0..z.len() {
        let p = (z[h] - lse).exp();
        let target = if h == class { 1.0 } else { 0.0 };
        r[h] = s * (p - target);
    }
    *loss += s * (lse - z[class]);
}

/// Adds the independent sigmoid losses of one row, weighted by `s`, to `loss` head by head
/// (the order of the sums is part of the result); writes `s · (p - t)` into `r`.
fn sigmoid_row(z: &[f64], targets: &[f32], s: f64, r: &mut [f64], loss: &mut f64) {
    for h in 0..z.len() {
        let zt = z[h];
        let target = targets[h] as f64;
        // softplus(z) - t z, computed stably.
        let sp = if zt > 0.0 {
            zt + (-zt).exp().ln_1p()
        } else {
            zt.exp().ln_1p()
        };
        *loss += s * (sp - target * zt);
        r[h] = s * (sigmoid(zt) - target);
    }
}
