//! The governance gate: scores an action's effect vector against rules and permits,
//! warns, defers (queued for a human) or denies; every decision is a chain event.
//!
//! Fail closed: an empty effect, an unknown dimension, a value that is NaN or outside
//! [0, 1], or an unknown environment is a deny, never a permit. Each decision records
//! the effect, magnitude, threshold, matching rules and the hash of the rule set, and the
//! rule set itself is on the chain (`gate.rules`), so `recheck` re-derives any past
//! decision from the chain alone.

use crate::cbor::{self, read};
use crate::chain::{Chain, ChainError, StoredEvent};
use crate::event::{EventDraft, EventError};
use crate::hash::{domain_hash, domains, Hash};
use crate::store::{cf, seq_key, Store};
use ciborium::value::Value;
use rocksdb::{IteratorMode, WriteBatch};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Default effect dimensions.
pub const DEFAULT_DIMENSIONS: [&str; 5] = ["risk", "security", "privacy", "novelty", "fairness"];
/// Default magnitude threshold.
pub const DEFAULT_THRESHOLD: f64 = 0.8;

/// Gate errors.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The effect text does not parse.
    #[error("effect `{text}`: {detail}. Write it as name=value pairs in [0,1], e.g. risk=0.9,security=0.2")]
    Effect {
        /// Input.
        text: String,
        /// What is wrong.
        detail: String,
    },
    /// A rule is malformed.
    #[error("governance rule `{rule}`: {detail}")]
    Rule {
        /// Rule id.
        rule: String,
        /// What is wrong.
        detail: String,
    },
    /// No pending decision with that id.
    #[error("no pending decision {0}: see `weft gate pending`")]
    NotPending(u64),
    /// Recheck target is not a decision.
    #[error("event {0} is not a gate decision")]
    NotADecision(u64),
    /// The recorded rule set is gone or altered.
    #[error("decision {seq}: {detail}")]
    Recheck {
        /// Decision sequence.
        seq: u64,
        /// What is wrong.
        detail: String,
    },
    /// Chain failure.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// Event failure.
    #[error(transparent)]
    Event(#[from] EventError),
}

/// Rule severity; it fixes the decision a matching rule asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Recorded, permits.
    Informational,
    /// Warns.
    Warning,
    /// Defers to a human.
    Blocking,
    /// Denies.
    Critical,
}

impl Severity {
    /// Name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Warning => "warning",
            Severity::Blocking => "blocking",
            Severity::Critical => "critical",
        }
    }

    fn parse(s: &str) -> Option<Severity> {
        [
            Severity::Informational,
            Severity::Warning,
            Severity::Blocking,
            Severity::Critical,
        ]
        .into_iter()
        .find(|v| v.name() == s)
    }

    /// The decision a matching rule of this severity asks for.
    pub fn decision(self) -> Decision {
        match self {
            Severity::Informational => Decision::Permit,
            Severity::Warning => Decision::Warn,
            Severity::Blocking => Decision::Defer,
            Severity::Critical => Decision::Deny,
        }
    }
}

/// The gate's answer, from most to least permissive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Go ahead.
    Permit,
    /// Go ahead, with a warning.
    Warn,
    /// Wait for a human (`weft gate approve|reject`).
    Defer,
    /// Refused.
    Deny,
}

impl Decision {
    /// Name.
    pub fn name(self) -> &'static str {
        match self {
            Decision::Permit => "permit",
            Decision::Warn => "warn",
            Decision::Defer => "defer",
            Decision::Deny => "deny",
        }
    }

    fn parse(s: &str) -> Option<Decision> {
        [
            Decision::Permit,
            Decision::Warn,
            Decision::Defer,
            Decision::Deny,
        ]
        .into_iter()
        .find(|d| d.name() == s)
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An effect vector: dimension → value.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Effect(pub BTreeMap<String, f64>);

impl Effect {
    /// Parses `risk=0.9,security=0.2`, rejecting anything malformed, NaN, out of [0,1],
    /// repeated, or not a configured dimension.
    pub fn parse(text: &str, dimensions: &[String]) -> Result<Effect, GateError> {
        let err = |detail: String| GateError::Effect {
            text: text.to_string(),
            detail,
        };
        let mut values = BTreeMap::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| err(format!("`{part}` is not name=value")))?;
            let name = name.trim();
            if !dimensions.iter().any(|d| d == name) {
                return Err(err(format!(
                    "unknown dimension `{name}` (known: {})",
                    dimensions.join(", ")
                )));
            }
            let v: f64 = value
                .trim()
                .parse()
                .map_err(|_| err(format!("`{}` is not a number", value.trim())))?;
            if v.is_nan() {
                return Err(err(format!("{name}=NaN is not a number")));
            }
            if !(0.0..=1.0).contains(&v) {
                return Err(err(format!("{name}={v} is outside [0,1]")));
            }
            if values.insert(name.to_string(), v).is_some() {
                return Err(err(format!("`{name}` is given twice")));
            }
        }
        if values.is_empty() {
            return Err(err("no dimension given".into()));
        }
        Ok(Effect(values))
    }

    /// Euclidean norm.
    pub fn magnitude(&self) -> f64 {
        self.0.values().map(|v| v * v).sum::<f64>().sqrt()
    }

    fn from_value(v: &Value) -> Option<Effect> {
        let Value::Map(entries) = v else { return None };
        entries
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::Float(f) => *f,
                    Value::Integer(i) => i128::from(*i) as f64,
                    _ => return None,
                };
                Some((k.as_text()?.to_string(), value))
            })
            .collect::<Option<BTreeMap<_, _>>>()
            .map(Effect)
    }
}

/// A rule as written in `weave.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique id.
    pub id: String,
    /// Glob over action names (`release.*`, `*`).
    #[serde(default = "any_action")]
    pub action: String,
    /// Conditions, all of which must hold: `magnitude > threshold`, `risk >= 0.7`,
    /// `magnitude > threshold * 0.5`.
    #[serde(default)]
    pub when: Vec<String>,
    /// Environments it applies to (empty: all).
    #[serde(default)]
    pub environments: Vec<String>,
    /// Severity.
    pub severity: Severity,
    /// Why the rule exists, shown when it matches.
    #[serde(default)]
    pub message: Option<String>,
}

fn any_action() -> String {
    "*".into()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

#[derive(Clone, Debug, PartialEq)]
struct Condition {
    lhs: Option<String>, // None = magnitude
    op: Op,
    threshold_factor: Option<f64>,
    number: f64,
}

impl Condition {
    fn parse(text: &str, dimensions: &[String]) -> Result<Condition, String> {
        let ops = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            (">", Op::Gt),
            ("<", Op::Lt),
        ];
        let (idx, sym, op) = ops
            .iter()
            .filter_map(|(s, op)| text.find(s).map(|i| (i, *s, *op)))
            .min_by_key(|(i, s, _)| (*i, std::cmp::Reverse(s.len())))
            .ok_or_else(|| {
                format!("condition `{text}` has no comparison (>, >=, <, <=, ==, !=)")
            })?;
        let lhs = text[..idx].trim();
        let rhs = text[idx + sym.len()..].trim();
        let lhs = if lhs == "magnitude" {
            None
        } else if dimensions.iter().any(|d| d == lhs) {
            Some(lhs.to_string())
        } else {
            return Err(format!(
                "condition `{text}`: `{lhs}` is neither `magnitude` nor a dimension ({})",
                dimensions.join(", ")
            ));
        };
        let bad_rhs = || {
            format!(
                "condition `{text}`: right side must be a number, `threshold` or `threshold * N`"
            )
        };
        let (threshold_factor, number) = if rhs == "threshold" {
            (Some(1.0), 0.0)
        } else if let Some((a, b)) = rhs.split_once('*') {
            let (a, b) = (a.trim(), b.trim());
            let factor = if a == "threshold" {
                b
            } else if b == "threshold" {
                a
            } else {
                return Err(bad_rhs());
            };
            (Some(factor.parse::<f64>().map_err(|_| bad_rhs())?), 0.0)
        } else {
            (None, rhs.parse::<f64>().map_err(|_| bad_rhs())?)
        };
        if !number.is_finite() || threshold_factor.is_some_and(|f| !f.is_finite()) {
            return Err(bad_rhs());
        }
        Ok(Condition {
            lhs,
            op,
            threshold_factor,
            number,
        })
    }

    fn holds(&self, effect: &Effect, magnitude: f64, threshold: f64) -> bool {
        let left = match &self.lhs {
            None => magnitude,
            Some(d) => effect.0.get(d).copied().unwrap_or(0.0),
        };
        let right = self
            .threshold_factor
            .map(|f| f * threshold)
            .unwrap_or(self.number);
        match self.op {
            Op::Gt => left > right,
            Op::Ge => left >= right,
            Op::Lt => left < right,
            Op::Le => left <= right,
            Op::Eq => left == right,
            Op::Ne => left != right,
        }
    }
}

#[derive(Clone, Debug)]
struct Rule {
    spec: RuleSpec,
    glob: globset::GlobMatcher,
    conditions: Vec<Condition>,
}

/// A validated rule set: dimensions, thresholds and rules.
#[derive(Clone, Debug)]
pub struct RuleSet {
    dimensions: Vec<String>,
    threshold: f64,
    environments: BTreeMap<String, f64>,
    rules: Vec<Rule>,
}

/// The rules `weft init` writes: deny above the threshold, warn above half of it.
pub fn default_rules() -> Vec<RuleSpec> {
    vec![
        RuleSpec {
            id: "over-threshold".into(),
            action: "*".into(),
            when: vec!["magnitude > threshold".into()],
            environments: vec![],
            severity: Severity::Critical,
            message: Some("effect magnitude is above the threshold".into()),
        },
        RuleSpec {
            id: "over-half-threshold".into(),
            action: "*".into(),
            when: vec!["magnitude > threshold * 0.5".into()],
            environments: vec![],
            severity: Severity::Warning,
            message: Some("effect magnitude is above half the threshold".into()),
        },
    ]
}

impl RuleSet {
    /// Validates and compiles a rule set.
    pub fn new(
        dimensions: Vec<String>,
        threshold: f64,
        environments: BTreeMap<String, f64>,
        specs: Vec<RuleSpec>,
    ) -> Result<RuleSet, GateError> {
        let rule_err = |rule: &str, detail: String| GateError::Rule {
            rule: rule.to_string(),
            detail,
        };
        if dimensions.is_empty() {
            return Err(rule_err(
                "(dimensions)",
                "at least one dimension is needed".into(),
            ));
        }
        for (name, t) in std::iter::once(("(default)", &threshold))
            .chain(environments.iter().map(|(k, v)| (k.as_str(), v)))
        {
            if !t.is_finite() || *t <= 0.0 {
                return Err(rule_err(
                    "(thresholds)",
                    format!("threshold for {name} must be a positive number, got {t}"),
                ));
            }
        }
        let mut rules = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for spec in specs {
            if !seen.insert(spec.id.clone()) {
                return Err(rule_err(&spec.id, "id is used twice".into()));
            }
            let glob = globset::Glob::new(&spec.action)
                .map_err(|e| rule_err(&spec.id, format!("action pattern: {e}")))?
                .compile_matcher();
            let conditions = spec
                .when
                .iter()
                .map(|c| Condition::parse(c, &dimensions))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| rule_err(&spec.id, e))?;
            for env in &spec.environments {
                if !environments.contains_key(env) {
                    return Err(rule_err(
                        &spec.id,
                        format!(
                            "environment `{env}` is not configured under [governance.environments]"
                        ),
                    ));
                }
            }
            rules.push(Rule {
                spec,
                glob,
                conditions,
            });
        }
        Ok(RuleSet {
            dimensions,
            threshold,
            environments,
            rules,
        })
    }

    /// The default set.
    pub fn default_set() -> RuleSet {
        RuleSet::new(
            DEFAULT_DIMENSIONS.iter().map(|s| s.to_string()).collect(),
            DEFAULT_THRESHOLD,
            BTreeMap::new(),
            default_rules(),
        )
        .expect("the default rules are valid")
    }

    /// Configured dimensions.
    pub fn dimensions(&self) -> &[String] {
        &self.dimensions
    }

    /// The rule specs.
    pub fn specs(&self) -> impl Iterator<Item = &RuleSpec> {
        self.rules.iter().map(|r| &r.spec)
    }

    /// Threshold for an environment (None: unknown environment).
    pub fn threshold_for(&self, env: Option<&str>) -> Option<f64> {
        match env {
            None => Some(self.threshold),
            Some(e) => self.environments.get(e).copied(),
        }
    }

    /// Configured environment names.
    pub fn environments(&self) -> impl Iterator<Item = &String> {
        self.environments.keys()
    }

    /// Canonical CBOR value (recorded in `gate.rules` events).
    pub fn to_value(&self) -> Value {
        let rules = self
            .rules
            .iter()
            .map(|r| {
                let s = &r.spec;
                let mut m = vec![
                    ("id", Value::Text(s.id.clone())),
                    ("action", Value::Text(s.action.clone())),
                    (
                        "when",
                        Value::Array(s.when.iter().map(|w| Value::Text(w.clone())).collect()),
                    ),
                    (
                        "environments",
                        Value::Array(
                            s.environments
                                .iter()
                                .map(|w| Value::Text(w.clone()))
                                .collect(),
                        ),
                    ),
                    ("severity", Value::Text(s.severity.name().into())),
                ];
                if let Some(msg) = &s.message {
                    m.push(("message", Value::Text(msg.clone())));
                }
                Value::Map(
                    m.into_iter()
                        .map(|(k, v)| (Value::Text(k.into()), v))
                        .collect(),
                )
            })
            .collect();
        cbor::canonicalize(cbor::map([
            (
                "dimensions",
                Value::Array(
                    self.dimensions
                        .iter()
                        .map(|d| Value::Text(d.clone()))
                        .collect(),
                ),
            ),
            ("threshold", Value::Float(self.threshold)),
            (
                "environments",
                Value::Map(
                    self.environments
                        .iter()
                        .map(|(k, v)| (Value::Text(k.clone()), Value::Float(*v)))
                        .collect(),
                ),
            ),
            ("rules", Value::Array(rules)),
        ]))
        .expect("validated rule sets are finite")
    }

    /// Reads a recorded rule set back.
    pub fn from_value(v: &Value) -> Result<RuleSet, GateError> {
        let bad = |d: &str| GateError::Rule {
            rule: "(recorded)".into(),
            detail: d.to_string(),
        };
        let texts = |v: Option<&Value>| -> Option<Vec<String>> {
            match v {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| i.as_text().map(str::to_string))
                    .collect(),
                _ => None,
            }
        };
        let dimensions = texts(read::field(v, "dimensions")).ok_or_else(|| bad("no dimensions"))?;
        let threshold = read::number(v, "threshold").ok_or_else(|| bad("no threshold"))?;
        let mut environments = BTreeMap::new();
        if let Some(Value::Map(entries)) = read::field(v, "environments") {
            for (k, t) in entries {
                let t = match t {
                    Value::Float(f) => *f,
                    Value::Integer(i) => i128::from(*i) as f64,
                    _ => return Err(bad("bad environment threshold")),
                };
                environments.insert(
                    k.as_text()
                        .ok_or_else(|| bad("bad environment"))?
                        .to_string(),
                    t,
                );
            }
        }
        let Some(Value::Array(items)) = read::field(v, "rules") else {
            return Err(bad("no rules"));
        };
        let specs = items
            .iter()
            .map(|r| {
                Some(RuleSpec {
                    id: read::text(r, "id")?.to_string(),
                    action: read::text(r, "action")?.to_string(),
                    when: texts(read::field(r, "when"))?,
                    environments: texts(read::field(r, "environments"))?,
                    severity: Severity::parse(read::text(r, "severity")?)?,
                    message: read::text(r, "message").map(str::to_string),
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("malformed rule"))?;
        RuleSet::new(dimensions, threshold, environments, specs)
    }

    /// Hash of the canonical encoding.
    pub fn hash(&self) -> Hash {
        domain_hash(domains::RULE_SET, &[&cbor::encode(&self.to_value())])
    }

    /// Evaluates an action. Pure: the same inputs give the same evaluation.
    pub fn evaluate(&self, action: &str, env: Option<&str>, effect: &Effect) -> Evaluation {
        let fail = |reason: String, threshold: f64| Evaluation {
            decision: Decision::Deny,
            magnitude: None,
            threshold,
            matched: vec![],
            reasons: vec![reason],
            fail_closed: true,
        };
        let Some(threshold) = self.threshold_for(env) else {
            return fail(
                format!(
                    "environment `{}` is not configured",
                    env.unwrap_or_default()
                ),
                self.threshold,
            );
        };
        if effect.0.is_empty() {
            return fail("no effect was given".into(), threshold);
        }
        for (k, v) in &effect.0 {
            if !self.dimensions.contains(k) {
                return fail(format!("unknown dimension `{k}`"), threshold);
            }
            if !v.is_finite() || !(0.0..=1.0).contains(v) {
                return fail(format!("{k}={v} is not a number in [0,1]"), threshold);
            }
        }
        let magnitude = effect.magnitude();
        let mut matched = Vec::new();
        let mut reasons = Vec::new();
        let mut decision = Decision::Permit;
        for rule in &self.rules {
            let env_ok = rule.spec.environments.is_empty()
                || env.is_some_and(|e| rule.spec.environments.iter().any(|x| x == e));
            if !env_ok || !rule.glob.is_match(action) {
                continue;
            }
            if rule
                .conditions
                .iter()
                .all(|c| c.holds(effect, magnitude, threshold))
            {
                decision = decision.max(rule.spec.severity.decision());
                matched.push(MatchedRule {
                    id: rule.spec.id.clone(),
                    severity: rule.spec.severity,
                });
                reasons.push(
                    rule.spec
                        .message
                        .clone()
                        .unwrap_or_else(|| format!("rule {} matched", rule.spec.id)),
                );
            }
        }
        Evaluation {
            decision,
            magnitude: Some(magnitude),
            threshold,
            matched,
            reasons,
            fail_closed: false,
        }
    }
}

/// A rule that matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MatchedRule {
    /// Rule id.
    pub id: String,
    /// Its severity.
    pub severity: Severity,
}

/// The outcome of evaluating an action.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    /// The decision.
    pub decision: Decision,
    /// Euclidean norm of the effect (None when the effect was rejected).
    pub magnitude: Option<f64>,
    /// Threshold used.
    pub threshold: f64,
    /// Rules that matched.
    pub matched: Vec<MatchedRule>,
    /// Why.
    pub reasons: Vec<String>,
    /// True when the deny comes from failing closed on bad input.
    pub fail_closed: bool,
}

/// A recorded decision.
#[derive(Clone, Debug, Serialize)]
pub struct Recorded {
    /// Sequence of the `gate.decision` event (also the id for approve/reject).
    pub seq: u64,
    /// The evaluation.
    pub evaluation: Evaluation,
    /// Action.
    pub action: String,
    /// Environment.
    pub environment: Option<String>,
    /// Rule set hash.
    pub rules_hash: String,
}

/// The gate bound to a chain and a rule set.
pub struct Gate<'a> {
    chain: &'a Chain,
    rules: RuleSet,
}

const RULES_INDEX: &str = "rules/";

impl<'a> Gate<'a> {
    /// A gate over `chain` with `rules`.
    pub fn new(chain: &'a Chain, rules: RuleSet) -> Gate<'a> {
        Gate { chain, rules }
    }

    /// The rule set.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Records the rule set on the chain unless this exact set already is; returns its seq.
    fn ensure_rules_recorded(&self) -> Result<u64, GateError> {
        let key = rules_key(&self.rules);
        if let Some(seq) = self
            .chain
            .store()
            .get(cf::INDEX, key.as_bytes())
            .map_err(ChainError::from)?
            .and_then(|v| crate::store::key_seq(&v))
        {
            return Ok(seq);
        }
        let attach = Box::new(move |seq: u64, batch: &mut WriteBatch, store: &Store| {
            batch.put_cf(store.cf(cf::INDEX), key.as_bytes(), seq_key(seq));
        });
        Ok(self
            .chain
            .append_with(rules_draft(&self.rules)?, Some(attach))?
            .event
            .seq)
    }

    /// Evaluates and records a decision; a deferred one is queued.
    pub fn decide(
        &self,
        action: &str,
        env: Option<&str>,
        effect: &Effect,
    ) -> Result<Recorded, GateError> {
        let evaluation = self.rules.evaluate(action, env, effect);
        let rules_seq = self.ensure_rules_recorded()?;
        let draft = decision_draft(&self.rules, action, env, effect, &evaluation, rules_seq)?;
        let deferred = evaluation.decision == Decision::Defer;
        let attach: Option<crate::chain::Attach> = deferred.then(|| {
            Box::new(|seq: u64, batch: &mut WriteBatch, store: &Store| {
                batch.put_cf(store.cf(cf::GATE), seq_key(seq), b"pending");
            }) as crate::chain::Attach
        });
        let stored = self.chain.append_with(draft, attach)?;
        Ok(Recorded::new(
            &self.rules,
            stored.event.seq,
            evaluation,
            action,
            env,
        ))
    }

    /// Decisions waiting for a human, oldest first.
    pub fn pending(&self) -> Result<Vec<StoredEvent>, GateError> {
        let store = self.chain.store();
        let mut out = Vec::new();
        for item in store
            .db()
            .iterator_cf(store.cf(cf::GATE), IteratorMode::Start)
        {
            let (k, _) = item.map_err(|e| ChainError::Store(store.rocks(e)))?;
            if let Some(seq) = crate::store::key_seq(&k) {
                out.push(self.chain.event(seq)?);
            }
        }
        Ok(out)
    }

    /// Approves or rejects a pending decision; the resolution is a chain event.
    pub fn resolve(
        &self,
        seq: u64,
        approve: bool,
        note: Option<&str>,
        by: Option<&str>,
    ) -> Result<StoredEvent, GateError> {
        let store = self.chain.store();
        if store
            .get(cf::GATE, &seq_key(seq))
            .map_err(ChainError::from)?
            .is_none()
        {
            return Err(GateError::NotPending(seq));
        }
        let decision = self.chain.event(seq)?;
        let draft = resolution_draft(&decision, approve, note, by)?;
        let attach = Box::new(move |_: u64, batch: &mut WriteBatch, store: &Store| {
            batch.delete_cf(store.cf(cf::GATE), seq_key(seq));
        });
        Ok(self.chain.append_with(draft, Some(attach))?)
    }
}

/// [`Gate::decide`] inside a transaction, under `rules` as the proposer read them: the
/// cluster's state machine evaluates and records it from applied state.
pub fn decide_in(
    txn: &mut crate::txn::Txn<'_>,
    rules: &RuleSet,
    action: &str,
    env: Option<&str>,
    effect: &Effect,
) -> Result<Recorded, GateError> {
    let evaluation = rules.evaluate(action, env, effect);
    let key = rules_key(rules);
    let known = txn
        .get(cf::INDEX, key.as_bytes())?
        .and_then(|v| crate::store::key_seq(&v));
    let rules_seq = match known {
        Some(seq) => seq,
        None => {
            let seq = txn.append(rules_draft(rules)?)?.event.seq;
            txn.put(cf::INDEX, key.as_bytes(), seq_key(seq).to_vec());
            seq
        }
    };
    let draft = decision_draft(rules, action, env, effect, &evaluation, rules_seq)?;
    let seq = txn.append(draft)?.event.seq;
    if evaluation.decision == Decision::Defer {
        txn.put(cf::GATE, &seq_key(seq), b"pending".to_vec());
    }
    Ok(Recorded::new(rules, seq, evaluation, action, env))
}

/// [`Gate::resolve`] inside a transaction.
pub fn resolve_in(
    txn: &mut crate::txn::Txn<'_>,
    seq: u64,
    approve: bool,
    note: Option<&str>,
    by: Option<&str>,
) -> Result<StoredEvent, GateError> {
    if txn.get(cf::GATE, &seq_key(seq))?.is_none() {
        return Err(GateError::NotPending(seq));
    }
    let decision = txn.event(seq)?;
    let stored = txn.append(resolution_draft(&decision, approve, note, by)?)?;
    txn.delete(cf::GATE, &seq_key(seq));
    Ok(stored)
}

fn rules_key(rules: &RuleSet) -> String {
    format!("{RULES_INDEX}{}", rules.hash())
}

fn rules_draft(rules: &RuleSet) -> Result<EventDraft, GateError> {
    let payload = cbor::map([
        ("hash", Value::Bytes(rules.hash().0.to_vec())),
        ("rules", rules.to_value()),
    ]);
    Ok(EventDraft::new("gate", "gate.rules", payload)?)
}

impl Recorded {
    /// The record of decision `seq`: `evaluation` of `action` in `env` under `rules`.
    pub fn new(
        rules: &RuleSet,
        seq: u64,
        evaluation: Evaluation,
        action: &str,
        env: Option<&str>,
    ) -> Recorded {
        Recorded {
            seq,
            evaluation,
            action: action.into(),
            environment: env.map(str::to_string),
            rules_hash: rules.hash().to_hex(),
        }
    }
}

/// The `gate.decision` event of `evaluation`.
fn decision_draft(
    rules: &RuleSet,
    action: &str,
    env: Option<&str>,
    effect: &Effect,
    evaluation: &Evaluation,
    rules_seq: u64,
) -> Result<EventDraft, GateError> {
    let mut fields = vec![
        ("action", Value::Text(action.into())),
        ("effect", effect_value_lossy(effect)),
        ("threshold", Value::Float(evaluation.threshold)),
        ("decision", Value::Text(evaluation.decision.name().into())),
        (
            "matched",
            Value::Array(
                evaluation
                    .matched
                    .iter()
                    .map(|m| {
                        cbor::map([
                            ("id", Value::Text(m.id.clone())),
                            ("severity", Value::Text(m.severity.name().into())),
                        ])
                    })
                    .collect(),
            ),
        ),
        (
            "reasons",
            Value::Array(
                evaluation
                    .reasons
                    .iter()
                    .map(|r| Value::Text(r.clone()))
                    .collect(),
            ),
        ),
        ("rules_hash", Value::Bytes(rules.hash().0.to_vec())),
        ("rules_seq", Value::Integer(rules_seq.into())),
        ("fail_closed", Value::Bool(evaluation.fail_closed)),
    ];
    if let Some(m) = evaluation.magnitude {
        fields.push(("magnitude", Value::Float(m)));
    }
    if let Some(e) = env {
        fields.push(("environment", Value::Text(e.into())));
    }
    let payload = text_map(fields);
    Ok(EventDraft::new("gate", "gate.decision", payload)?)
}

/// A CBOR map of text keys, in the order given.
fn text_map(fields: Vec<(&str, Value)>) -> Value {
    Value::Map(
        fields
            .into_iter()
            .map(|(k, v)| (Value::Text(k.into()), v))
            .collect(),
    )
}

/// The `gate.approve` / `gate.reject` event resolving `decision`.
fn resolution_draft(
    decision: &StoredEvent,
    approve: bool,
    note: Option<&str>,
    by: Option<&str>,
) -> Result<EventDraft, GateError> {
    let mut fields = vec![
        ("decision_seq", Value::Integer(decision.event.seq.into())),
        ("decision_hash", Value::Bytes(decision.hash.0.to_vec())),
    ];
    if let Some(action) = read::text(&decision.event.payload, "action") {
        fields.push(("action", Value::Text(action.into())));
    }
    if let Some(n) = note {
        fields.push(("note", Value::Text(n.into())));
    }
    if let Some(b) = by {
        fields.push(("by", Value::Text(b.into())));
    }
    let payload = text_map(fields);
    let kind = if approve {
        "gate.approve"
    } else {
        "gate.reject"
    };
    Ok(EventDraft::new("gate", kind, payload)?)
}

fn effect_value_lossy(effect: &Effect) -> Value {
    // Non-finite values can't be encoded canonically; they are recorded as text so a
    // fail-closed deny still names what it refused.
    Value::Map(
        effect
            .0
            .iter()
            .map(|(k, v)| {
                (
                    Value::Text(k.clone()),
                    if v.is_finite() {
                        Value::Float(*v)
                    } else {
                        Value::Text(v.to_string())
                    },
                )
            })
            .collect(),
    )
}

/// How the deferred decision `seq` was resolved, from the chain alone: the first
/// `gate.approve` or `gate.reject` that the gate's own pending-queue transition wrote for
/// it (source `gate`, naming the decision by sequence and by hash), with the event.
/// Anything else that looks like one (another source, another hash, a decision that
/// was never deferred) resolves nothing.
pub fn resolution(chain: &Chain, seq: u64) -> Result<Option<(bool, StoredEvent)>, GateError> {
    let decision = chain.event(seq)?;
    let deferred = decision.event.source == "gate"
        && decision.event.kind == "gate.decision"
        && read::text(&decision.event.payload, "decision") == Some(Decision::Defer.name());
    if !deferred {
        return Ok(None);
    }
    for stored in chain.events(seq.saturating_add(1)) {
        let stored = stored?;
        let e = &stored.event;
        let approve = match e.kind.as_str() {
            "gate.approve" => true,
            "gate.reject" => false,
            _ => continue,
        };
        if e.source == "gate"
            && read::uint(&e.payload, "decision_seq") == Some(seq)
            && read::bytes(&e.payload, "decision_hash") == Some(&decision.hash.0[..])
        {
            return Ok(Some((approve, stored)));
        }
    }
    Ok(None)
}

/// A re-derived decision.
#[derive(Clone, Debug, Serialize)]
pub struct Recheck {
    /// The decision's sequence.
    pub seq: u64,
    /// Decision recorded on the chain.
    pub recorded: Decision,
    /// Decision re-derived from the recorded rule set and inputs.
    pub rederived: Evaluation,
    /// Whether decision, magnitude and matched rules all agree.
    pub agrees: bool,
    /// Rule set hash.
    pub rules_hash: String,
}

/// Re-derives decision `seq` from the chain alone.
pub fn recheck(chain: &Chain, seq: u64) -> Result<Recheck, GateError> {
    let stored = chain.event(seq)?;
    if stored.event.kind != "gate.decision" {
        return Err(GateError::NotADecision(seq));
    }
    let p = &stored.event.payload;
    let bad = |d: &str| GateError::Recheck {
        seq,
        detail: d.to_string(),
    };
    let rules_seq = read::uint(p, "rules_seq").ok_or_else(|| bad("no rules_seq"))?;
    let rules_hash = read::bytes(p, "rules_hash")
        .and_then(Hash::from_slice)
        .ok_or_else(|| bad("no rules_hash"))?;
    let rules_event = chain.event(rules_seq)?;
    if rules_event.event.kind != "gate.rules" || rules_seq >= seq {
        return Err(bad(&format!(
            "event {rules_seq} is not a rule set recorded before the decision"
        )));
    }
    let rules = RuleSet::from_value(
        read::field(&rules_event.event.payload, "rules")
            .ok_or_else(|| bad("rule set event has no rules"))?,
    )?;
    if rules.hash() != rules_hash {
        return Err(bad(&format!(
            "rule set at {rules_seq} hashes to {}, the decision names {rules_hash}",
            rules.hash()
        )));
    }
    let action = read::text(p, "action").ok_or_else(|| bad("no action"))?;
    let env = read::text(p, "environment");
    let effect = read::field(p, "effect")
        .and_then(Effect::from_value)
        .ok_or_else(|| bad("no effect"))?;
    let recorded = read::text(p, "decision")
        .and_then(Decision::parse)
        .ok_or_else(|| bad("no decision"))?;
    let recorded_matched: Vec<&str> = match read::field(p, "matched") {
        Some(Value::Array(items)) => items.iter().filter_map(|m| read::text(m, "id")).collect(),
        _ => vec![],
    };
    let rederived = rules.evaluate(action, env, &effect);
    let magnitude_agrees = match (rederived.magnitude, read::number(p, "magnitude")) {
        (Some(a), Some(b)) => a == b,
        (None, None) => true,
        _ => false,
    };
    let agrees = rederived.decision == recorded
        && magnitude_agrees
        && rederived
            .matched
            .iter()
            .map(|m| m.id.as_str())
            .eq(recorded_matched.iter().copied());
    Ok(Recheck {
        seq,
        recorded,
        rederived,
        agrees,
        rules_hash: rules_hash.to_hex(),
    })
}

/// Rebuilds the gate's derived state (pending decisions and the rule-set index) from the
/// chain's events, whenever events arrived without their derived writes: a cluster
/// member's snapshot install (range sync), a restore from an export file, a repair that
/// quarantined a stretch. Returns how many decisions are pending.
pub fn rebuild(chain: &Chain) -> Result<u64, GateError> {
    let store = chain.store();
    let mut pending = std::collections::BTreeSet::new();
    let mut rules = Vec::new();
    for item in chain.events(0) {
        let stored = item?;
        let e = &stored.event;
        if e.source != "gate" {
            continue;
        }
        match e.kind.as_str() {
            "gate.rules" => {
                if let Some(hash) = read::bytes(&e.payload, "hash").and_then(Hash::from_slice) {
                    rules.push((format!("{RULES_INDEX}{hash}"), e.seq));
                }
            }
            "gate.decision" if read::text(&e.payload, "decision") == Some("defer") => {
                pending.insert(e.seq);
            }
            "gate.approve" | "gate.reject" => {
                if let Some(seq) = read::uint(&e.payload, "decision_seq") {
                    pending.remove(&seq);
                }
            }
            _ => {}
        }
    }
    let mut batch = WriteBatch::default();
    let family = store.cf(cf::GATE);
    batch.delete_range_cf(family, seq_key(0), seq_key(u64::MAX));
    batch.delete_cf(family, seq_key(u64::MAX));
    for seq in &pending {
        batch.put_cf(family, seq_key(*seq), b"pending");
    }
    for (key, seq) in rules {
        batch.put_cf(store.cf(cf::INDEX), key.as_bytes(), seq_key(seq));
    }
    store.write_synced(batch).map_err(ChainError::from)?;
    Ok(pending.len() as u64)
}
