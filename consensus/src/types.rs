//! What the cluster agrees on: the Raft type configuration, a member's address card, and
//! the commands a log entry carries with the replies applying them gives.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A member's Raft node id.
pub type NodeId = u64;

/// What the cluster knows of a member: how to reach it and which key it signs heads
/// with (recorded on the chain when it joins).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member's name, for people (`weft cluster remove NAME`).
    pub name: String,
    /// Its libp2p peer id.
    pub peer_id: String,
    /// A multiaddr it listens on.
    pub addr: String,
    /// Its node key (hex of the Ed25519 public key).
    pub public_key: String,
}

/// One change a client asks for. Commands are intentions, not results: the state machine
/// plans each against the state it has applied, so every member derives the same events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Events appended as they are, all or none (`weft chain append`, witness records,
    /// assessments; a signer event among them is checked like any other's).
    Append(Vec<Draft>),
    /// `weft tree set`.
    TreeSet {
        /// Node path.
        path: String,
        /// Node kind.
        kind: String,
        /// Metadata.
        meta: BTreeMap<String, String>,
    },
    /// `weft tree remove`.
    TreeRemove {
        /// Node path.
        path: String,
        /// Remove everything below it too.
        recursive: bool,
    },
    /// A governance gate decision (`weft gate check`, a release), evaluated by the state
    /// machine under the rule set the proposer read from its weave.toml.
    GateDecide {
        /// The rule set, canonical CBOR (`RuleSet::to_value`).
        rules: Vec<u8>,
        /// Action.
        action: String,
        /// Environment.
        environment: Option<String>,
        /// The effect vector: dimension and value.
        effect: Vec<(String, f64)>,
    },
    /// Approving or rejecting a deferred decision (`weft gate approve|reject`).
    GateResolve {
        /// Sequence of the decision.
        seq: u64,
        /// Approve, else reject.
        approve: bool,
        /// Note.
        note: Option<String>,
        /// Who.
        by: Option<String>,
    },
}

/// An event draft as it travels: its payload as canonical CBOR bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// Source.
    pub source: String,
    /// Kind (`source.verb`).
    pub kind: String,
    /// Canonical CBOR payload.
    #[serde(with = "serde_bytes_vec")]
    pub payload: Vec<u8>,
}

impl Draft {
    /// A draft of `payload`, encoded canonically.
    pub fn new(
        source: &str,
        kind: &str,
        payload: ciborium::value::Value,
    ) -> Result<Draft, weft_kernel::cbor::CborError> {
        Ok(Draft {
            source: source.into(),
            kind: kind.into(),
            payload: weft_kernel::cbor::encode_canonical(payload)?,
        })
    }
}

/// A client's request: a command and the (client, serial) key that makes a retried
/// proposal apply once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The client's id: random per client process.
    pub client: [u8; 16],
    /// The client's serial for this request, distinct per request of that client.
    pub serial: u64,
    /// What to do.
    pub command: Command,
}

/// A Raft log entry's application data: requests of many clients sharing one entry, with
/// the time the leader stamped on it (every event the entry adds carries it, or the
/// chain's last time if that is later).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// The leader's clock when it proposed, ns since the epoch.
    pub time_ns: u64,
    /// The requests, applied in order.
    pub requests: Vec<Request>,
}

impl fmt::Display for Proposal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "proposal({} requests at {})",
            self.requests.len(),
            self.time_ns
        )
    }
}

/// An event an applied request added.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appended {
    /// Its sequence.
    pub seq: u64,
    /// Its hash (hex).
    pub hash: String,
}

/// What applying one request did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// Applied: these events were added.
    Applied(Vec<Appended>),
    /// Refused, with why; nothing was changed.
    Refused(String),
}

/// The replies to a proposal's requests, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replies(pub Vec<Reply>);

openraft::declare_raft_types!(
    /// weft's Raft type configuration.
    pub TypeConfig:
        D = Proposal,
        R = Replies,
        NodeId = NodeId,
        Node = Member,
);

/// Serde for byte vectors as CBOR byte strings (not arrays of integers).
mod serde_bytes_vec {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        serde_bytes::ByteBuf::deserialize(d).map(|b| b.into_vec())
    }
}
