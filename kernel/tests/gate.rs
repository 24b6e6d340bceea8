//! Governance gate: fail-closed cases, predicate matching, recording and recheck.

mod common;

use common::*;
use std::collections::BTreeMap;
use weft_kernel::gate::{
    default_rules, recheck, resolution, Decision, Effect, Gate, RuleSet, RuleSpec, Severity,
};

fn dims() -> Vec<String> {
    ["risk", "security", "privacy", "novelty", "fairness"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn effect(pairs: &[(&str, f64)]) -> Effect {
    Effect(pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect())
}

fn with_production() -> RuleSet {
    let mut rules = default_rules();
    rules.push(RuleSpec {
        id: "risky-release-in-production".into(),
        action: "release.*".into(),
        when: vec!["risk > 0.3".into()],
        environments: vec!["production".into()],
        severity: Severity::Blocking,
        message: None,
    });
    RuleSet::new(
        dims(),
        0.8,
        BTreeMap::from([("production".to_string(), 0.6)]),
        rules,
    )
    .expect("valid")
}

#[test]
fn it_fails_closed() {
    let rules = RuleSet::default_set();
    for (what, e, env) in [
        ("empty", Effect::default(), None),
        ("NaN", effect(&[("risk", f64::NAN)]), None),
        ("infinite", effect(&[("risk", f64::INFINITY)]), None),
        ("above 1", effect(&[("risk", 1.5)]), None),
        ("negative", effect(&[("risk", -0.1)]), None),
        ("unknown dimension", effect(&[("blast", 0.1)]), None),
        (
            "unknown environment",
            effect(&[("risk", 0.1)]),
            Some("moon"),
        ),
    ] {
        let ev = rules.evaluate("deploy", env, &e);
        assert_eq!(ev.decision, Decision::Deny, "{what}");
        assert!(ev.fail_closed, "{what}");
    }
    for bad in [
        "",
        "risk",
        "risk=",
        "risk=abc",
        "risk=NaN",
        "risk=2",
        "risk=0.1,risk=0.2",
        "blast=0.1",
        "risk=inf",
    ] {
        assert!(Effect::parse(bad, &dims()).is_err(), "`{bad}` parsed");
    }
}

#[test]
fn default_rules_deny_above_threshold_and_warn_above_half() {
    let rules = RuleSet::default_set();
    let d = |pairs: &[(&str, f64)]| rules.evaluate("x", None, &effect(pairs)).decision;
    assert_eq!(d(&[("risk", 0.9), ("security", 0.2)]), Decision::Deny);
    assert_eq!(d(&[("risk", 0.5)]), Decision::Warn);
    assert_eq!(d(&[("risk", 0.3)]), Decision::Permit);
    // Magnitude is the Euclidean norm: 0.6 and 0.6 give 0.848 > 0.8.
    assert_eq!(d(&[("risk", 0.6), ("privacy", 0.6)]), Decision::Deny);
    assert!((effect(&[("risk", 0.6), ("privacy", 0.8)]).magnitude() - 1.0).abs() < 1e-12);
}

#[test]
fn predicates_match_action_environment_and_dimensions() {
    let rules = with_production();
    let e = effect(&[("risk", 0.4)]);
    assert_eq!(
        rules
            .evaluate("release.publish", Some("production"), &e)
            .decision,
        Decision::Defer
    );
    assert_eq!(
        rules
            .evaluate("deploy.canary", Some("production"), &e)
            .decision,
        Decision::Warn
    );
    assert_eq!(
        rules.evaluate("release.publish", None, &e).decision,
        Decision::Permit
    );
    // Production's stricter threshold: 0.35 warns (> 0.6 / 2) there, permits elsewhere.
    let e = effect(&[("security", 0.35)]);
    assert_eq!(
        rules.evaluate("x", Some("production"), &e).decision,
        Decision::Warn
    );
    assert_eq!(rules.evaluate("x", None, &e).decision, Decision::Permit);
    let ev = rules.evaluate("release.x", Some("production"), &effect(&[("risk", 0.7)]));
    assert_eq!(ev.decision, Decision::Deny);
    let ids: Vec<&str> = ev.matched.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "over-threshold",
            "over-half-threshold",
            "risky-release-in-production"
        ]
    );
}

#[test]
fn bad_rules_are_refused() {
    let bad = |when: &str| {
        RuleSet::new(
            dims(),
            0.8,
            BTreeMap::new(),
            vec![RuleSpec {
                id: "r".into(),
                action: "*".into(),
                when: vec![when.into()],
                environments: vec![],
                severity: Severity::Warning,
                message: None,
            }],
        )
    };
    for w in [
        "blast > 1",
        "risk >> 1",
        "risk > soon",
        "risk",
        "magnitude > threshold * x",
    ] {
        assert!(bad(w).is_err(), "{w}");
    }
    assert!(bad("risk >= 0.5").is_ok());
    assert!(bad("magnitude > 0.5 * threshold").is_ok());
}

#[test]
fn decisions_are_recorded_deferred_resolved_and_rechecked() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = new_chain(dir.path());
    let gate = Gate::new(&chain, with_production());
    let denied = gate
        .decide(
            "release.publish",
            None,
            &effect(&[("risk", 0.9), ("security", 0.2)]),
        )
        .expect("decide");
    assert_eq!(denied.evaluation.decision, Decision::Deny);
    let deferred = gate
        .decide(
            "release.publish",
            Some("production"),
            &effect(&[("risk", 0.35)]),
        )
        .expect("decide");
    assert_eq!(deferred.evaluation.decision, Decision::Defer);
    assert_eq!(
        gate.pending()
            .expect("pending")
            .iter()
            .map(|e| e.event.seq)
            .collect::<Vec<_>>(),
        vec![deferred.seq]
    );
    // The rule set is recorded once.
    let rules_events = chain
        .events(0)
        .filter(|e| e.as_ref().expect("event").event.kind == "gate.rules")
        .count();
    assert_eq!(rules_events, 1);
    assert!(
        gate.resolve(denied.seq, true, None, None).is_err(),
        "only pending decisions can be approved"
    );
    // An event that only looks like an approval resolves nothing: one naming the
    // decision by sequence but not by its hash (kinds `gate.*` need source `gate`).
    let lookalike = |hash: Vec<u8>| {
        let payload = weft_kernel::cbor::map([
            (
                "decision_seq",
                ciborium::Value::Integer(deferred.seq.into()),
            ),
            ("decision_hash", ciborium::Value::Bytes(hash)),
        ]);
        chain
            .append(weft_kernel::EventDraft::new("gate", "gate.approve", payload).expect("draft"))
            .expect("append");
    };
    lookalike(vec![0; 32]);
    assert!(resolution(&chain, deferred.seq)
        .expect("resolution")
        .is_none());
    assert_eq!(gate.pending().expect("pending").len(), 1);
    let approval = gate
        .resolve(deferred.seq, true, Some("looked fine"), Some("alice"))
        .expect("approve");
    assert_eq!(approval.event.kind, "gate.approve");
    let (approved, by) = resolution(&chain, deferred.seq)
        .expect("resolution")
        .expect("resolved");
    assert!(approved);
    assert_eq!(by.event.seq, approval.event.seq);
    assert!(
        resolution(&chain, denied.seq)
            .expect("resolution")
            .is_none(),
        "a decision that was not deferred is never resolved"
    );
    assert!(gate.pending().expect("pending").is_empty());
    for seq in [denied.seq, deferred.seq] {
        let r = recheck(&chain, seq).expect("recheck");
        assert!(r.agrees, "{r:?}");
    }
    // A gate with different rules later does not change what a past decision re-derives to.
    let lax = Gate::new(
        &chain,
        RuleSet::new(dims(), 5.0, BTreeMap::new(), default_rules()).expect("valid"),
    );
    let later = lax
        .decide("release.publish", None, &effect(&[("risk", 0.9)]))
        .expect("decide");
    assert_eq!(later.evaluation.decision, Decision::Permit);
    assert!(recheck(&chain, denied.seq).expect("recheck").agrees);
    assert_eq!(
        recheck(&chain, denied.seq)
            .expect("recheck")
            .rederived
            .decision,
        Decision::Deny
    );
    assert!(
        recheck(&chain, approval.event.seq).is_err(),
        "not a decision"
    );
    assert!(weft_kernel::verify::verify(&chain, &mut |_| {})
        .expect("verify")
        .ok());
}
