//! SOP 5 at the command line: which commands are SOP operations (each run recorded as
//! a `sop.run` event once it ends), and `weft stats`, which reads them back.

use crate::args::{AssessCommand, ClusterCommand, Command, CoordinateCommand, StatsArgs};
use crate::ctx::{input, Ctx};
use crate::exit;
use anyhow::Result;
use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use weft_node::sop::{self, Operation, Outcome};
use weft_node::ErrorClass;

/// SOP 1's operation. `weft init` records itself ([`crate::cmd::node::init`]) and only
/// when it changed something: a second run promises to change nothing, a record included.
pub const INIT: Operation = Operation {
    sop: 1,
    command: "init",
};

/// The SOP operation `command` is, if it is one (docs/sops.md), other than `init`.
/// `cluster join` is not recorded: the joining clone's chain is replaced by the
/// cluster's.
pub fn operation(command: &Command) -> Option<Operation> {
    let (sop, command) = match command {
        Command::Assess(args) => match &args.command {
            Some(AssessCommand::Init) => (2, "assess init"),
            Some(AssessCommand::Run(_)) | None => (4, "assess run"),
            Some(AssessCommand::Diff { .. }) => return None,
        },
        Command::Coordinate(CoordinateCommand::Impact(_)) => (3, "coordinate impact"),
        Command::Coordinate(CoordinateCommand::Release(_)) => (3, "coordinate release"),
        Command::Cluster(ClusterCommand::Init { .. }) => (6, "cluster init"),
        Command::Cluster(ClusterCommand::Leave) => (6, "cluster leave"),
        Command::Cluster(ClusterCommand::Remove { .. }) => (6, "cluster remove"),
        _ => return None,
    };
    Some(Operation { sop, command })
}

/// Records how a run of `operation` ended. A run refused as bad input (exit 2) is not
/// recorded: such a run changes nothing on disk. A run outside any node (a `weft init` that
/// failed before there was one) has nowhere to be recorded and is not; a record that
/// cannot be written is reported and does not change the command's exit code.
pub fn record(ctx: &Ctx, operation: Operation, took: Duration, result: &Result<u8>) {
    let (outcome, class) = match result {
        Ok(exit::OK) => (Outcome::Ok, None),
        Ok(exit::FAILED) => (Outcome::Refused, None),
        Ok(exit::DEFERRED) => (Outcome::Deferred, None),
        Ok(exit::USAGE) => (Outcome::Error, Some(ErrorClass::Input)),
        Ok(_) => (Outcome::Error, Some(ErrorClass::Operational)),
        Err(e) => (Outcome::Error, Some(error_class(e))),
    };
    // Bad usage or input changes nothing on disk, a record of the run included.
    if class == Some(ErrorClass::Input) {
        return;
    }
    if weft_node::Layout::discover(&ctx.dir).is_none() {
        return;
    }
    let recorded = ctx
        .node()
        .and_then(|node| Ok(sop::record(&node, operation, took, outcome, class)?));
    if let Err(e) = recorded {
        complain!(ctx; "note: this {} run was not recorded on the chain: {}", operation.command, crate::out::error_chain(&e));
    }
}

fn error_class(err: &anyhow::Error) -> ErrorClass {
    err.chain()
        .find_map(weft_node::classify)
        .unwrap_or(ErrorClass::Operational)
}

/// `weft stats`.
pub fn stats(ctx: &Ctx, args: StatsArgs) -> Result<u8> {
    let since_ns = match &args.since {
        Some(text) => since(text, SystemTime::now())?,
        None => 0,
    };
    let node = ctx.node()?;
    let (runs, unreadable) = sop::runs(&node, since_ns)?;
    let operations = sop::stats(&runs);
    if ctx.json {
        ctx.print_json(&json!({
            "since_ns": since_ns,
            "runs": runs.len(),
            "unreadable": unreadable,
            "operations": operations,
        }));
        return Ok(exit::OK);
    }
    if operations.is_empty() {
        say!(ctx; "no SOP run recorded{}", args.since.as_ref().map_or(String::new(), |s| format!(" since {s}")));
        return Ok(exit::OK);
    }
    say!(ctx;
        "{:<4} {:<20} {:>5} {:>9} {:>9} {:>8} {:>7}",
        "sop", "operation", "runs", "p50", "p95", "failing", "trend"
    );
    for op in &operations {
        let trend = op.trend.map_or("-".to_string(), |t| format!("×{t:.2}"));
        say!(ctx;
            "{:<4} {:<20} {:>5} {:>7}ms {:>7}ms {:>7.0}% {:>7}",
            op.sop,
            op.command,
            op.runs,
            op.p50_ms,
            op.p95_ms,
            op.failure_rate * 100.0,
            trend
        );
    }
    for op in &operations {
        for friction in &op.friction {
            say!(ctx);
            say!(ctx; "friction: {} ({}): {}", op.command, friction.kind, friction.evidence);
            say!(ctx; "  suggested: {}", friction.suggestion);
        }
    }
    if unreadable > 0 {
        complain!(ctx; "note: {unreadable} sop.run event(s) could not be read and are not counted");
    }
    Ok(exit::OK)
}

/// `--since` as nanoseconds since the Unix epoch: a date (midnight UTC), an RFC 3339
/// time, or an age before `now` (`7d`, `12h`, `30min`).
fn since(text: &str, now: SystemTime) -> Result<u64> {
    let to_ns = |secs: i64, nanos: u32| {
        u64::try_from(secs)
            .ok()
            .and_then(|s| s.checked_mul(1_000_000_000))
            .and_then(|ns| ns.checked_add(u64::from(nanos)))
            .ok_or_else(|| {
                input(format!(
                    "--since {text}: outside 1970-2554, the range of the chain's nanosecond timestamps"
                ))
            })
    };
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return to_ns(time.timestamp(), time.timestamp_subsec_nanos());
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let midnight = date.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
        return to_ns(midnight.unwrap_or(-1), 0);
    }
    let age = humantime::parse_duration(text).map_err(|_| {
        input(format!(
            "--since {text}: not a date (2026-11-01), an RFC 3339 time or an age (7d, 12h)"
        ))
    })?;
    let at = now
        .checked_sub(age)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .ok_or_else(|| input(format!("--since {text}: before 1970")))?;
    to_ns(at.as_secs() as i64, at.subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_reads_dates_times_and_ages() {
        let now = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        assert_eq!(
            since("2026-11-01", now).expect("a valid --since"),
            1_793_491_200_000_000_000
        );
        assert_eq!(
            since("2026-11-01T12:00:00+01:00", now).expect("a valid --since"),
            1_793_530_800_000_000_000
        );
        assert_eq!(
            since("7d", now).expect("a valid --since"),
            (1_790_000_000 - 7 * 86_400) * 1_000_000_000
        );
        assert_eq!(
            since("12h", now).expect("a valid --since"),
            (1_790_000_000 - 12 * 3_600) * 1_000_000_000
        );
        for bad in ["yesterday", "2026-13-01", "", "1969-12-31", "2999-01-01"] {
            assert!(since(bad, now).is_err(), "{bad}");
        }
    }
}
