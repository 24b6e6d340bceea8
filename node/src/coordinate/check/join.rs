//! Joins a build check's outcome to a peer's static findings: each affected use is
//! `confirmed` when the build reported an error at its file and line, the errors at
//! lines the static model did not list are `unpredicted`, and the verified outcome
//! decides the severity in one direction: a peer that depends on the project and fails
//! to build (with errors it did not have against the upstream's base, when that was
//! built too) is breaking whatever static analysis said (with at least one breaking use,
//! so the release gate weighs it). A pass never lowers what static analysis found
//! breaking: the compiler proves a break, not the absence of one for features, targets
//! and platforms it did not build. What the text could not decide (`undetermined`) the
//! build decides: a peer that builds has no break from those changes.

use super::{CheckResult, Origin, Outcome};
use crate::coordinate::impact::{severity_of, PeerImpact, PeerState, Severity};
use crate::graph::api::Class;

/// Merges `result` into `peer`.
pub fn apply(peer: &mut PeerImpact, mut result: CheckResult) {
    // A peer that failed against the base already is blamed only for what is new.
    let failed = result.failed_by_change();
    let at = |file: &str, line: u32| {
        result.diagnostics.iter().any(|d| {
            d.origin == Origin::Peer && d.file.as_deref() == Some(file) && d.line == Some(line)
        })
    };
    if matches!(result.outcome, Outcome::Pass | Outcome::Fail) {
        for f in &mut peer.files {
            for u in &mut f.uses {
                u.confirmed = Some(failed && at(&f.path, u.line));
            }
            if failed && f.uses.iter().any(|u| u.confirmed == Some(true)) {
                f.severity = Severity::Breaking;
            }
        }
    }
    result.unpredicted = result
        .diagnostics
        .iter()
        .filter(|d| d.origin == Origin::Peer)
        .filter(|d| {
            let (Some(file), Some(line)) = (d.file.as_deref(), d.line) else {
                return true;
            };
            !peer
                .files
                .iter()
                .any(|f| f.path == file && f.uses.iter().any(|u| u.line == line))
        })
        .cloned()
        .collect();
    let depends = matches!(peer.state, PeerState::Affected);
    let built = matches!(result.outcome, Outcome::Pass | Outcome::Fail) && !failed;
    if built && depends {
        let before = peer.severity;
        if decide_undetermined(peer) {
            result.static_severity = Some(before);
        }
    }
    if failed && depends && peer.severity < Severity::Breaking {
        result.static_severity = Some(peer.severity);
        peer.severity = Severity::Breaking;
    }
    if failed && depends {
        let errors = result.diagnostics_total.max(1);
        peer.breaking_uses = peer.breaking_uses.max(errors);
        peer.score =
            f64::from(Severity::Breaking as u8) * 1000.0 + f64::from(peer.breaking_uses.min(999));
    }
    peer.check = Some(result);
}

/// The peer built: the uses of undetermined changes count as what they are, API that
/// changed and still compiles (additive). Whether that lowered the peer's severity.
fn decide_undetermined(peer: &mut PeerImpact) -> bool {
    let mut lowered = false;
    for f in &mut peer.files {
        if !f.uses.iter().any(|u| u.class == Class::Undetermined) {
            continue;
        }
        let now = f
            .uses
            .iter()
            .map(|u| match u.class {
                Class::Undetermined => Severity::Additive,
                class => severity_of(class),
            })
            .max()
            .unwrap_or(f.severity);
        if now < f.severity {
            f.severity = now;
            lowered = true;
        }
    }
    if !lowered {
        return false;
    }
    let now = peer
        .files
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Additive)
        .max(Severity::Additive);
    let changed = now < peer.severity;
    peer.severity = peer.severity.min(now);
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordinate::check::Diagnostic;
    use crate::coordinate::impact::{AffectedFile, AffectedUse};
    use crate::graph::api::{ChangeKind, Class};
    use crate::graph::usage::Via;

    fn peer(severity: Severity) -> PeerImpact {
        let mut p = crate::coordinate::impact::unreachable("app", "path", String::new());
        p.state = PeerState::Affected;
        p.severity = severity;
        p.files = vec![AffectedFile {
            path: "src/main.rs".into(),
            severity,
            symbols: Vec::new(),
            uses: vec![AffectedUse {
                line: 4,
                symbol: "Config".into(),
                via: Via::Type,
                change: ChangeKind::Body,
                class: Class::Additive,
                enclosing: None,
                text: "Config { a: 1 }".into(),
                evidence: "static".into(),
                confirmed: None,
            }],
            cochanged_after_releases: 0,
        }];
        p
    }

    fn result(outcome: Outcome, lines: &[u32]) -> CheckResult {
        let mut r = CheckResult::not_checked("up", "c0ffee", "");
        r.outcome = outcome;
        r.reason = None;
        r.diagnostics = lines
            .iter()
            .map(|&l| Diagnostic {
                file: Some("src/main.rs".into()),
                line: Some(l),
                column: Some(5),
                origin: Origin::Peer,
                code: Some("E0063".into()),
                message: "missing field".into(),
            })
            .collect();
        r.diagnostics_total = lines.len() as u32;
        r
    }

    #[test]
    fn a_failed_build_confirms_uses_and_makes_the_peer_breaking() {
        let mut p = peer(Severity::Additive);
        apply(&mut p, result(Outcome::Fail, &[4, 9]));
        assert_eq!(p.severity, Severity::Breaking);
        assert_eq!(p.files[0].uses[0].confirmed, Some(true));
        let check = p.check.as_ref().expect("check");
        assert_eq!(check.static_severity, Some(Severity::Additive));
        assert_eq!(check.unpredicted.len(), 1);
        assert_eq!(check.unpredicted[0].line, Some(9));
        assert_eq!(p.breaking_uses, 2);
    }

    #[test]
    fn a_build_decides_what_the_text_could_not() {
        let undetermined = |p: &mut PeerImpact| {
            p.files[0].uses[0].class = Class::Undetermined;
        };
        // It builds: the undetermined change broke nothing.
        let mut p = peer(Severity::Breaking);
        undetermined(&mut p);
        apply(&mut p, result(Outcome::Pass, &[]));
        assert_eq!(p.severity, Severity::Additive);
        assert_eq!(p.files[0].severity, Severity::Additive);
        let check = p.check.as_ref().expect("check");
        assert_eq!(check.static_severity, Some(Severity::Breaking));
        // It does not build at that use: confirmed breaking.
        let mut p = peer(Severity::Breaking);
        undetermined(&mut p);
        apply(&mut p, result(Outcome::Fail, &[4]));
        assert_eq!(p.severity, Severity::Breaking);
        assert_eq!(p.files[0].uses[0].confirmed, Some(true));
        // Not built: nothing decided.
        let mut p = peer(Severity::Breaking);
        undetermined(&mut p);
        apply(&mut p, result(Outcome::Timeout, &[]));
        assert_eq!(p.severity, Severity::Breaking);
    }

    #[test]
    fn a_pass_confirms_nothing_and_lowers_nothing() {
        let mut p = peer(Severity::Breaking);
        apply(&mut p, result(Outcome::Pass, &[]));
        assert_eq!(p.severity, Severity::Breaking);
        assert_eq!(p.files[0].uses[0].confirmed, Some(false));
        let mut p = peer(Severity::Additive);
        apply(&mut p, result(Outcome::NotChecked, &[]));
        assert_eq!(p.severity, Severity::Additive);
        assert_eq!(p.files[0].uses[0].confirmed, None);
    }
}
