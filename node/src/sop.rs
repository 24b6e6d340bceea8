//! SOP runs on the chain (SOP 5): every SOP operation (`weft init`, `assess init`,
//! `assess run`, `coordinate impact`/`release`, `cluster …`) appends one `sop.run` event
//! with its SOP, command, duration, outcome and error class, and [`stats`] reads them
//! back: per operation its count, duration percentiles, failure rate and trend, with the
//! friction worth a change to the SOP flagged and a change suggested. Deterministic: the
//! same chain gives the same figures and the same suggestions.

use crate::{ErrorClass, Node, NodeError};
use ciborium::value::Value;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;
use weft_kernel::{EventDraft, StoredEvent};

/// The chain event recording one SOP operation.
pub const SOP_RUN_EVENT: &str = "sop.run";

/// A p95 that grows by more than this factor from the window's first half to its second
/// is friction ("grew by more than half").
pub const SLOWER_FACTOR: f64 = 1.5;
/// Runs needed in each half of the window before a trend is computed.
pub const MIN_RUNS_PER_HALF: usize = 2;
/// An operation failing in more than this share of its runs is friction (1 in 10).
pub const FAILING_SHARE: f64 = 0.1;

/// One SOP operation: which SOP it belongs to and the command as users type it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The SOP's number in docs/sops.md.
    pub sop: u8,
    /// The command, without options (`assess run`).
    pub command: &'static str,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It did what it was asked.
    Ok,
    /// It ran and its quality gate said no (findings over the threshold, a breaking
    /// impact, a failed verification): the SOP working, not friction.
    Refused,
    /// It ran and the decision was left to a human.
    Deferred,
    /// It did not complete: the error class says why.
    Error,
}

impl Outcome {
    /// The outcome's name on the chain.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Refused => "refused",
            Outcome::Deferred => "deferred",
            Outcome::Error => "error",
        }
    }

    fn parse(name: &str) -> Option<Outcome> {
        [
            Outcome::Ok,
            Outcome::Refused,
            Outcome::Deferred,
            Outcome::Error,
        ]
        .into_iter()
        .find(|o| o.as_str() == name)
    }
}

/// An error class's name on the chain.
pub fn class_name(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::Verification => "verification",
        ErrorClass::Input => "input",
        ErrorClass::Operational => "operational",
    }
}

/// One recorded run, as read back from the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    /// The event's sequence.
    pub seq: u64,
    /// When it was recorded (its end), nanoseconds since the Unix epoch.
    pub at_ns: u64,
    /// The SOP.
    pub sop: u8,
    /// The command.
    pub command: String,
    /// How long it took, milliseconds.
    pub ms: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// With [`Outcome::Error`]: `input`, `operational` or `verification`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_class: Option<String>,
}

/// Appends the `sop.run` event of one run of `operation` on `node`.
pub fn record(
    node: &Node,
    operation: Operation,
    duration: Duration,
    outcome: Outcome,
    error: Option<ErrorClass>,
) -> Result<StoredEvent, NodeError> {
    let text = |s: &str| Value::Text(s.into());
    let ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    let mut fields = vec![
        (text("sop"), Value::Integer(operation.sop.into())),
        (text("command"), text(operation.command)),
        (text("ms"), Value::Integer(ms.into())),
        (text("outcome"), text(outcome.as_str())),
    ];
    if let Some(class) = error {
        fields.push((text("error_class"), text(class_name(class))));
    }
    let draft = EventDraft::new("sop", SOP_RUN_EVENT, Value::Map(fields))
        .map_err(|e| NodeError::Input(e.to_string()))?;
    node.append(draft)
}

/// The runs recorded on `node`'s chain at or after `since_ns`, oldest first, and how
/// many `sop.run` events could not be read as one (written by something else).
pub fn runs(node: &Node, since_ns: u64) -> Result<(Vec<Run>, usize), NodeError> {
    let mut runs = Vec::new();
    let mut unreadable = 0;
    for stored in node.chain().events(0) {
        let event = stored?.event;
        if event.kind != SOP_RUN_EVENT || event.timestamp_ns < since_ns {
            continue;
        }
        match decode(event.seq, event.timestamp_ns, &event.payload) {
            Some(run) => runs.push(run),
            None => unreadable += 1,
        }
    }
    Ok((runs, unreadable))
}

/// A `sop.run` payload as a [`Run`], or `None` when it is not one.
pub fn decode(seq: u64, at_ns: u64, payload: &Value) -> Option<Run> {
    let Value::Map(fields) = payload else {
        return None;
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.as_text() == Some(name))
            .map(|(_, v)| v)
    };
    let int = |name: &str| {
        field(name)
            .and_then(Value::as_integer)
            .and_then(|i| u64::try_from(i).ok())
    };
    let text = |name: &str| field(name).and_then(Value::as_text).map(str::to_string);
    Some(Run {
        seq,
        at_ns,
        sop: u8::try_from(int("sop")?).ok()?,
        command: text("command")?,
        ms: int("ms")?,
        outcome: Outcome::parse(field("outcome")?.as_text()?)?,
        error_class: text("error_class"),
    })
}

/// What one operation's runs add up to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperationStats {
    /// The SOP.
    pub sop: u8,
    /// The command.
    pub command: String,
    /// Runs in the window.
    pub runs: usize,
    /// Runs per outcome.
    pub outcomes: BTreeMap<Outcome, usize>,
    /// Median duration, milliseconds (nearest rank).
    pub p50_ms: u64,
    /// 95th percentile duration, milliseconds (nearest rank).
    pub p95_ms: u64,
    /// Share of runs that ended in an error.
    pub failure_rate: f64,
    /// The second half of the window's p50 over the first half's (above 1: slower),
    /// when each half has at least [`MIN_RUNS_PER_HALF`] runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trend: Option<f64>,
    /// The second half's p95 over the first half's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p95_trend: Option<f64>,
    /// What is worth changing, each with its evidence and a suggestion.
    pub friction: Vec<Friction>,
}

/// A step worth a change to its SOP.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Friction {
    /// `slower` or `failing`.
    pub kind: &'static str,
    /// The evidence, in figures.
    pub evidence: String,
    /// The change suggested, for a human to take or leave.
    pub suggestion: String,
}

/// Per operation (ordered by SOP, then command), the statistics of `runs` (oldest
/// first, as [`runs`] returns them).
pub fn stats(runs: &[Run]) -> Vec<OperationStats> {
    let mut by_operation: BTreeMap<(u8, &str), Vec<&Run>> = BTreeMap::new();
    for run in runs {
        by_operation
            .entry((run.sop, run.command.as_str()))
            .or_default()
            .push(run);
    }
    by_operation
        .into_iter()
        .map(|((sop, command), runs)| operation_stats(sop, command, &runs))
        .collect()
}

fn operation_stats(sop: u8, command: &str, runs: &[&Run]) -> OperationStats {
    let mut outcomes = BTreeMap::new();
    for run in runs {
        *outcomes.entry(run.outcome).or_insert(0) += 1;
    }
    let errors = outcomes.get(&Outcome::Error).copied().unwrap_or(0);
    let durations: Vec<u64> = runs.iter().map(|r| r.ms).collect();
    let (earlier, later) = durations.split_at(durations.len() / 2);
    let halves = (earlier.len() >= MIN_RUNS_PER_HALF && later.len() >= MIN_RUNS_PER_HALF)
        .then_some((earlier, later));
    let ratio = |p: f64| halves.map(|(a, b)| growth(percentile(a, p), percentile(b, p)));
    let failure_rate = errors as f64 / runs.len() as f64;
    let mut stats = OperationStats {
        sop,
        command: command.to_string(),
        runs: runs.len(),
        outcomes,
        p50_ms: percentile(&durations, 0.50),
        p95_ms: percentile(&durations, 0.95),
        failure_rate,
        trend: ratio(0.50),
        p95_trend: ratio(0.95),
        friction: Vec::new(),
    };
    if let (Some(factor), Some((a, b))) = (stats.p95_trend, halves) {
        if factor > SLOWER_FACTOR {
            stats.friction.push(Friction {
                kind: "slower",
                evidence: format!(
                    "p95 grew from {} ms to {} ms (×{factor:.2}) between the first {} and the last {} runs",
                    percentile(a, 0.95),
                    percentile(b, 0.95),
                    a.len(),
                    b.len()
                ),
                suggestion: slower_suggestion(command).to_string(),
            });
        }
    }
    if failure_rate > FAILING_SHARE {
        let class = most_common_class(runs);
        stats.friction.push(Friction {
            kind: "failing",
            evidence: format!(
                "{errors} of {} runs ended in an error (most often: {})",
                runs.len(),
                class.unwrap_or("unknown")
            ),
            suggestion: failing_suggestion(command, class).to_string(),
        });
    }
    stats
}

/// `later` over `earlier`, with a zero base counted as one millisecond.
fn growth(earlier: u64, later: u64) -> f64 {
    later as f64 / earlier.max(1) as f64
}

/// The nearest-rank percentile `p` (0 < p ≤ 1) of `values` (0 when there are none).
pub fn percentile(values: &[u64], p: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn most_common_class(runs: &[&Run]) -> Option<&'static str> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for run in runs {
        if let Some(class) = &run.error_class {
            *counts.entry(class.as_str()).or_insert(0) += 1;
        }
    }
    let (class, _) = counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))?;
    ["input", "operational", "verification"]
        .into_iter()
        .find(|known| *known == class)
}

fn slower_suggestion(command: &str) -> &'static str {
    match command {
        "assess init" => "the graph grows with the repository: exclude generated and vendored directories in weave.toml [analysis] exclude, and let hooks or `weft watch` keep the graph current instead of re-running SOP 2",
        "assess run" => "assess less per run: `--scope commit` in hooks and `--scope ci` in CI, keeping `--scope full` for the scheduled run",
        "coordinate impact" | "coordinate release" => "peers are slower to answer or check: give slow peers a `check_timeout`, or check `--check affected` rather than `all`",
        _ => "look at what this step waits on (`weft status`, disk, peers) and record the finding in docs/sops.md",
    }
}

fn failing_suggestion(command: &str, class: Option<&str>) -> &'static str {
    match (command, class) {
        (_, Some("input")) => "the step is often run before its preconditions hold or with options it refuses: state the preconditions in its SOP (docs/sops.md) and check them first",
        (_, Some("operational")) => "the environment fails under this step (I/O, a locked store, an unreachable peer): check the node with `weft status` and run the step where the daemon holds the store",
        ("coordinate impact" | "coordinate release", Some("verification")) => "a peer's chain or evidence does not verify: follow SOP 3's check of peers (`weft peers`) before releasing",
        _ => "read the errors of the failed runs (`weft chain log`) and amend the SOP step that leads to them",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seq: u64, command: &str, ms: u64, outcome: Outcome, class: Option<&str>) -> Run {
        Run {
            seq,
            at_ns: seq * 1_000,
            sop: 4,
            command: command.to_string(),
            ms,
            outcome,
            error_class: class.map(str::to_string),
        }
    }

    #[test]
    fn nearest_rank_percentiles_have_known_answers() {
        let values: Vec<u64> = (1..=20).collect();
        assert_eq!(percentile(&values, 0.50), 10);
        assert_eq!(percentile(&values, 0.95), 19);
        assert_eq!(percentile(&[7], 0.95), 7);
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[30, 10, 20], 0.5), 20);
    }

    #[test]
    fn a_step_whose_p95_grew_by_more_than_half_is_flagged_and_one_that_did_not_is_not() {
        let steady: Vec<Run> = (0..8)
            .map(|i| run(i, "assess run", 100 + i, Outcome::Ok, None))
            .collect();
        let stats = stats(&steady);
        assert_eq!(stats.len(), 1);
        assert!(stats[0].friction.is_empty(), "{:?}", stats[0].friction);
        assert!(stats[0].trend.is_some_and(|t| t > 1.0 && t < 1.1));

        let mut slowing = steady.clone();
        for r in slowing.iter_mut().skip(4) {
            r.ms = 160;
        }
        let stats = super::stats(&slowing);
        assert_eq!(stats[0].friction.len(), 1);
        assert_eq!(stats[0].friction[0].kind, "slower");
        assert!(stats[0].friction[0].evidence.contains("103 ms to 160 ms"));
        // Just under half again is not "more than half".
        for r in slowing.iter_mut().skip(4) {
            r.ms = 154;
        }
        assert!(super::stats(&slowing)[0].friction.is_empty());
    }

    #[test]
    fn failing_more_than_one_in_ten_is_flagged_with_the_most_common_error_class() {
        let mut runs: Vec<Run> = (0..10)
            .map(|i| run(i, "assess init", 50, Outcome::Ok, None))
            .collect();
        runs[3] = run(3, "assess init", 5, Outcome::Error, Some("input"));
        // One in ten is not more than one in ten; a refusal is not a failure.
        runs[4].outcome = Outcome::Refused;
        assert!(stats(&runs)[0].friction.is_empty());
        runs[5] = run(5, "assess init", 5, Outcome::Error, Some("operational"));
        runs[6] = run(6, "assess init", 5, Outcome::Error, Some("operational"));
        let stats = stats(&runs);
        let failing = &stats[0].friction[0];
        assert_eq!(failing.kind, "failing");
        assert_eq!(
            failing.evidence,
            "3 of 10 runs ended in an error (most often: operational)"
        );
        assert!(failing.suggestion.contains("weft status"));
        assert_eq!(stats[0].outcomes[&Outcome::Refused], 1);
        assert!((stats[0].failure_rate - 0.3).abs() < 1e-9);
    }

    #[test]
    fn operations_are_kept_apart_and_ordered_by_sop_then_command() {
        let mut runs = vec![
            run(0, "assess run", 10, Outcome::Ok, None),
            run(1, "assess init", 20, Outcome::Ok, None),
        ];
        runs[1].sop = 2;
        let stats = stats(&runs);
        let names: Vec<_> = stats.iter().map(|s| (s.sop, s.command.as_str())).collect();
        assert_eq!(names, [(2, "assess init"), (4, "assess run")]);
        assert!(stats[0].trend.is_none(), "one run has no trend");
    }

    /// `fields` as a map with the value of `key` replaced by `value`.
    fn replaced(fields: &[(Value, Value)], key: &str, value: Value) -> Value {
        let entry = |(k, v): &(Value, Value)| match k.as_text() == Some(key) {
            true => (k.clone(), value.clone()),
            false => (k.clone(), v.clone()),
        };
        Value::Map(fields.iter().map(entry).collect())
    }

    #[test]
    fn a_payload_that_is_not_a_run_is_not_read_as_one() {
        let text = |s: &str| Value::Text(s.into());
        let good = Value::Map(vec![
            (text("sop"), Value::Integer(2.into())),
            (text("command"), text("assess init")),
            (text("ms"), Value::Integer(1234.into())),
            (text("outcome"), text("error")),
            (text("error_class"), text("input")),
        ]);
        let read = decode(9, 99, &good).expect("a run");
        assert_eq!((read.sop, read.ms, read.outcome), (2, 1234, Outcome::Error));
        assert_eq!(read.error_class.as_deref(), Some("input"));
        let Value::Map(fields) = good else {
            unreachable!()
        };
        for broken in [
            Value::Text("run".into()),
            Value::Map(fields[1..].to_vec()),
            replaced(&fields, "outcome", text("great")),
            replaced(&fields, "sop", Value::Integer(300.into())),
        ] {
            assert_eq!(decode(9, 99, &broken), None, "{broken:?}");
        }
    }
}
