//! Limited-memory BFGS with a backtracking (Armijo, quadratic interpolation) line search, working
//! in place on `f64` vectors. Written here rather than taken from argmin because argmin allocates a
//! fresh vector for every vector operation, which dominates run time at millions of parameters.
//! Vector operations run on rayon over fixed-size chunks, so results do not depend on thread count.

use rayon::prelude::*;

const CHUNK: usize = 1 << 15;

fn max_abs(a: &[f64]) -> f64 {
    a.par_chunks(CHUNK)
        .map(|c| c.iter().fold(0.0f64, |m, v| m.max(v.abs())))
        .reduce(|| 0.0, f64::max)
}

/// Stopping rules and memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LbfgsParams {
    pub max_iter: usize,
    /// Number of (s, y) correction pairs kept (`TrainParams` picks ten for one head, five for
    /// many: on 20news, 2 M parameters, each iteration is then a quarter cheaper and as many
    /// are needed).
    pub history: usize,
    /// Stop when the relative decrease of the objective falls below this.
    pub ftol: f64,
    /// Stop when the largest gradient component falls below this.
    pub gtol: f64,
}

impl Default for LbfgsParams {
    fn default() -> Self {
        LbfgsParams {
            max_iter: 500,
            history: 5,
            ftol: 1e-9,
            gtol: 1e-6,
        }
    }
}

/// How the minimisation ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LbfgsReport {
    pub iterations: usize,
    pub evaluations: usize,
    pub objective: f64,
    pub converged: bool,
}

/// Runs `each` over the fixed chunks of `out` (and of the `ins` beside it), in parallel, and
/// adds the partial sums each returns in chunk order: the same sum whatever the thread count.
fn chunked<const N: usize, F>(out: &mut [f64], ins: [&[f64]; N], each: F) -> [f64; 2]
where
    F: Fn(&mut [f64], [&[f64]; N]) -> [f64; 2] + Sync,
{
    let parts: Vec<[f64; 2]> = out
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(c, o)| {
            let range = c * CHUNK..c * CHUNK + o.len();
            each(o, ins.map(|v| &v[range.clone()]))
        })
        .collect();
    parts
        .iter()
        .fold([0.0, 0.0], |acc, p| [acc[0] + p[0], acc[1] + p[1]])
}

/// `d = scale · d + a · x`, returning `next · d` (the next dot the recursion needs) in the same
/// sweep.
fn update_then_dot(d: &mut [f64], scale: f64, a: f64, x: &[f64], next: &[f64]) -> f64 {
    chunked(d, [x, next], |d, [x, next]| {
        let mut sum = 0.0;
        for ((d, x), n) in d.iter_mut().zip(x).zip(next) {
            *d = scale * *d + a * x;
            sum += *d * n;
        }
        [sum, 0.0]
    })[0]
}

/// The L-BFGS direction `d = -H g` by the two-loop recursion over the pairs newest first
/// (`order`), each step fused with the next one's dot product so every pair costs one sweep
/// per loop; returns `g · d`.
fn direction(d: &mut [f64], g: &[f64], pairs: &Pairs, order: &[usize], alpha: &mut [f64]) -> f64 {
    let k = order.len();
    if k == 0 {
        return chunked(d, [g], |d, [g]| {
            let mut sum = 0.0;
            for (d, g) in d.iter_mut().zip(g) {
                *d = -g;
                sum += g * *d;
            }
            [sum, 0.0]
        })[0];
    }
    // First loop: alpha_i = rho_i s_i·d; d -= alpha_i y_i.
    let first = order[0];
    let mut s_dot = chunked(d, [g, &pairs.s[first]], |d, [g, s]| {
        let mut sum = 0.0;
        for ((d, g), s) in d.iter_mut().zip(g).zip(s) {
            *d = *g;
            sum += s * g;
        }
        [sum, 0.0]
    })[0];
    for (j, &i) in order.iter().enumerate() {
        alpha[i] = pairs.rho[i] * s_dot;
        // The next dot: s of the next pair, or y of the oldest for the second loop's start.
        let next = match order.get(j + 1) {
            Some(&n) => &pairs.s[n],
            None => &pairs.y[order[k - 1]],
        };
        s_dot = update_then_dot(d, 1.0, -alpha[i], &pairs.y[i], next);
    }
    // Scale by gamma = s·y / y·y of the newest pair, then the second loop, oldest first:
    // beta_i = rho_i y_i·d; d += (alpha_i - beta_i) s_i.
    let gamma = 1.0 / (pairs.rho[first] * pairs.yy[first]);
    let mut y_dot = gamma * s_dot;
    let mut scale = gamma;
    for (j, &i) in order.iter().rev().enumerate() {
        let beta = pairs.rho[i] * y_dot;
        let next = match order.len().checked_sub(j + 2) {
            Some(n) => &pairs.y[order[n]],
            None => g,
        };
        y_dot = update_then_dot(d, scale, alpha[i] - beta, &pairs.s[i], next);
        scale = 1.0;
    }
    // d is H g; the direction is its negative, and g·d changes sign with it.
    d.par_chunks_mut(CHUNK)
        .for_each(|d| d.iter_mut().for_each(|v| *v = -*v));
    -y_dot
}

/// The remembered correction pairs, a ring of at most `history`.
struct Pairs {
    s: Vec<Vec<f64>>,
    y: Vec<Vec<f64>>,
    rho: Vec<f64>,
    /// `y·y` of each pair.
    yy: Vec<f64>,
    /// Index of the newest pair.
    newest: usize,
}

impl Pairs {
    /// Pair indices, newest first.
    fn order(&self, history: usize) -> Vec<usize> {
        (0..self.s.len())
            .map(|i| (self.newest + history - i) % history)
            .collect()
    }

    fn clear(&mut self) {
        self.s.clear();
        self.y.clear();
        self.rho.clear();
        self.yy.clear();
    }
}

/// Minimises `eval` (which writes the gradient and returns the objective) starting from `x`.
/// `progress(iteration, objective)` is called once per iteration; returning `false` stops early.
pub fn minimize<E, P>(
    x: &mut [f64],
    params: &LbfgsParams,
    mut eval: E,
    mut progress: P,
) -> LbfgsReport
where
    E: FnMut(&[f64], &mut [f64]) -> f64,
    P: FnMut(usize, f64) -> bool,
{
    let n = x.len();
    let history = params.history.max(1);
    let mut cur = x.to_vec();
    let mut g = vec![0.0; n];
    let mut f = eval(&cur, &mut g);
    let mut g_max = max_abs(&g);
    let mut evaluations = 1;
    let mut pairs = Pairs {
        s: Vec::new(),
        y: Vec::new(),
        rho: Vec::new(),
        yy: Vec::new(),
        newest: 0,
    };
    let mut d = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut alpha = vec![0.0; history];
    let mut report = LbfgsReport {
        iterations: 0,
        evaluations,
        objective: f,
        converged: false,
    };

    for iter in 0..params.max_iter {
        if g_max <= params.gtol {
            report.converged = true;
            break;
        }
        let mut gd = direction(&mut d, &g, &pairs, &pairs.order(history), &mut alpha);
        if gd >= 0.0 {
            // Not a descent direction: forget the curvature pairs and follow the gradient.
            pairs.clear();
            gd = direction(&mut d, &g, &pairs, &[], &mut alpha);
        }
        let mut step = if pairs.s.is_empty() {
            (1.0 / (-gd).sqrt()).min(1.0)
        } else {
            1.0
        };

        // Backtracking line search with the Armijo condition.
        let mut accepted = false;
        let mut f_new = f;
        for _ in 0..40 {
            chunked(&mut x_new, [&cur, &d], |o, [x, d]| {
                for ((o, x), d) in o.iter_mut().zip(x).zip(d) {
                    *o = x + step * d;
                }
                [0.0, 0.0]
            });
            f_new = eval(&x_new, &mut g_new);
            evaluations += 1;
            if f_new.is_finite() && f_new <= f + 1e-4 * step * gd {
                accepted = true;
                break;
            }
            let denom = 2.0 * (f_new - f - gd * step);
            let interp = if f_new.is_finite() && denom > 0.0 {
                -gd * step * step / denom
            } else {
                0.5 * step
            };
            step = interp.clamp(0.1 * step, 0.5 * step);
        }
        report.iterations = iter + 1;
        report.evaluations = evaluations;
        if !accepted {
            // No further decrease is possible at this precision.
            report.converged = true;
            break;
        }

        // The new correction pair, reusing the oldest buffers once the ring is full: s is
        // step · d, y the gradient's change; s·y and y·y in the same sweep.
        let full = pairs.s.len() == history;
        let slot = (pairs.newest + 1) % history;
        let (mut s, mut y) = if full {
            (
                std::mem::take(&mut pairs.s[slot]),
                std::mem::take(&mut pairs.y[slot]),
            )
        } else {
            (vec![0.0; n], vec![0.0; n])
        };
        chunked(&mut s, [&d], |s, [d]| {
            s.iter_mut().zip(d).for_each(|(s, d)| *s = step * d);
            [0.0, 0.0]
        });
        let [sy, yy] = chunked(&mut y, [&g_new, &g, &s], |y, [gn, g, s]| {
            let (mut sy, mut yy) = (0.0, 0.0);
            for (((y, gn), g), s) in y.iter_mut().zip(gn).zip(g).zip(s) {
                *y = gn - g;
                sy += s * *y;
                yy += *y * *y;
            }
            [sy, yy]
        });
        if sy > 1e-12 * yy.max(f64::MIN_POSITIVE) {
            if full {
                pairs.newest = slot;
                pairs.s[slot] = s;
                pairs.y[slot] = y;
                pairs.rho[slot] = 1.0 / sy;
                pairs.yy[slot] = yy;
            } else {
                pairs.s.push(s);
                pairs.y.push(y);
                pairs.rho.push(1.0 / sy);
                pairs.yy.push(yy);
                pairs.newest = pairs.s.len() - 1;
            }
        } else if full {
            // Skipped update: put the taken buffers back so the ring stays full.
            pairs.s[slot] = s;
            pairs.y[slot] = y;
        }

        let rel = (f - f_new) / f.abs().max(f_new.abs()).max(1.0);
        std::mem::swap(&mut cur, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        g_max = max_abs(&g);
        f = f_new;
        report.objective = f;
        if !progress(iter + 1, f) {
            break;
        }
        if rel <= params.ftol {
            report.converged = true;
            break;
        }
    }
    x.copy_from_slice(&cur);
    report.objective = f;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_a_shifted_quadratic() {
        // f(x) = sum_i (i + 1) (x_i - i)^2 has its minimum at x_i = i.
        let mut x = vec![0.0; 50];
        let rep = minimize(
            &mut x,
            &LbfgsParams {
                gtol: 1e-9,
                ftol: 0.0,
                ..LbfgsParams::default()
            },
            |x, g| {
                let mut f = 0.0;
                for (i, (xi, gi)) in x.iter().zip(g.iter_mut()).enumerate() {
                    let w = (i + 1) as f64;
                    f += w * (xi - i as f64).powi(2);
                    *gi = 2.0 * w * (xi - i as f64);
                }
                f
            },
            |_, _| true,
        );
        assert!(rep.converged, "{rep:?}");
        for (i, xi) in x.iter().enumerate() {
            assert!((xi - i as f64).abs() < 1e-6, "x[{i}] = {xi}");
        }
    }

    #[test]
    fn minimises_rosenbrock() {
        let mut x = vec![-1.2, 1.0];
        let rep = minimize(
            &mut x,
            &LbfgsParams {
                gtol: 1e-10,
                ftol: 0.0,
                max_iter: 1000,
                ..LbfgsParams::default()
            },
            |x, g| {
                let (a, b) = (x[0], x[1]);
                g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
                g[1] = 200.0 * (b - a * a);
                (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
            },
            |_, _| true,
        );
        assert!(
            (x[0] - 1.0).abs() < 1e-5 && (x[1] - 1.0).abs() < 1e-5,
            "{x:?} {rep:?}"
        );
    }
}
