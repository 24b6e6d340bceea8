//! Linearizability checking for histories of concurrent operations.
//!
//! A multi-process test records, for every client operation, when it was
//! invoked, what it returned and when (or that its outcome is unknown because
//! the client gave up). [`check`] then decides whether some total order of the
//! operations exists that respects real time (an operation that returned before
//! another was invoked comes first) and is accepted by a sequential [`Model`].
//!
//! The search is the one of Wing and Gong ("Testing and verifying concurrent
//! objects", 1993): repeatedly pick a pending operation that may take effect
//! next, apply it to the model, and backtrack when some operation's response is
//! reached without it having been placed. Following Lowe ("Testing for
//! linearizability", 2017), every configuration reached — the set of
//! operations already placed together with the model state — is memoized, so a
//! configuration reached again by a different interleaving is not re-explored.
//! The search is bounded by a step budget; running out yields
//! [`CheckError::Inconclusive`], never a claim of linearizability.
//!
//! An operation whose outcome is unknown is given an infinite response time: it
//! may never take effect, or take effect at any point after its invocation with
//! any output (see [`Model::step_unknown`]).
//!
//! [`LogModel`] is the sequential specification of weft's replicated
//! append-only chain.
//!
//! # Recording
//!
//! [`History`] stamps events with its own counter; [`Recorder`] wraps one in a
//! mutex so client threads can share it. Stamp an invocation just before the
//! request is sent and a response just after the reply arrives, and mark an
//! operation unknown when the client gave up: recorded intervals then contain
//! the real ones, so a reported violation is a real one.
//!
//! # Cost
//!
//! Deciding linearizability is NP-complete, and the search is exponential in
//! the worst case, in practice in how many operations overlap and how many
//! unknown-outcome ones are pending. Three things keep typical histories close
//! to linear: the memoization; trying completed operations before unknown ones
//! (most of which never took effect); and [`Model::may_step_later`], which
//! lets a branch die as soon as a pending or imminent operation becomes
//! impossible rather than when its response is reached.

mod log;
#[cfg(test)]
mod tests;

pub use log::{LogHistory, LogInput, LogModel, LogOutput, LogRecorder, LogState};

use std::collections::HashSet;
use std::fmt::{self, Debug, Write as _};
use std::hash::Hash;
use std::marker::PhantomData;

use std::sync::{Mutex, MutexGuard, PoisonError};

/// A sequential specification.
pub trait Model {
    /// The abstract state of the object; memoized, so it should be cheap to
    /// clone and hash.
    type State: Clone + Eq + Hash + Debug;
    /// What a client asked for.
    type Input: Clone + Debug;
    /// What a client was told.
    type Output: Clone + Debug;
    /// The state before any operation.
    fn init() -> Self::State;
    /// The state after applying `input` to `state`, if `output` is a possible
    /// result of doing so; `None` if it is not.
    fn step(state: &Self::State, input: &Self::Input, output: &Self::Output)
        -> Option<Self::State>;
    /// Every state `input` could lead to from `state` when its output was never
    /// seen. "Never took effect" is always considered by the checker, so an
    /// operation without side effects may return an empty list.
    fn step_unknown(state: &Self::State, input: &Self::Input) -> Vec<Self::State>;
    /// A pruning hint: `false` only if no state reachable from `state` by any
    /// sequence of steps accepts `input` with `output`. The checker uses it to
    /// abandon a branch as soon as some pending operation becomes impossible,
    /// instead of exploring every interleaving of the others first. Answering
    /// `true` is always sound.
    fn may_step_later(state: &Self::State, input: &Self::Input, output: &Self::Output) -> bool {
        let _ = (state, input, output);
        true
    }
}

/// Identifies an operation within its [`History`] (its index in [`History::ops`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(pub usize);

/// The observed completion of an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response<O> {
    /// When the response was received; same clock as [`Operation::invoke`].
    pub time: u64,
    /// What the operation returned.
    pub output: O,
}

/// One client operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<I, O> {
    /// The client that issued it; only used in reports.
    pub client: u64,
    /// What was asked.
    pub input: I,
    /// When it was invoked.
    pub invoke: u64,
    /// `None` if the outcome is unknown (error, timeout, or never completed).
    pub response: Option<Response<O>>,
}

/// A recorded history of operations against one object.
///
/// Timestamps are logical: [`History::invoke`] and [`History::ok`] each take the
/// next value of a counter owned by the history, so the order of those calls is
/// the real-time order. Call `invoke` before sending a request and `ok` after
/// its reply arrives; wider intervals only make the check more permissive,
/// never wrong. For concurrent recording use [`Recorder`].
pub struct History<M: Model> {
    ops: Vec<Operation<M::Input, M::Output>>,
    clock: u64,
    _model: PhantomData<fn() -> M>,
}

impl<M: Model> Clone for History<M> {
    fn clone(&self) -> Self {
        History {
            ops: self.ops.clone(),
            clock: self.clock,
            _model: PhantomData,
        }
    }
}

impl<M: Model> Debug for History<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.ops).finish()
    }
}

impl<M: Model> Default for History<M> {
    fn default() -> Self {
        History {
            ops: Vec::new(),
            clock: 0,
            _model: PhantomData,
        }
    }
}

impl<M: Model> History<M> {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn pending_mut(&mut self, id: OpId) -> &mut Operation<M::Input, M::Output> {
        let Some(op) = self.ops.get_mut(id.0) else {
            panic!("{id:?} is not an operation of this history");
        };
        assert!(op.response.is_none(), "{id:?} was already completed");
        op
    }

    /// Records that `client` invoked `input` now.
    pub fn invoke(&mut self, client: u64, input: M::Input) -> OpId {
        let invoke = self.tick();
        self.ops.push(Operation {
            client,
            input,
            invoke,
            response: None,
        });
        OpId(self.ops.len() - 1)
    }

    /// Records that operation `id` returned `output` now.
    ///
    /// # Panics
    /// If `id` is not pending in this history.
    pub fn ok(&mut self, id: OpId, output: M::Output) {
        let time = self.tick();
        self.pending_mut(id).response = Some(Response { time, output });
    }

    /// Records that the outcome of `id` is unknown. An operation never
    /// completed is treated the same way; this call documents intent and
    /// catches misuse. A late reply may still be recorded with [`History::ok`].
    ///
    /// # Panics
    /// If `id` is not pending in this history.
    pub fn unknown(&mut self, id: OpId) {
        self.pending_mut(id);
    }

    /// Appends an operation with caller-chosen timestamps (for example from a
    /// shared monotonic clock). Equal timestamps count as overlapping.
    ///
    /// # Panics
    /// If the response time precedes the invocation time.
    pub fn push(&mut self, op: Operation<M::Input, M::Output>) -> OpId {
        let last = op.response.as_ref().map_or(op.invoke, |r| r.time);
        assert!(last >= op.invoke, "operation responds before it is invoked");
        self.clock = self.clock.max(last);
        self.ops.push(op);
        OpId(self.ops.len() - 1)
    }

    /// All operations, indexed by [`OpId`].
    pub fn ops(&self) -> &[Operation<M::Input, M::Output>] {
        &self.ops
    }

    /// The number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether no operation was recorded.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// A [`History`] behind a mutex, so that many threads can record into it
/// through a shared reference. The lock orders the timestamps.
pub struct Recorder<M: Model> {
    history: Mutex<History<M>>,
}

impl<M: Model> Default for Recorder<M> {
    fn default() -> Self {
        Recorder {
            history: Mutex::new(History::new()),
        }
    }
}

impl<M: Model> Recorder<M> {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, History<M>> {
        // Each mutation is a single push or assignment, so a thread that
        // panicked while holding the lock cannot have left the history torn.
        self.history.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// See [`History::invoke`].
    pub fn invoke(&self, client: u64, input: M::Input) -> OpId {
        self.lock().invoke(client, input)
    }

    /// See [`History::ok`].
    pub fn ok(&self, id: OpId, output: M::Output) {
        self.lock().ok(id, output);
    }

    /// See [`History::unknown`].
    pub fn unknown(&self, id: OpId) {
        self.lock().unknown(id);
    }

    /// A copy of the history recorded so far.
    pub fn snapshot(&self) -> History<M> {
        self.lock().clone()
    }

    /// The recorded history.
    pub fn into_history(self) -> History<M> {
        self.history
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A witness that a history is linearizable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Linearization {
    /// Operations in the order they took effect, including unknown-outcome
    /// operations that were assumed to take effect.
    pub order: Vec<OpId>,
    /// Unknown-outcome operations assumed never to have taken effect.
    pub omitted: Vec<OpId>,
    /// Search steps used.
    pub steps: u64,
}

/// Why a history is not linearizable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// One of the longest orders of operations that the search could
    /// linearize (it is not unique in general).
    pub prefix: Vec<OpId>,
    /// The operation whose response was reached, after `prefix`, without it
    /// being possible to place it.
    pub stuck: OpId,
    /// Operations that were pending at that point and tried in vain (`stuck`
    /// among them).
    pub candidates: Vec<OpId>,
    /// A human-readable explanation naming the operations and the model state.
    pub report: String,
}

/// The checker could not show the history linearizable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckError {
    /// Every order was ruled out.
    NotLinearizable(Violation),
    /// The step budget ran out first; the history may or may not be
    /// linearizable.
    Inconclusive {
        /// The budget that was exhausted.
        budget: u64,
    },
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckError::NotLinearizable(v) => f.write_str(&v.report),
            CheckError::Inconclusive { budget } => write!(
                f,
                "inconclusive: the search budget of {budget} steps ran out before the history was fully checked"
            ),
        }
    }
}

impl std::error::Error for CheckError {}

/// The budget used by [`check`]. Spent in full it costs a few seconds and a few
/// hundred MB (each step may memoize one configuration); a history of 16,000
/// operations with 8 concurrent clients and 10% lost appends takes ~1.3M.
pub const DEFAULT_BUDGET: u64 = 10_000_000;

/// Checks `history` with [`DEFAULT_BUDGET`].
pub fn check<M: Model>(history: &History<M>) -> Result<Linearization, CheckError> {
    check_with_budget(history, DEFAULT_BUDGET)
}

/// Checks `history`, giving up with [`CheckError::Inconclusive`] after `budget`
/// search steps. A step tries one pending operation in one configuration, or
/// backtracks once.
pub fn check_with_budget<M: Model>(
    history: &History<M>,
    budget: u64,
) -> Result<Linearization, CheckError> {
    Search::<M>::new(&history.ops).run(budget)
}

// The search keeps two doubly linked lists over one node array, so that
// placing and un-placing an operation are O(1) unlink/relink steps. The main
// list holds the invocation and response events of completed operations in
// time order; the unknown list holds the invocations of unknown-outcome ones
// in invocation order, so that the many of them that never took effect, and
// stay pending forever, cost nothing while completed operations are tried.
// Operations are indexed by rank in invocation order, which keeps the low bits
// of the placed set dense for `compact_bits`.
const HEAD: usize = 0;
const TAIL: usize = 1;
const UNKNOWN_HEAD: usize = 2;
const UNKNOWN_TAIL: usize = 3;

fn call_node(rank: usize) -> usize {
    4 + 2 * rank
}

fn rank_of(node: usize) -> usize {
    (node - 4) / 2
}

fn is_response(node: usize) -> bool {
    node >= 4 && node % 2 == 1
}

// How many completed operations past the first unplaced response `doomed_by`
// also inspects: a wrong guess is usually exposed by an operation invoked soon
// after, and looking further would cost O(n) per step.
const LOOKAHEAD: usize = 32;

// Which candidates a configuration is trying. Completed operations go first:
// they must take effect anyway, and trying them first keeps unknown-outcome
// operations from being placed speculatively. Unknown ones invoked before the
// first unplaced response (`window_end`) are tried only when none fits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Completed,
    Unknown { window_end: u64 },
}

struct Frame<S> {
    rank: usize,
    prev_state: S,
    alt: usize,
    phase: Phase,
}

struct Stuck<S> {
    prefix: Vec<usize>,
    rank: usize,
    candidates: Vec<usize>,
    reasons: Vec<String>,
    state: S,
}

struct Search<'h, M: Model> {
    ops: &'h [Operation<M::Input, M::Output>],
    by_rank: Vec<usize>,
    next: Vec<usize>,
    prev: Vec<usize>,
}

impl<'h, M: Model> Search<'h, M> {
    fn new(ops: &'h [Operation<M::Input, M::Output>]) -> Self {
        let mut by_rank: Vec<usize> = (0..ops.len()).collect();
        by_rank.sort_by_key(|&i| (ops[i].invoke, i));
        // Calls sort before responses at equal times, so equal timestamps
        // count as overlapping.
        let (mut events, mut unknown) = (Vec::new(), vec![UNKNOWN_HEAD]);
        for (rank, &i) in by_rank.iter().enumerate() {
            match &ops[i].response {
                Some(r) => {
                    events.push((ops[i].invoke, 0u8, call_node(rank)));
                    events.push((r.time, 1u8, call_node(rank) + 1));
                }
                None => unknown.push(call_node(rank)),
            }
        }
        events.sort_unstable();
        let mut main = vec![HEAD];
        main.extend(events.iter().map(|&(_, _, node)| node));
        main.push(TAIL);
        unknown.push(UNKNOWN_TAIL);
        let size = 4 + 2 * ops.len();
        let (mut next, mut prev) = (vec![TAIL; size], vec![HEAD; size]);
        for list in [main, unknown] {
            for pair in list.windows(2) {
                next[pair[0]] = pair[1];
                prev[pair[1]] = pair[0];
            }
        }
        Search {
            ops,
            by_rank,
            next,
            prev,
        }
    }

    fn op(&self, rank: usize) -> &'h Operation<M::Input, M::Output> {
        &self.ops[self.by_rank[rank]]
    }

    fn unlink(&mut self, x: usize) {
        let (p, n) = (self.prev[x], self.next[x]);
        self.next[p] = n;
        self.prev[n] = p;
    }

    // Valid only in the reverse order of `unlink`s, which the DFS stack gives.
    fn relink(&mut self, x: usize) {
        let (p, n) = (self.prev[x], self.next[x]);
        self.next[p] = x;
        self.prev[n] = x;
    }

    fn lift(&mut self, rank: usize) {
        self.unlink(call_node(rank));
        if self.op(rank).response.is_some() {
            self.unlink(call_node(rank) + 1);
        }
    }

    fn unlift(&mut self, rank: usize) {
        if self.op(rank).response.is_some() {
            self.relink(call_node(rank) + 1);
        }
        self.relink(call_node(rank));
    }

    fn successor(&self, rank: usize, state: &M::State, alt: usize) -> Option<M::State> {
        let op = self.op(rank);
        match &op.response {
            Some(r) if alt == 0 => M::step(state, &op.input, &r.output),
            Some(_) => None,
            None => M::step_unknown(state, &op.input).into_iter().nth(alt),
        }
    }

    // A completed operation, other than `rank`, that is pending or invoked
    // soon after and can no longer take effect once `rank` leads to `state`.
    fn doomed_by(&self, rank: usize, state: &M::State) -> Option<usize> {
        let (mut node, mut beyond, mut past_window) = (self.next[HEAD], 0, false);
        while node != TAIL && beyond < LOOKAHEAD {
            past_window |= is_response(node);
            let other = rank_of(node);
            if !is_response(node) && other != rank {
                let (op, r) = (self.op(other), self.op(other).response.as_ref());
                if r.is_some_and(|r| !M::may_step_later(state, &op.input, &r.output)) {
                    return Some(other);
                }
                beyond += usize::from(past_window);
            }
            node = self.next[node];
        }
        None
    }

    fn run(mut self, budget: u64) -> Result<Linearization, CheckError> {
        let n = self.ops.len();
        let mut placed = Placed::new((0..n).map(|r| self.op(r).response.is_none()));
        let mut cache: HashSet<([CompactBits; 2], M::State)> = HashSet::new();
        let mut state = M::init();
        let mut stack: Vec<Frame<M::State>> = Vec::new();
        let mut deepest: Option<Stuck<M::State>> = None;
        let (mut entry, mut alt, mut phase) = (self.next[HEAD], 0, Phase::Completed);
        // Once every response is placed, the remaining unknown-outcome
        // operations can be taken never to have happened.
        let mut unplaced_responses = self.ops.iter().filter(|op| op.response.is_some()).count();
        let mut steps = 0u64;
        while unplaced_responses > 0 {
            if steps >= budget {
                return Err(CheckError::Inconclusive { budget });
            }
            steps += 1;
            match phase {
                Phase::Completed if is_response(entry) => {
                    if deepest
                        .as_ref()
                        .is_none_or(|d| stack.len() > d.prefix.len())
                    {
                        deepest = Some(self.stuck_at(entry, &stack, &state));
                    }
                    let window_end = self
                        .op(rank_of(entry))
                        .response
                        .as_ref()
                        .map_or(0, |r| r.time);
                    (entry, alt, phase) =
                        (self.next[UNKNOWN_HEAD], 0, Phase::Unknown { window_end });
                    continue;
                }
                Phase::Unknown { window_end }
                    if entry == UNKNOWN_TAIL || self.op(rank_of(entry)).invoke > window_end =>
                {
                    // Every candidate failed: undo the last choice.
                    let Some(frame) = stack.pop() else {
                        let stuck = deepest.expect("recorded when the response was reached");
                        return Err(CheckError::NotLinearizable(self.violation(stuck)));
                    };
                    placed.set(frame.rank, false);
                    state = frame.prev_state;
                    self.unlift(frame.rank);
                    unplaced_responses += usize::from(self.op(frame.rank).response.is_some());
                    (entry, alt, phase) = (call_node(frame.rank), frame.alt + 1, frame.phase);
                    continue;
                }
                _ => {}
            }
            debug_assert_ne!(entry, TAIL, "a response is always reached first");
            let rank = rank_of(entry);
            placed.set(rank, true);
            let mut lifted = false;
            while let Some(next_state) = self.successor(rank, &state, alt) {
                if self.doomed_by(rank, &next_state).is_none()
                    && cache.insert((placed.key(), next_state.clone()))
                {
                    let prev_state = std::mem::replace(&mut state, next_state);
                    stack.push(Frame {
                        rank,
                        prev_state,
                        alt,
                        phase,
                    });
                    self.lift(rank);
                    unplaced_responses -= usize::from(self.op(rank).response.is_some());
                    lifted = true;
                    break;
                }
                alt += 1;
            }
            if lifted {
                (entry, alt, phase) = (self.next[HEAD], 0, Phase::Completed);
            } else {
                placed.set(rank, false);
                (entry, alt) = (self.next[entry], 0);
            }
        }
        let order: Vec<OpId> = stack.iter().map(|f| OpId(self.by_rank[f.rank])).collect();
        let omitted = (0..n)
            .filter(|&r| !placed.get(r))
            .map(|r| OpId(self.by_rank[r]))
            .collect();
        Ok(Linearization {
            order,
            omitted,
            steps,
        })
    }

    fn stuck_at(
        &self,
        response: usize,
        stack: &[Frame<M::State>],
        state: &M::State,
    ) -> Stuck<M::State> {
        // Only calls precede the first response: the search advances past
        // calls it could not place.
        let mut candidates = Vec::new();
        let mut node = self.next[HEAD];
        while node != response {
            candidates.push(rank_of(node));
            node = self.next[node];
        }
        let window_end = self
            .op(rank_of(response))
            .response
            .as_ref()
            .map_or(0, |r| r.time);
        let mut node = self.next[UNKNOWN_HEAD];
        while node != UNKNOWN_TAIL && self.op(rank_of(node)).invoke <= window_end {
            candidates.push(rank_of(node));
            node = self.next[node];
        }
        let reasons = candidates
            .iter()
            .take(SHOWN)
            .map(|&r| self.reason(r, state))
            .collect();
        let prefix = stack.iter().map(|f| f.rank).collect();
        Stuck {
            prefix,
            rank: rank_of(response),
            candidates,
            reasons,
            state: state.clone(),
        }
    }

    fn reason(&self, rank: usize, state: &M::State) -> String {
        let nexts: Vec<M::State> = (0..)
            .map_while(|alt| self.successor(rank, state, alt))
            .collect();
        if nexts.is_empty() {
            return "the model rejects it in this state".to_string();
        }
        match nexts.iter().find_map(|s| self.doomed_by(rank, s)) {
            Some(other) => format!("it would leave {} impossible", self.describe(other)),
            None => "every way on from it was explored and failed".to_string(),
        }
    }

    fn describe(&self, rank: usize) -> String {
        let (id, op) = (self.by_rank[rank], self.op(rank));
        match &op.response {
            Some(r) => format!(
                "#{id} (client {}) {:?} -> {:?} during [{}, {}]",
                op.client, op.input, r.output, op.invoke, r.time
            ),
            None => format!(
                "#{id} (client {}) {:?} -> unknown, invoked at {}",
                op.client, op.input, op.invoke
            ),
        }
    }

    fn violation(&self, stuck: Stuck<M::State>) -> Violation {
        let mut report = format!(
            "not linearizable: {} cannot take effect.\nThe deepest partial linearization places {} of {} operations",
            self.describe(stuck.rank),
            stuck.prefix.len(),
            self.ops.len()
        );
        let tail = &stuck.prefix[stuck.prefix.len().saturating_sub(SHOWN)..];
        if !tail.is_empty() {
            report.push_str(", ending with:");
            for &r in tail {
                let _ = write!(report, "\n  {}", self.describe(r));
            }
        }
        let _ = write!(
            report,
            "\nand reaches state {:?}, where none of these can take effect next:",
            stuck.state
        );
        for (&r, why) in stuck.candidates.iter().zip(&stuck.reasons) {
            let _ = write!(report, "\n  {}: {why}", self.describe(r));
        }
        if stuck.candidates.len() > SHOWN {
            let _ = write!(
                report,
                "\n  ... and {} more",
                stuck.candidates.len() - SHOWN
            );
        }
        let ids = |ranks: &[usize]| ranks.iter().map(|&r| OpId(self.by_rank[r])).collect();
        Violation {
            prefix: ids(&stuck.prefix),
            stuck: OpId(self.by_rank[stuck.rank]),
            candidates: ids(&stuck.candidates),
            report,
        }
    }
}

// How many operations a report lists in each part.
const SHOWN: usize = 8;

// The set of placed operations, as two bitsets: completed operations, which
// in a long history are mostly a placed prefix, and unknown-outcome ones,
// which stay sparse because most of them never take effect. Keeping them
// apart lets each compact well in cache keys.
struct Placed {
    slot: Vec<(usize, usize)>,
    parts: [Vec<u64>; 2],
}

impl Placed {
    fn new(unknown_by_rank: impl Iterator<Item = bool>) -> Self {
        let mut counts = [0, 0];
        let slot: Vec<(usize, usize)> = unknown_by_rank
            .map(|unknown| {
                let part = usize::from(unknown);
                counts[part] += 1;
                (part, counts[part] - 1)
            })
            .collect();
        let parts = counts.map(|c| vec![0; c.div_ceil(64)]);
        Placed { slot, parts }
    }

    fn set(&mut self, rank: usize, on: bool) {
        let (part, i) = self.slot[rank];
        let (word, bit) = (&mut self.parts[part][i / 64], 1u64 << (i % 64));
        *word = if on { *word | bit } else { *word & !bit };
    }

    fn get(&self, rank: usize) -> bool {
        let (part, i) = self.slot[rank];
        self.parts[part][i / 64] & (1 << (i % 64)) != 0
    }

    fn key(&self) -> [CompactBits; 2] {
        [compact_bits(&self.parts[0]), compact_bits(&self.parts[1])]
    }
}

// A bitset without its all-ones prefix and all-zeros suffix. This is
// injective for a fixed length, so the cache stays exact, and for a mostly
// placed prefix it keeps keys small rather than O(n).
type CompactBits = (usize, Box<[u64]>);

fn compact_bits(bits: &[u64]) -> CompactBits {
    let lead = bits.iter().take_while(|&&w| w == u64::MAX).count();
    let end = bits
        .iter()
        .rposition(|&w| w != 0)
        .map_or(0, |i| i + 1)
        .max(lead);
    (lead, bits[lead..end].into())
}
