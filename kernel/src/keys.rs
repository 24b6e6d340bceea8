//! The node's Ed25519 identity: created once by `weft init`, kept in `.weftos/keys/`.
//!
//! The secret is the 32-byte Ed25519 seed in a file readable by its owner only (0600,
//! directory 0700). It is never printed; a key whose file others can read is refused,
//! as ssh does, because a leaked key lets anyone sign this project's history.

use crate::hash::{domain_hash, domains};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// File name of the node key inside the keys directory.
pub const NODE_KEY_FILE: &str = "node.ed25519";

/// Why the key could not be created or loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Filesystem error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The key file does not exist.
    #[error("no node key at {0}: run `weft init` in this repository")]
    Missing(PathBuf),
    /// The key file is not 32 bytes.
    #[error("{0} is not a weft node key (expected 32 bytes)")]
    Malformed(PathBuf),
    /// Others may read the key file.
    #[error("{path} has mode {mode:o}: a node key must be readable by its owner only; run `chmod 600 {path}`")]
    TooOpen {
        /// The file.
        path: PathBuf,
        /// Its mode bits.
        mode: u32,
    },
    /// The OS random source failed.
    #[error("cannot get random bytes for a new key: {0}")]
    Random(String),
    /// Refusing to overwrite.
    #[error("{0} already exists; weft never replaces a node key")]
    Exists(PathBuf),
}

/// The node's signing identity.
#[derive(Clone)]
pub struct NodeKey {
    signing: SigningKey,
}

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log.
        write!(f, "NodeKey({})", self.fingerprint())
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl NodeKey {
    /// A new random key.
    pub fn generate() -> Result<NodeKey, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(NodeKey::from_seed(&seed))
    }

    /// A key from a 32-byte seed (tests and known-answer vectors).
    pub fn from_seed(seed: &[u8; 32]) -> NodeKey {
        NodeKey {
            signing: SigningKey::from_bytes(seed),
        }
    }

    /// Writes a new random key to `dir/node.ed25519`, creating `dir` with mode 0700 and
    /// the file 0600.
    pub fn create_in(dir: &Path) -> Result<NodeKey, KeyError> {
        let key = NodeKey::generate()?;
        key.save_in(dir)?;
        Ok(key)
    }

    /// Writes this key to `dir/node.ed25519` (mode 0600 in a 0700 directory); refuses to
    /// replace an existing key.
    pub fn save_in(&self, dir: &Path) -> Result<(), KeyError> {
        let path = dir.join(NODE_KEY_FILE);
        if path.exists() {
            return Err(KeyError::Exists(path));
        }
        crate::atomic::create_dir_durably(dir).map_err(io(dir))?;
        set_mode(dir, 0o700)?;
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(io(&path))?;
        file.write_all(self.signing.as_bytes()).map_err(io(&path))?;
        file.sync_all().map_err(io(&path))?;
        // A key whose name a power cut can take leaves a chain no one can extend.
        crate::atomic::sync_parent(&path).map_err(io(&path))
    }

    /// Loads `dir/node.ed25519`, refusing a file others can read.
    pub fn load_from(dir: &Path) -> Result<NodeKey, KeyError> {
        let path = dir.join(NODE_KEY_FILE);
        if !path.exists() {
            return Err(KeyError::Missing(path));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).map_err(io(&path))?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::TooOpen { path, mode });
            }
        }
        let bytes = fs::read(&path).map_err(io(&path))?;
        let seed: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::Malformed(path.clone()))?;
        Ok(NodeKey::from_seed(&seed))
    }

    /// The public key bytes.
    pub fn public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// Short printable identity of the public key: `ed25519:` and 16 bytes of its hash.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.public_key())
    }

    /// Signs a message.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// The underlying dalek key, for layers that need the same identity (libp2p).
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }
}

/// Fingerprint of a public key.
pub fn fingerprint(public_key: &[u8; 32]) -> String {
    let h = domain_hash(domains::KEY_FINGERPRINT, &[public_key]);
    format!("ed25519:{}", hex::encode(&h.0[..16]))
}

/// Verifies an Ed25519 signature (strict: rejects malleable and small-order forms).
pub fn verify_signature(public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(public_key) else {
        return false;
    };
    let sig = ed25519_dalek::Signature::from_bytes(signature);
    key.verify_strict(message, &sig).is_ok()
}

fn set_mode(path: &Path, mode: u32) -> Result<(), KeyError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(io(path))?;
    }
    let _ = (path, mode);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_key_is_private_and_reloads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let keys = dir.path().join("keys");
        let key = NodeKey::create_in(&keys).expect("create");
        let again = NodeKey::load_from(&keys).expect("load");
        assert_eq!(key.public_key(), again.public_key());
        assert!(matches!(
            NodeKey::create_in(&keys),
            Err(KeyError::Exists(_))
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = |p: &Path| fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(meta(&keys), 0o700);
            assert_eq!(meta(&keys.join(NODE_KEY_FILE)), 0o600);
            fs::set_permissions(keys.join(NODE_KEY_FILE), fs::Permissions::from_mode(0o644))
                .expect("chmod");
            assert!(matches!(
                NodeKey::load_from(&keys),
                Err(KeyError::TooOpen { .. })
            ));
        }
    }

    #[test]
    fn signatures_verify_and_reject_tampering() {
        let key = NodeKey::from_seed(&[1; 32]);
        let sig = key.sign(b"hello");
        assert!(verify_signature(&key.public_key(), b"hello", &sig));
        assert!(!verify_signature(&key.public_key(), b"hellp", &sig));
        let other = NodeKey::from_seed(&[2; 32]);
        assert!(!verify_signature(&other.public_key(), b"hello", &sig));
        assert!(!format!("{key:?}").contains(&hex::encode([1u8; 32])));
    }
}
