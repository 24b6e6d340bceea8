//! The testnet's nodes (`weft testnet node`, the entrypoint of every container in
//! `testnet/docker-compose.yml` and of the local-process testnet): a generated sample
//! repository per node, a key derived from the testnet seed and the node's name so
//! every node knows its peers' ids before any has started, and the static peer list.
//!
//! Derived keys are for testnets only: anyone who knows the seed has the key.

use crate::config::{valid_name, CONFIG_FILE};
use crate::init::{git_init, init};
use crate::layout::Layout;
use crate::NodeError;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use weft_kernel::keys::NodeKey;

/// Domain of testnet key derivation.
const KEY_DOMAIN: &[u8] = b"weft/testnet/key/v1\0";

/// One node of a testnet.
#[derive(Debug, Clone)]
pub struct TestnetNode {
    /// Its name (also its repository's directory name and its peers' name for it).
    pub name: String,
    /// Where the repositories live.
    pub data: PathBuf,
    /// Seed all testnet keys derive from.
    pub seed: String,
    /// Gossip organisation.
    pub organisation: String,
    /// Listen addresses.
    pub listen: Vec<String>,
    /// Peers: name and address.
    pub peers: Vec<(String, String)>,
    /// Its part in the testnet's cluster, if any.
    pub cluster: Option<ClusterRole>,
}

/// A testnet node's part in a Raft cluster (the `cluster` scenario).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterRole {
    /// Form the cluster on its own chain (once), members dialling it at this address.
    Found {
        /// The address the other members dial it at.
        advertise: Option<String>,
    },
    /// Hold no chain of its own: wait until `weft cluster join` has prepared it.
    Join,
}

/// The key of testnet node `name` under `seed`.
pub fn testnet_key(seed: &str, name: &str) -> NodeKey {
    let mut input = KEY_DOMAIN.to_vec();
    input.extend_from_slice(seed.as_bytes());
    input.push(0);
    input.extend_from_slice(name.as_bytes());
    NodeKey::from_seed(&weft_kernel::hash::shake256(&input).0)
}

/// Sample code, different per node so their graphs and adverts differ.
fn sample_files(name: &str) -> Vec<(String, String)> {
    let module = name.replace(['-', '.'], "_");
    vec![
        (
            "src/lib.rs".into(),
            format!(
                "//! {name}: a sample service.\n\npub fn {module}_handle(input: &str) -> usize {{\n    input.split_whitespace().count()\n}}\n\npub struct {kind}Config {{\n    pub retries: u32,\n}}\n",
                kind = module
                    .split('_')
                    .map(|w| {
                        let mut c = w.chars();
                        c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
                    })
                    .collect::<String>()
            ),
        ),
        (
            "tools/report.py".into(),
            format!("def report_{module}(items):\n    return sorted(items)\n"),
        ),
        ("README.md".into(), format!("# {name}\n\nA weft testnet node.\n")),
    ]
}

/// Marks the node at `root` as a testnet node: its key comes from a public seed, so it
/// may be made to misbehave (`weft testnet equivocate|flood`).
fn mark(root: &Path) -> Result<(), NodeError> {
    let file = Layout::new(root).testnet_mark();
    if file.exists() {
        return Ok(());
    }
    let text = "A testnet node (`weft testnet node`): its key is derived from a public seed, and it accepts fault injection.\n";
    weft_kernel::atomic::write_atomically(&file, text.as_bytes())
        .map_err(|e| NodeError::io(&file, e))
}

impl TestnetNode {
    /// The node's repository.
    pub fn repository(&self) -> PathBuf {
        self.data.join(&self.name)
    }

    /// Creates the repository, key, chain and configuration on first use; later calls
    /// change nothing (a restarted container keeps its history). Returns the root.
    pub fn prepare(&self) -> Result<PathBuf, NodeError> {
        for name in std::iter::once(&self.name).chain(self.peers.iter().map(|(n, _)| n)) {
            if !valid_name(name) {
                return Err(NodeError::Input(format!(
                    "testnet node name `{name}`: use letters, digits, `.`, `_` or `-`"
                )));
            }
        }
        let root = self.repository();
        let layout = Layout::new(&root);
        let joining = self.cluster == Some(ClusterRole::Join);
        // A joiner's chain comes from the cluster, so its preparation ends at the mark.
        if layout.chain().join("CURRENT").exists() || joining && layout.testnet_mark().exists() {
            mark(&root)?;
            return Ok(root);
        }
        std::fs::create_dir_all(&root).map_err(|e| NodeError::io(&root, e))?;
        if !root.join(".git").exists() {
            git_init(&root)?;
        }
        for (path, text) in sample_files(&self.name) {
            let file = root.join(&path);
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir).map_err(|e| NodeError::io(dir, e))?;
            }
            std::fs::write(&file, text).map_err(|e| NodeError::io(&file, e))?;
        }
        if !layout
            .keys()
            .join(weft_kernel::keys::NODE_KEY_FILE)
            .exists()
        {
            testnet_key(&self.seed, &self.name).save_in(&layout.keys())?;
        }
        if joining {
            crate::init::scaffold(&root)?;
        } else {
            init(&root)?;
        }
        self.append_config(&root.join(CONFIG_FILE))?;
        if let Some(ClusterRole::Found { advertise }) = &self.cluster {
            let node = crate::engine::Node::open(&root, crate::engine::OpenMode::Checked)?;
            crate::cluster::form(&node, Some(&self.name), advertise.as_deref())?;
        }
        mark(&root)?;
        Ok(root)
    }

    /// For a joiner: waits until `weft cluster join` has written the membership file
    /// (a testnet container waits to be told whom to join), at most `limit`.
    pub fn wait_for_join(&self, limit: std::time::Duration) -> Result<(), NodeError> {
        let layout = Layout::new(self.repository());
        let deadline = std::time::Instant::now() + limit;
        tracing::info!(
            "waiting for `weft cluster join` in {}",
            layout.root.display()
        );
        while crate::membership::load(&layout)?.is_none() {
            if std::time::Instant::now() > deadline {
                return Err(NodeError::Input(format!(
                    "no `weft cluster join` in {} within {} s",
                    layout.root.display(),
                    limit.as_secs()
                )));
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        Ok(())
    }

    fn append_config(&self, file: &Path) -> Result<(), NodeError> {
        let mut text = std::fs::read_to_string(file).map_err(|e| NodeError::io(file, e))?;
        let quoted = |s: &str| serde_json::Value::String(s.into()).to_string();
        let listen: Vec<String> = self.listen.iter().map(|a| quoted(a)).collect();
        let _ = write!(
            text,
            "\n[network]\nlisten = [{}]\norganisation = {}\nannounce_interval = 5\nwitness_interval = 30\n",
            listen.join(", "),
            quoted(&self.organisation)
        );
        for (name, addr) in &self.peers {
            let peer_id = weft_net::identity::peer_id(&testnet_key(&self.seed, name).public_key())
                .map(|p| p.to_base58())
                .unwrap_or_default();
            let _ = write!(
                text,
                "\n[[coordination.peers]]\nname = {}\naddr = {}\npeer_id = {}\n",
                quoted(name),
                quoted(addr),
                quoted(&peer_id)
            );
        }
        crate::WeaveConfig::parse(&text, file)?;
        std::fs::write(file, text).map_err(|e| NodeError::io(file, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_derive_from_seed_and_name_only() {
        assert_eq!(
            testnet_key("s", "node1").public_key(),
            testnet_key("s", "node1").public_key()
        );
        assert_ne!(
            testnet_key("s", "node1").public_key(),
            testnet_key("s", "node2").public_key()
        );
        assert_ne!(
            testnet_key("s", "node1").public_key(),
            testnet_key("t", "node1").public_key()
        );
        // No ambiguity between (seed, name) splits.
        assert_ne!(
            testnet_key("ab", "c").public_key(),
            testnet_key("a", "bc").public_key()
        );
    }

    #[test]
    fn a_prepared_node_lists_its_peers_with_their_derived_ids_and_stays_put() {
        let data = tempfile::tempdir().expect("tmp");
        let node = TestnetNode {
            name: "node1".into(),
            data: data.path().to_path_buf(),
            seed: "seed".into(),
            organisation: "testnet".into(),
            listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
            peers: vec![("node2".into(), "/dns4/node2/tcp/4001".into())],
            cluster: None,
        };
        let root = node.prepare().expect("prepare");
        let config = crate::WeaveConfig::load(&root).expect("config");
        assert_eq!(config.network.organisation, "testnet");
        let peer = &config.coordination.peers[0];
        let expected = weft_net::identity::peer_id(&testnet_key("seed", "node2").public_key())
            .expect("id")
            .to_base58();
        assert_eq!(peer.peer_id.map(|id| id.to_string()), Some(expected));
        let key = NodeKey::load_from(&Layout::new(&root).keys()).expect("key");
        assert_eq!(key.public_key(), testnet_key("seed", "node1").public_key());
        let before = std::fs::read(root.join(CONFIG_FILE)).expect("read");
        node.prepare().expect("again");
        assert_eq!(std::fs::read(root.join(CONFIG_FILE)).expect("read"), before);
    }
}
