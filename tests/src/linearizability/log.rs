//! The sequential specification of weft's chain for the checker: appends take
//! consecutive positions, reads return the log.

use super::{History, Model, Recorder};
use std::fmt::{self, Debug};
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// The sequential specification of weft's append-only chain: appends get
/// consecutive 0-based positions and reads return the whole log (or its tail).
#[derive(Clone, Copy, Debug, Default)]
pub struct LogModel;

/// Operations on the chain.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LogInput {
    /// Append a value; answered with [`LogOutput::Seq`].
    Append(u64),
    /// Read the whole log; answered with [`LogOutput::Values`].
    Read,
    /// Read the length and last value; answered with [`LogOutput::Tail`].
    ReadTail,
}

/// Results of chain operations.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LogOutput {
    /// The 0-based position the appended value got.
    Seq(u64),
    /// Every value in the log, oldest first.
    Values(Vec<u64>),
    /// The log's length and last value.
    Tail {
        /// Number of values.
        len: u64,
        /// The newest value, if any.
        last: Option<u64>,
    },
}

/// A [`History`] of chain operations.
pub type LogHistory = History<LogModel>;
/// A [`Recorder`] of chain operations.
pub type LogRecorder = Recorder<LogModel>;

struct LogNode {
    value: u64,
    len: u64,
    hash: u64,
    parent: Option<Rc<LogNode>>,
}

/// The chain's contents as a persistent list: the search's many states share
/// their common prefixes, so cloning and extending are O(1), hashing uses a
/// rolling hash of the contents, and equality is exact (it compares values,
/// stopping early at a shared node).
#[derive(Clone, Default)]
pub struct LogState {
    tip: Option<Rc<LogNode>>,
}

impl LogState {
    /// The number of values.
    pub fn len(&self) -> u64 {
        self.tip.as_ref().map_or(0, |n| n.len)
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.tip.is_none()
    }

    /// The newest value.
    pub fn last(&self) -> Option<u64> {
        self.tip.as_ref().map(|n| n.value)
    }

    /// This log with `value` appended.
    pub fn push(&self, value: u64) -> LogState {
        let hash = self.tip.as_ref().map_or(0, |n| n.hash);
        let hash = (hash.rotate_left(23) ^ value).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ self.len();
        let node = LogNode {
            value,
            len: self.len() + 1,
            hash,
            parent: self.tip.clone(),
        };
        LogState {
            tip: Some(Rc::new(node)),
        }
    }

    fn nodes(&self) -> impl Iterator<Item = &LogNode> {
        std::iter::successors(self.tip.as_deref(), |n| n.parent.as_deref())
    }

    /// The values, oldest first.
    pub fn to_vec(&self) -> Vec<u64> {
        let mut values: Vec<u64> = self.nodes().map(|n| n.value).collect();
        values.reverse();
        values
    }

    /// Whether the log holds exactly `values`.
    pub fn matches(&self, values: &[u64]) -> bool {
        self.len() == values.len() as u64
            && self
                .nodes()
                .zip(values.iter().rev())
                .all(|(n, v)| n.value == *v)
    }
}

impl PartialEq for LogState {
    fn eq(&self, other: &Self) -> bool {
        let (mut a, mut b) = (self.tip.as_ref(), other.tip.as_ref());
        loop {
            match (a, b) {
                (None, None) => return true,
                (Some(x), Some(y)) if Rc::ptr_eq(x, y) => return true,
                (Some(x), Some(y)) if x.len == y.len && x.hash == y.hash && x.value == y.value => {
                    (a, b) = (x.parent.as_ref(), y.parent.as_ref());
                }
                _ => return false,
            }
        }
    }
}

impl Eq for LogState {}

impl Hash for LogState {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.len());
        state.write_u64(self.tip.as_ref().map_or(0, |n| n.hash));
    }
}

impl Debug for LogState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 16;
        let mut newest: Vec<u64> = self.nodes().take(SHOWN).map(|n| n.value).collect();
        newest.reverse();
        let hidden = self.len() - newest.len() as u64;
        if hidden == 0 {
            write!(f, "{newest:?}")
        } else {
            write!(
                f,
                "[({hidden} older values) {newest:?}] (len {})",
                self.len()
            )
        }
    }
}

impl Drop for LogState {
    // The default drop would recurse once per node and overflow the stack on
    // long logs; unlink iteratively while this state is the sole owner.
    fn drop(&mut self) {
        let mut cur = self.tip.take();
        while let Some(rc) = cur {
            cur = match Rc::try_unwrap(rc) {
                Ok(mut node) => node.parent.take(),
                Err(_) => None,
            };
        }
    }
}

impl Model for LogModel {
    type State = LogState;
    type Input = LogInput;
    type Output = LogOutput;

    fn init() -> LogState {
        LogState::default()
    }

    fn step(state: &LogState, input: &LogInput, output: &LogOutput) -> Option<LogState> {
        match (input, output) {
            (LogInput::Append(v), LogOutput::Seq(seq)) => {
                (*seq == state.len()).then(|| state.push(*v))
            }
            (LogInput::Read, LogOutput::Values(values)) => {
                state.matches(values).then(|| state.clone())
            }
            (LogInput::ReadTail, LogOutput::Tail { len, last }) => {
                (*len == state.len() && *last == state.last()).then(|| state.clone())
            }
            _ => None,
        }
    }

    // The log only grows, so positions already filled are final.
    fn may_step_later(state: &LogState, input: &LogInput, output: &LogOutput) -> bool {
        let len = state.len();
        match (input, output) {
            (LogInput::Append(_), LogOutput::Seq(seq)) => len <= *seq,
            (LogInput::Read, LogOutput::Values(values)) => {
                len <= values.len() as u64
                    && (len == 0 || state.last() == Some(values[len as usize - 1]))
            }
            (
                LogInput::ReadTail,
                LogOutput::Tail {
                    len: tail_len,
                    last,
                },
            ) => len < *tail_len || (len == *tail_len && state.last() == *last),
            _ => false,
        }
    }

    fn step_unknown(state: &LogState, input: &LogInput) -> Vec<LogState> {
        match input {
            LogInput::Append(v) => vec![state.push(*v)],
            // A read leaves the state as it is, which "never took effect"
            // already covers.
            LogInput::Read | LogInput::ReadTail => Vec::new(),
        }
    }
}
