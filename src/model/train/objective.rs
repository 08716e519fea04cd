//! The objective L-BFGS minimises: L2-regularised logistic loss over sparse rows,
//! `c · Σ_i s_i · loss_i(W, b) + ½‖W‖²` (the bias is not regularised, `s_i` are sample weights),
//! with softmax heads for MULTI_CLASS over three or more labels and one sigmoid per head
//! otherwise. One pass over the rows gives the loss and the gradient together: each row is read
//! once, scored, and its residual added into the gradient straight away. Rows are cut into a
//! number of parts fixed by the data's size, each summing into its own gradient, and the parts
//! are added in order, so every sum is taken in the same order whatever the number of threads
//! and the fitted model is identical on any machine.

use std::ops::Range;

use rayon::prelude::*;

use super::sparse::Rows;
use crate::model::linear::sigmoid;

/// Parameters per chunk when the parts' gradients are added together.
const SUM_CHUNK: usize = 1 << 14;
/// At most this many parts, and at least this many rows in each: enough for any core count to
/// share, few enough that their gradients stay small beside the data.
const MAX_PARTS: usize = 8;
const MIN_PART_ROWS: usize = 256;
/// Each part clears and adds a gradient of every parameter per pass: it must bring at least
/// this many times as much work (entries times heads) for that to stay a tenth of the pass.
const WORK_PER_PARAMETER: u64 = 10;
/// The parts' gradients together may take this much memory (with at least one part).
const PART_BYTES: u64 = 256 << 20;

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
    /// For sigmoid heads, each head's weight of a row whose target is 0 and of one whose target
    /// is 1 (MULTI_LABEL's balanced classes, label by label); empty when all are one.
    pub head_weights: Vec<[f64; 2]>,
}

/// What L-BFGS minimises: a value and its gradient at a point.
pub trait Objective {
    fn n_params(&self) -> usize;
    fn value_and_gradient(&mut self, w: &[f64], grad: &mut [f64]) -> f64;
}

impl<R: Rows> Objective for Logistic<'_, R> {
    fn n_params(&self) -> usize {
        Logistic::n_params(self)
    }
    fn value_and_gradient(&mut self, w: &[f64], grad: &mut [f64]) -> f64 {
        Logistic::value_and_gradient(self, w, grad)
    }
}

impl<R: Rows> Objective for super::columns::ColumnLogistic<'_, R> {
    fn n_params(&self) -> usize {
        super::columns::ColumnLogistic::n_params(self)
    }
    fn value_and_gradient(&mut self, w: &[f64], grad: &mut [f64]) -> f64 {
        super::columns::ColumnLogistic::value_and_gradient(self, w, grad)
    }
}

/// The objective a fit of `x` with `rows` uses: by columns for many heads over fewer rows than
/// columns (`columns::use_columns`), by rows otherwise.
pub fn for_rows<'a, R: Rows>(x: &'a R, rows: Encoded, c: f64) -> Box<dyn Objective + 'a> {
    if super::columns::use_columns(x, rows.heads) {
        Box::new(super::columns::ColumnLogistic::new(x, rows, c))
    } else {
        Box::new(Logistic::new(x, rows, c))
    }
}

/// The logistic objective over one data set, with the buffers its passes reuse.
pub struct Logistic<'a, R: Rows> {
    x: &'a R,
    rows: Encoded,
    c: f64,
    /// Row ranges summed separately, and the gradient of each (weights then biases), before
    /// the column factors.
    parts: Vec<Range<usize>>,
    grads: Vec<Vec<f64>>,
    /// The weights times their columns' factors (`Rows::column_scale`), then the biases.
    scaled: Vec<f64>,
}

/// How many parts rows are cut into: from the work a pass does (`entries` times `heads`)
/// against the parameters every part clears and adds, at least two when the rows allow (two
/// cores) and at most `MAX_PARTS`. Depends on the data only, never on the thread count.
pub fn part_count(n_rows: usize, entries: u64, heads: usize, n_params: usize) -> usize {
    let params = n_params.max(1) as u64;
    let by_work = (entries * heads as u64 / (WORK_PER_PARAMETER * params)).max(2);
    let by_rows = (n_rows / MIN_PART_ROWS).max(1) as u64;
    let by_memory = (PART_BYTES / (8 * params)).max(1);
    by_work.min(by_rows).min(by_memory).min(MAX_PARTS as u64) as usize
}

/// Bytes of the buffers a fit of `n_rows` rows and `n_params` parameters allocates beside the
/// data and the optimiser, at most: the parts' gradients, the scaled weights, and the per-row
/// targets and weights.
pub fn buffer_bytes(n_rows: usize, n_params: usize, heads: usize) -> u64 {
    let parts = MAX_PARTS.min((PART_BYTES / (8 * n_params.max(1) as u64)).max(1) as usize) as u64;
    (parts + 1) * 8 * n_params as u64 + n_rows as u64 * (4 * heads as u64 + 12)
}

impl<'a, R: Rows> Logistic<'a, R> {
    pub fn new(x: &'a R, rows: Encoded, c: f64) -> Self {
        let n = x.n_rows();
        let n_params = x.n_cols() * rows.heads + rows.heads;
        let p = part_count(n, x.entries(), rows.heads, n_params);
        let parts = (0..p).map(|k| n * k / p..n * (k + 1) / p).collect();
        Logistic {
            x,
            rows,
            c,
            parts,
            grads: vec![Vec::new(); p],
            scaled: Vec::new(),
        }
    }

    /// Weights (columns × heads, head fastest) plus one bias per head.
    pub fn n_params(&self) -> usize {
        self.x.n_cols() * self.rows.heads + self.rows.heads
    }

    /// The objective at `w`, with its gradient written into `grad`.
    pub fn value_and_gradient(&mut self, w: &[f64], grad: &mut [f64]) -> f64 {
        let n_params = self.n_params();
        let m = self.rows.heads;
        let n_weights = n_params - m;
        let scale = self.x.column_scale();
        if let Some(scale) = scale {
            self.scaled.resize(n_params, 0.0);
            self.scaled
                .par_chunks_mut(SUM_CHUNK * m)
                .zip(w.par_chunks(SUM_CHUNK * m))
                .enumerate()
                .for_each(|(chunk, (out, w))| {
                    for (o, (out, w)) in out.chunks_mut(m).zip(w.chunks(m)).enumerate() {
                        let col = chunk * SUM_CHUNK + o;
                        let f = scale.get(col).map_or(1.0, |&s| f64::from(s));
                        for (out, w) in out.iter_mut().zip(w) {
                            *out = w * f;
                        }
                    }
                });
        }
        let effective = if scale.is_some() { &self.scaled[..] } else { w };
        let (x, rows) = (self.x, &self.rows);
        let losses: Vec<f64> = self
            .grads
            .par_iter_mut()
            .zip(self.parts.par_iter())
            .map(|(g, range)| {
                g.clear();
                g.resize(n_params, 0.0);
                pass(x, rows, effective, range.clone(), g)
            })
            .collect();
        let (c, grads) = (self.c, &self.grads);
        grad.par_chunks_mut(SUM_CHUNK)
            .enumerate()
            .for_each(|(chunk, out)| {
                let base = chunk * SUM_CHUNK;
                for (o, g) in out.iter_mut().enumerate() {
                    let p = base + o;
                    let sum: f64 = grads.iter().map(|part| part[p]).sum();
                    *g = if p < n_weights {
                        let f = scale.map_or(1.0, |s| f64::from(s[p / m]));
                        c * f * sum + w[p]
                    } else {
                        c * sum
                    };
                }
            });
        let reg: f64 = w[..n_weights].iter().map(|v| v * v).sum::<f64>() * 0.5;
        self.c * losses.iter().sum::<f64>() + reg
    }
}

/// One part's rows: adds their weighted loss (returned) and their gradient (before the column
/// factors) into `g`. `w` holds the weights with their column factors applied.
fn pass<R: Rows>(x: &R, rows: &Encoded, w: &[f64], range: Range<usize>, g: &mut [f64]) -> f64 {
    let m = rows.heads;
    let n_weights = x.n_cols() * m;
    let (w, bias) = w.split_at(n_weights);
    let (g, g_bias) = g.split_at_mut(n_weights);
    let (mut cols, mut vals) = (Vec::new(), Vec::new());
    let mut z = vec![0f64; m];
    let mut r = vec![0f64; m];
    let mut bias_grad = vec![0f64; m];
    let mut loss = 0.0;
    for i in range {
        let (n, row_factor) = x.row_into(i, &mut cols, &mut vals);
        let (cols, vals) = (&cols[..n], &vals[..n]);
        let row_factor = f64::from(row_factor);
        let s = rows.weights[i];
        if m == 1 {
            // One sigmoid head (two labels): no inner loops over heads.
            let zi = bias[0] + row_factor * dot(cols, vals, w);
            sigmoid_row(
                &[zi],
                &rows.targets[i..i + 1],
                (s, &rows.head_weights),
                &mut r,
                &mut loss,
            );
            bias_grad[0] += r[0];
            let ri = r[0] * row_factor;
            for (&c, &v) in cols.iter().zip(vals) {
                g[c as usize] += f64::from(v) * ri;
            }
            continue;
        }
        z.fill(0.0);
        for (&c, &v) in cols.iter().zip(vals) {
            let v = f64::from(v);
            let wc = &w[c as usize * m..c as usize * m + m];
            for (z, w) in z.iter_mut().zip(wc) {
                *z += v * w;
            }
        }
        for (z, b) in z.iter_mut().zip(bias) {
            *z = b + row_factor * *z;
        }
        if rows.softmax {
            softmax_row(&z, rows.class[i] as usize, s, &mut r, &mut loss);
        } else {
            let t = &rows.targets[i * m..i * m + m];
            sigmoid_row(&z, t, (s, &rows.head_weights), &mut r, &mut loss);
        }
        for (b, r) in bias_grad.iter_mut().zip(&r) {
            *b += r;
        }
        for r in r.iter_mut() {
            *r *= row_factor;
        }
        for (&c, &v) in cols.iter().zip(vals) {
            let v = f64::from(v);
            let gc = &mut g[c as usize * m..c as usize * m + m];
            for (g, r) in gc.iter_mut().zip(&r) {
                *g += v * r;
            }
        }
    }
    g_bias.copy_from_slice(&bias_grad);
    loss
}

/// `Σ vals[k] · w[cols[k]]`, in four running sums (one would wait on the previous addition at
/// every entry), added in a fixed order.
#[inline]
fn dot(cols: &[u32], vals: &[f32], w: &[f64]) -> f64 {
    let mut acc = [0f64; 4];
    let mut c4 = cols.chunks_exact(4);
    let mut v4 = vals.chunks_exact(4);
    for (c, v) in (&mut c4).zip(&mut v4) {
        for k in 0..4 {
            acc[k] += f64::from(v[k]) * w[c[k] as usize];
        }
    }
    for (&c, &v) in c4.remainder().iter().zip(v4.remainder()) {
        acc[0] += f64::from(v) * w[c as usize];
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

/// Adds the softmax cross-entropy of one row of scores `z` whose class is `class`, weighted by
/// `s`, to `loss`; writes `s · (p - t)` into `r`.
pub(super) fn softmax_row(z: &[f64], class: usize, s: f64, r: &mut [f64], loss: &mut f64) {
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

/// Adds the independent sigmoid losses of one row, weighted by the row's `s` times each head's
/// weight of its target (`head_weights`, when any), to `loss` head by head (the order of the
/// sums is part of the result); writes the weighted `p - t` into `r`.
pub(super) fn sigmoid_row(
    z: &[f64],
    targets: &[f32],
    (row_weight, head_weights): (f64, &[[f64; 2]]),
    r: &mut [f64],
    loss: &mut f64,
) {
    for h in 0..z.len() {
        let zt = z[h];
        let target = targets[h] as f64;
        let s = head_weights.get(h).map_or(row_weight, |w| {
            row_weight * w[usize::from(targets[h] > 0.5)]
        });
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
