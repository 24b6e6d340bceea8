//! TRIGGER: scheduled work (SOP 4's scheduled trigger): `[assessment] schedule`, a cron expression
//! in UTC (`0 2 * * *`: daily at 02:00; a sixth, leading field gives seconds), runs a
//! full-scope assessment from the daemon.
//! The job is registered under `/kernel/cron/assessment` in the tree; each run is
//! written and chained like any other assessment.

use super::commit::assess_and_record;
use crate::engine::Node;
use crate::graph::assess::run::Quiet;
use crate::graph::assess::scope::ScopeRequest;
use crate::NodeError;
use chrono::{DateTime, Utc};
use croner::Cron;
use std::collections::BTreeMap;
use std::time::Duration;
use weft_kernel::tree::Tree;

/// Tree path of the scheduled assessment.
pub const CRON_PATH: &str = "/kernel/cron/assessment";

/// The first run strictly after `now`.
pub fn next_run(cron: &Cron, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&now, false).ok()
}

/// Registers (or updates, or removes) the job in the tree; no event when unchanged.
pub fn register(node: &Node) -> Result<(), NodeError> {
    let tree = Tree::new(node.chain());
    let schedule = &node.config().assessment.schedule;
    let current = tree.get(CRON_PATH)?;
    if schedule.is_empty() {
        if current.is_some() {
            node.tree_remove(CRON_PATH, false)?;
        }
        return Ok(());
    }
    let meta = BTreeMap::from([
        ("schedule".to_string(), schedule.as_str().to_string()),
        ("timezone".to_string(), "UTC".to_string()),
        ("action".to_string(), "assess --scope full".to_string()),
    ]);
    if current.is_none_or(|n| n.meta != meta) {
        node.tree_set(CRON_PATH, "cron", meta)?;
    }
    Ok(())
}

/// Runs the schedule until the runtime stops: sleeps to each occurrence, then assesses.
pub async fn run(node: std::sync::Arc<Node>) {
    let schedule = node.config().assessment.schedule.clone();
    // None: no schedule (the expression was checked when the configuration loaded).
    let Some(cron) = schedule.cron() else {
        return;
    };
    let expression = schedule.as_str();
    loop {
        let Some(next) = next_run(&cron, Utc::now()) else {
            tracing::warn!(%expression, "the schedule has no further occurrence");
            return;
        };
        let wait = (next - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tracing::info!(%next, "next scheduled assessment");
        tokio::time::sleep(wait).await;
        let node = node.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            assess_and_record(&node, &ScopeRequest::Full, &Quiet)
        })
        .await;
        match outcome {
            Ok(Ok(recorded)) => tracing::info!(
                seq = recorded.event.event.seq,
                findings = recorded.report.findings.len(),
                "scheduled assessment recorded"
            ),
            Ok(Err(e)) => tracing::warn!(error = %e, "scheduled assessment failed"),
            Err(e) => tracing::warn!(error = %e, "scheduled assessment panicked"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Schedule;
    use chrono::TimeZone;

    fn parse(expression: &str) -> Result<Cron, String> {
        Ok(Schedule::parse(expression)?.cron().expect("a schedule"))
    }

    #[test]
    fn daily_at_two_runs_next_at_two_utc() {
        let cron = parse("0 2 * * *").expect("valid");
        let now = Utc
            .with_ymd_and_hms(2026, 11, 23, 16, 0, 0)
            .single()
            .expect("time");
        assert_eq!(
            next_run(&cron, now),
            Utc.with_ymd_and_hms(2026, 11, 24, 2, 0, 0).single()
        );
        let at_two = Utc
            .with_ymd_and_hms(2026, 11, 24, 2, 0, 0)
            .single()
            .expect("time");
        assert_eq!(
            next_run(&cron, at_two),
            Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).single(),
            "strictly after"
        );
    }

    #[test]
    fn bad_expressions_are_refused_with_an_example() {
        for bad in ["daily", "61 * * * *", "* * * *"] {
            let err = parse(bad).expect_err(bad);
            assert!(err.contains("0 2 * * *"), "{err}");
        }
    }
}
