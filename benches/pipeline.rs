//! Criterion benches, one group per stage of the hot path, each with `Throughput::Bytes`:
//! split (line cutting), tokenize_hash (vectorizing), stages (hashing, + counting, + scoring,
//! stacked), score (linear model), jsonl+compress (writing and deflating prediction lines),
//! end_to_end (a whole job into output.tar.gz), and train (the compact store, one pass of the
//! objective, a whole fit).

mod common;

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use docclass::aws::Identity;
use docclass::input::split::{chunk_ends, LineIter};
use docclass::input::{listing, SplitMode};
use docclass::job::{classify_into, ClassifyConfig, UNIT_BYTES};
use docclass::model::train::objective::{Encoded, Logistic};
use docclass::model::{Classifier, ScoreScratch};
use docclass::model::{Design, Targets, TfScale, TfStore, TrainParams};
use docclass::output::archive::CompressedChunk;
use docclass::output::jsonl::{json_string, rank_into, FileLine, JsonStyle, JsonlFormat};
use docclass::text::{FeatureSpec, HashingVectorizer, SparseVec, VectorizerScratch};

fn model() -> Classifier {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/spam-ham");
    Classifier::load(&dir).expect("the shipped model models/spam-ham")
}

fn split(c: &mut Criterion) {
    let mut g = c.benchmark_group("split");
    for n in [10_000usize, 100_000] {
        let text = common::corpus(n, 1);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::new("lines", n), text.as_bytes(), |b, data| {
            b.iter(|| LineIter::new(black_box(data)).count())
        });
        g.bench_with_input(
            BenchmarkId::new("chunk_ends", n),
            text.as_bytes(),
            |b, data| b.iter(|| chunk_ends(black_box(data), UNIT_BYTES).len()),
        );
    }
    g.finish();
}

fn tokenize_hash(c: &mut Criterion) {
    let m = model();
    let text = common::corpus(10_000, 2);
    let mut g = c.benchmark_group("tokenize_hash");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("vectorize_10k_lines", |b| {
        let mut scratch = VectorizerScratch::default();
        let mut v = SparseVec::default();
        b.iter(|| {
            let mut nnz = 0;
            for line in text.lines() {
                m.vectorizer().vectorize_into(line, &mut scratch, &mut v);
                nnz += v.len();
            }
            nnz
        })
    });
    g.finish();
}

/// The hot path's stages one on top of the other, on the same lines: hashing alone (tokens,
/// word and character n-grams), then counting (term frequencies), then scoring (the classifier's
/// whole text-to-probabilities path). Differences between them are the cost of each stage.
fn stages(c: &mut Criterion) {
    let m = model();
    let text = common::corpus(10_000, 5);
    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("1_hash_10k_lines", |b| {
        let mut scratch = VectorizerScratch::default();
        b.iter(|| {
            let mut n = 0;
            for line in text.lines() {
                m.vectorizer().hash_into(line, &mut scratch);
                n += 1;
            }
            n
        })
    });
    g.bench_function("2_hash_count_10k_lines", |b| {
        let mut scratch = VectorizerScratch::default();
        let mut tf = SparseVec::default();
        b.iter(|| {
            let mut nnz = 0;
            for line in text.lines() {
                m.vectorizer()
                    .term_frequencies_into(line, &mut scratch, &mut tf);
                nnz += tf.len();
            }
            nnz
        })
    });
    g.bench_function("3_hash_count_score_10k_lines", |b| {
        let mut scratch = ScoreScratch::default();
        let mut probs = Vec::new();
        b.iter(|| {
            let mut acc = 0.0;
            for line in text.lines() {
                m.probabilities_into(line, &mut scratch, &mut probs);
                acc += probs[0];
            }
            acc
        })
    });
    g.finish();
}

fn score(c: &mut Criterion) {
    let m = model();
    let text = common::corpus(10_000, 3);
    let mut scratch = VectorizerScratch::default();
    let vecs: Vec<SparseVec> = text
        .lines()
        .map(|l| {
            let mut v = SparseVec::default();
            m.vectorizer().vectorize_into(l, &mut scratch, &mut v);
            v
        })
        .collect();
    let mut g = c.benchmark_group("score");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("probabilities_10k_docs", |b| {
        let (mut z, mut p) = (Vec::new(), Vec::new());
        b.iter(|| {
            let mut acc = 0.0;
            for v in &vecs {
                m.model().probabilities_into(v, &mut z, &mut p);
                acc += p[0];
            }
            acc
        })
    });
    g.finish();
}

fn jsonl_compress(c: &mut Criterion) {
    let m = model();
    let format = JsonlFormat::new(
        JsonStyle::Compact,
        FileLine::Zero,
        m.model().mode(),
        m.model().labels(),
    );
    let file = json_string("messages.txt");
    let probs = [0.1234, 0.8766];
    let mut ranked = Vec::new();
    rank_into(m.model().mode(), &probs, &mut ranked);
    let mut lines = Vec::new();
    for i in 0..10_000u64 {
        format.push_prediction(&mut lines, &file, Some(i), &ranked, &probs);
    }
    let mut g = c.benchmark_group("jsonl_compress");
    g.throughput(Throughput::Bytes(lines.len() as u64));
    g.bench_function("write_10k_lines", |b| {
        let mut out = Vec::with_capacity(lines.len());
        b.iter(|| {
            out.clear();
            for i in 0..10_000u64 {
                format.push_prediction(&mut out, &file, Some(i), &ranked, &probs);
            }
            out.len()
        })
    });
    for level in [1u32, 2, 5, 6] {
        g.bench_with_input(
            BenchmarkId::new("deflate_level", level),
            &level,
            |b, &level| {
                b.iter(|| {
                    CompressedChunk::compress(black_box(&lines), level)
                        .deflated
                        .len()
                })
            },
        );
    }
    g.finish();
}

fn end_to_end(c: &mut Criterion) {
    let m = model();
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("end_to_end");
    g.sample_size(10);
    for n in [20_000usize, 200_000] {
        let text = common::corpus(n, 4);
        let input = dir.path().join(format!("in{n}/messages.txt"));
        std::fs::create_dir_all(input.parent().unwrap()).unwrap();
        std::fs::write(&input, &text).unwrap();
        let listing = listing::list(input.to_str().unwrap()).unwrap();
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("one_doc_per_line", n),
            &listing,
            |b, listing| {
                let mut k = 0u64;
                b.iter(|| {
                    k += 1;
                    let output = dir.path().join("out").display().to_string();
                    let cfg = ClassifyConfig::new(
                        &input.display().to_string(),
                        SplitMode::OnePerLine,
                        &output,
                        &format!("{k:032x}"),
                        Identity::default(),
                    );
                    let dest = dir.path().join(format!("out/{k}.tar.gz"));
                    let counts = classify_into(
                        &cfg,
                        &m,
                        listing,
                        &dest,
                        &mut |_| {},
                        &AtomicBool::new(false),
                    )
                    .unwrap();
                    std::fs::remove_file(&dest).unwrap();
                    counts.documents
                })
            },
        );
    }
    g.finish();
}

/// Training's stages on the same synthetic messages, labelled by whether they mention a prize:
/// vectorizing into the compact store, one pass of the objective (loss and gradient) over its
/// rows, and a whole fit.
fn train(c: &mut Criterion) {
    let n = 50_000usize;
    let text = common::corpus(n, 5);
    let lines: Vec<&str> = text.lines().collect();
    let spec = FeatureSpec::default();
    let counting = HashingVectorizer::new(FeatureSpec {
        sublinear_tf: false,
        idf: false,
        l2_normalize: false,
        ..spec.clone()
    })
    .unwrap();
    let build = || {
        TfStore::build(
            lines.len(),
            spec.n_features(),
            VectorizerScratch::default,
            |scratch, i, out| counting.term_frequencies_into(lines[i], scratch, out),
        )
    };
    let mut g = c.benchmark_group("train");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("vectorize_store_50k", |b| b.iter(|| build().entries()));
    let store = build();
    let rows: Vec<u32> = (0..lines.len() as u32).collect();
    let targets = Targets::from_rows(2, lines.iter().map(|l| [u32::from(l.contains("prize"))]));
    let design = Design::new(
        &store,
        &rows,
        TfScale::Sublinear,
        vec![1.0; store.n_cols()],
        true,
    );
    g.throughput(Throughput::Elements(store.entries()));
    g.bench_function("objective_pass_50k", |b| {
        let encoded = Encoded {
            heads: 1,
            softmax: false,
            targets: (0..lines.len()).map(|i| targets.get(i)[0] as f32).collect(),
            class: (0..lines.len()).map(|i| targets.get(i)[0]).collect(),
            weights: vec![1.0; lines.len()],
            head_weights: Vec::new(),
        };
        let mut objective = Logistic::new(&design, encoded, 100.0);
        let w = vec![0.01f64; objective.n_params()];
        let mut grad = vec![0f64; w.len()];
        b.iter(|| objective.value_and_gradient(black_box(&w), &mut grad))
    });
    g.bench_function("decode_only_50k", |b| {
        use docclass::model::train::sparse::Rows;
        let (mut cols, mut vals) = (Vec::new(), Vec::new());
        b.iter(|| {
            let mut sum = 0f32;
            for k in 0..design.n_rows() {
                let (n, f) = design.row_into(k, &mut cols, &mut vals);
                sum += f + n as f32;
            }
            sum
        })
    });
    g.bench_function("fit_50k_c100", |b| {
        let params = TrainParams {
            c: 100.0,
            ..TrainParams::default()
        };
        b.iter(|| {
            params
                .fit_rows(
                    &design,
                    (&targets, None),
                    vec!["ham".into(), "spam".into()],
                    None,
                    &mut |_| {},
                )
                .unwrap()
                .report
                .evaluations
        })
    });
    g.finish();
}

fn model_load(c: &mut Criterion) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/spam-ham");
    let bytes = std::fs::metadata(dir.join("weights.bin")).unwrap().len();
    let mut g = c.benchmark_group("model_load");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("spam_ham", |b| {
        b.iter(|| Classifier::load(black_box(&dir)).unwrap())
    });
    g.finish();
}

criterion_group!(
    benches,
    split,
    tokenize_hash,
    stages,
    score,
    jsonl_compress,
    end_to_end,
    train,
    model_load
);
criterion_main!(benches);
