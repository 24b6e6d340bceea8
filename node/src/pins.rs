//! Trust pins: the peer keys and the trust mode this node's user accepted, kept in
//! `.weftos/peers/.pins.json` (ignored by git, never part of a repository).
//!
//! `weave.toml` is committed and hot-reloaded, so it only *proposes* whom to trust; the
//! pins decide. On first use a name's key is pinned: everything the configuration names
//! when the node first loads its peers, and the first key a pinned name resolves to.
//! Afterwards a different key for a pinned name, a name the file adds, and a switch to
//! `trust = "open"` all wait for `weft peers trust` (a narrowing never waits).

use crate::config::ConfiguredPeerId;
use crate::identity::read_identity;
use crate::NodeError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use weft_kernel::keys::fingerprint;

/// The pins file's name inside `.weftos/peers/` (a peer name cannot start with `.`).
pub const PINS_FILE: &str = ".pins.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PinsFile {
    /// Whether `trust = "open"` was confirmed.
    open: bool,
    /// Name → pinned key (hex); `None` while the name's key is not known yet.
    peers: BTreeMap<String, Option<String>>,
}

/// What the pins say of a key the configuration proposes for a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Follow this key (None: no key known yet).
    Trusted(Option<[u8; 32]>),
    /// The name is pinned to another key: the pinned one stays trusted.
    Changed {
        /// The key accepted earlier.
        pinned: [u8; 32],
        /// The key the configuration now gives.
        proposed: [u8; 32],
    },
    /// The configuration added this name after the pins were made.
    Unconfirmed,
}

impl Verdict {
    /// The key the node follows for the name.
    pub fn key(&self) -> Option<[u8; 32]> {
        match self {
            Verdict::Trusted(key) => *key,
            Verdict::Changed { pinned, .. } => Some(*pinned),
            Verdict::Unconfirmed => None,
        }
    }

    /// Why the proposal is not followed, with what to do, for `weft peers`.
    pub fn refusal(&self, name: &str) -> Option<String> {
        match self {
            Verdict::Trusted(_) => None,
            Verdict::Changed { pinned, proposed } => Some(format!(
                "its key changed from {} to {}; the old key is still the one trusted: if the change is expected, confirm it with `weft peers trust {name}`",
                fingerprint(pinned),
                fingerprint(proposed)
            )),
            Verdict::Unconfirmed => Some(format!(
                "weave.toml added it after this node's trust was pinned; it is not followed until you confirm it with `weft peers trust {name}`"
            )),
        }
    }
}

/// The pins of one node.
#[derive(Debug)]
pub struct Pins {
    path: PathBuf,
    file: PinsFile,
    /// No pins file existed: this load is the first use, and pins everything.
    first_use: bool,
    /// Changed since loaded or saved.
    dirty: bool,
}

impl Pins {
    /// Reads the pins of the node whose peers directory is `peers_dir`; a missing file
    /// means first use. A damaged file is an error: trust is never silently reset.
    pub fn load(peers_dir: &Path) -> Result<Pins, NodeError> {
        let path = peers_dir.join(PINS_FILE);
        let (file, first_use) = match std::fs::read(&path) {
            Ok(bytes) => (
                serde_json::from_slice(&bytes).map_err(|e| {
                    NodeError::Input(format!(
                        "{}: {e}; the trust pins are damaged: fix the file, or delete it to pin the keys weave.toml names now",
                        path.display()
                    ))
                })?,
                false,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (PinsFile::default(), true),
            Err(e) => return Err(NodeError::io(&path, e)),
        };
        Ok(Pins {
            path,
            file,
            first_use,
            dirty: false,
        })
    }

    /// Judges the key the configuration proposes for `name`, pinning it on first use.
    pub fn judge(&mut self, name: &str, proposed: Option<[u8; 32]>) -> Verdict {
        let pinned = match self.file.peers.get(name) {
            None if self.first_use => None,
            None => return Verdict::Unconfirmed,
            Some(key) => key.as_deref().and_then(decode_key),
        };
        match (pinned, proposed) {
            (Some(pinned), Some(proposed)) if pinned != proposed => {
                Verdict::Changed { pinned, proposed }
            }
            (Some(pinned), _) => Verdict::Trusted(Some(pinned)),
            (None, proposed) => {
                self.pin(name, proposed);
                Verdict::Trusted(proposed)
            }
        }
    }

    /// Accepts `key` for `name` (`weft peers trust NAME`).
    pub fn pin(&mut self, name: &str, key: Option<[u8; 32]>) {
        let value = key.map(hex::encode);
        if self.file.peers.get(name) != Some(&value) {
            self.file.peers.insert(name.to_string(), value);
            self.dirty = true;
        }
    }

    /// Whether open trust is in force, given what the configuration asks: a switch to
    /// open waits for confirmation (except on first use), a switch away never waits.
    pub fn judge_open(&mut self, wanted: bool) -> bool {
        if wanted && !self.file.open && !self.first_use {
            return false;
        }
        self.confirm_open(wanted);
        wanted
    }

    /// Records the trust mode the user accepted.
    pub fn confirm_open(&mut self, open: bool) {
        if self.file.open != open {
            self.file.open = open;
            self.dirty = true;
        }
    }

    /// Ends first use: names added later need confirmation.
    pub fn settle(&mut self) {
        if self.first_use {
            self.first_use = false;
            self.dirty = true;
        }
    }

    /// Writes the pins when they changed (atomically, synced).
    pub fn save(&mut self) -> Result<(), NodeError> {
        if !self.dirty {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| NodeError::io(dir, e))?;
        }
        let bytes = serde_json::to_vec_pretty(&self.file).map_err(|e| {
            NodeError::Input(format!("{}: encoding the pins: {e}", self.path.display()))
        })?;
        weft_kernel::atomic::write_atomically(&self.path, &bytes)
            .map_err(|e| NodeError::io(&self.path, e))?;
        self.dirty = false;
        Ok(())
    }

    /// Records the user's own addition of peer `name` with `key` (`weft peers add`,
    /// `weft coordinate link`). Before first use there is nothing to record: the first
    /// load pins everything weave.toml names.
    pub fn accept(&mut self, name: &str, key: Option<[u8; 32]>) -> Result<(), NodeError> {
        if self.first_use {
            return Ok(());
        }
        self.pin(name, key);
        self.save()
    }
}

/// The key the configuration proposes for a peer, for the pins to judge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proposal {
    /// Its configured peer id's key, else the key its local path's identity holds.
    pub key: Option<[u8; 32]>,
    /// The path's identity holds another key than the configured peer id (which wins).
    pub mismatch: Option<[u8; 32]>,
    /// Why the path's identity could not be read.
    pub unreadable: Option<String>,
}

/// What the configuration proposes for a peer with id `configured` and local `path`.
pub fn propose(configured: Option<ConfiguredPeerId>, path: Option<&Path>) -> Proposal {
    let mut proposal = Proposal {
        key: configured.and_then(|id| id.public_key()),
        ..Proposal::default()
    };
    let Some(path) = path else {
        return proposal;
    };
    match read_identity(path) {
        Ok(identity) if proposal.key.is_some_and(|k| k != identity.public_key) => {
            proposal.mismatch = Some(identity.public_key);
        }
        Ok(identity) => proposal.key = Some(identity.public_key),
        Err(e) => proposal.unreadable = Some(e),
    }
    proposal
}

fn decode_key(text: &str) -> Option<[u8; 32]> {
    hex::decode(text).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 32] = [1; 32];
    const B: [u8; 32] = [2; 32];

    #[test]
    fn first_use_pins_then_a_changed_key_or_a_new_name_waits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut pins = Pins::load(dir.path()).expect("load");
        assert_eq!(pins.judge("alice", Some(A)), Verdict::Trusted(Some(A)));
        assert_eq!(pins.judge("bob", None), Verdict::Trusted(None));
        assert!(!pins.judge_open(false));
        pins.settle();
        pins.save().expect("save");

        let mut pins = Pins::load(dir.path()).expect("reload");
        assert_eq!(
            pins.judge("alice", Some(B)),
            Verdict::Changed {
                pinned: A,
                proposed: B
            }
        );
        assert_eq!(pins.judge("alice", None), Verdict::Trusted(Some(A)));
        // bob's first key is its first use.
        assert_eq!(pins.judge("bob", Some(B)), Verdict::Trusted(Some(B)));
        assert_eq!(pins.judge("mallory", Some(B)), Verdict::Unconfirmed);
        assert!(!pins.judge_open(true), "widening to open waits");
        pins.pin("alice", Some(B));
        pins.save().expect("save");

        let mut pins = Pins::load(dir.path()).expect("reload");
        assert_eq!(pins.judge("alice", Some(B)), Verdict::Trusted(Some(B)));
        assert_eq!(pins.judge("bob", Some(A)).key(), Some(B));
    }

    #[test]
    fn a_damaged_pins_file_is_an_error_not_a_reset() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(PINS_FILE), b"{\"open\": tru").expect("write");
        let e = Pins::load(dir.path()).expect_err("damaged");
        assert!(e.to_string().contains("trust pins"), "{e}");
    }
}
