//! The apply path: members applying the same log write the same bytes, whatever their
//! keys and however their entries are chunked; a retried request applies once; a refused
//! one leaves nothing; times come from the leader; tree commands plan against what the
//! entry staged.

mod common;

use futures::future::BoxFuture;
use openraft::entry::RaftEntry;
use openraft::storage::RaftStateMachine;
use openraft::testing::{log_id, membership_ent};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use weft_consensus::apply::DEDUPE_TTL_NS;
use weft_consensus::types::Appended;
use weft_consensus::{
    ChainFetcher, Command, Draft, Manifest, Proposal, Replies, Reply, Request, StateMachine,
    TypeConfig,
};
use weft_kernel::cbor;
use weft_kernel::store::cf;
use weft_kernel::txn::Signing;
use weft_kernel::Chain;

type Entry = openraft::alias::EntryOf<TypeConfig>;

/// Snapshots are not part of these tests.
struct NoFetch;

impl ChainFetcher for NoFetch {
    fn fetch<'a>(
        &'a self,
        _: u64,
        _: &'a Manifest,
    ) -> BoxFuture<'a, Result<weft_kernel::replica::Range, String>> {
        Box::pin(async { Err("not in this test".to_string()) })
    }
}

fn draft(source: &str, kind: &str, n: u64) -> Draft {
    let payload = cbor::map([("n", ciborium::value::Value::Integer(n.into()))]);
    Draft::new(source, kind, payload).expect("cbor")
}

fn request(client: u8, serial: u64, command: Command) -> Request {
    Request {
        client: [client; 16],
        serial,
        command,
    }
}

fn append(client: u8, serial: u64, n: u64) -> Request {
    request(
        client,
        serial,
        Command::Append(vec![draft("ci", "ci.run", n)]),
    )
}

fn normal(index: u64, time_ns: u64, requests: Vec<Request>) -> Entry {
    Entry::new_normal(
        log_id::<TypeConfig>(1, 1, index),
        Proposal { time_ns, requests },
    )
}

/// A log exercising every kind of entry and command.
fn log() -> Vec<Entry> {
    let meta: BTreeMap<String, String> = [("owner".to_string(), "ops".to_string())].into();
    vec![
        membership_ent::<TypeConfig>(1, 1, 1, vec![BTreeSet::from([1, 2, 3])]),
        Entry::new_blank(log_id::<TypeConfig>(1, 1, 2)),
        normal(3, 1_000, vec![append(1, 1, 1), append(2, 1, 2)]),
        normal(
            4,
            2_000,
            vec![
                request(
                    1,
                    2,
                    Command::TreeSet {
                        path: "/apps/web".into(),
                        kind: "service".into(),
                        meta: meta.clone(),
                    },
                ),
                request(
                    1,
                    3,
                    Command::TreeSet {
                        path: "/apps/web/db".into(),
                        kind: "store".into(),
                        meta,
                    },
                ),
            ],
        ),
        // A retry of (1, 1), a refused request, and one that applies after it.
        normal(
            5,
            3_000,
            vec![
                append(1, 1, 1),
                request(
                    3,
                    1,
                    Command::Append(vec![draft("ci", "ci.ok", 3), draft("tree", "tree.set", 4)]),
                ),
                append(3, 2, 5),
            ],
        ),
        normal(
            6,
            500,
            vec![request(
                1,
                4,
                Command::TreeRemove {
                    path: "/apps/web".into(),
                    recursive: true,
                },
            )],
        ),
        // A deferred gate decision (its rules recorded first, it queued as pending), and
        // its approval from another client: the gate family must match too.
        normal(
            7,
            4_000,
            vec![request(
                2,
                2,
                Command::GateDecide {
                    rules: deferring_rules(),
                    action: "deploy.prod".into(),
                    environment: None,
                    effect: vec![("risk".into(), 0.4)],
                },
            )],
        ),
        normal(
            8,
            5_000,
            vec![request(
                3,
                3,
                Command::GateResolve {
                    seq: DECISION_SEQ,
                    approve: true,
                    note: Some("fine".into()),
                    by: None,
                },
            )],
        ),
    ]
}

/// Where entry 7's decision lands (after its `gate.rules` event).
const DECISION_SEQ: u64 = 10;

/// A rule set that defers every deployment.
fn deferring_rules() -> Vec<u8> {
    use weft_kernel::gate::{RuleSet, RuleSpec, Severity};
    let rules = RuleSet::new(
        vec!["risk".into()],
        0.8,
        BTreeMap::new(),
        vec![RuleSpec {
            id: "deploys-wait".into(),
            action: "deploy.*".into(),
            when: vec!["risk >= 0.1".into()],
            environments: vec![],
            severity: Severity::Blocking,
            message: None,
        }],
    )
    .expect("rules");
    cbor::encode_canonical(rules.to_value()).expect("cbor")
}

async fn apply_all(chain: Arc<Chain>, entries: Vec<Entry>, chunked: bool) {
    let mut sm = StateMachine::new(chain, Arc::new(NoFetch));
    let items: Vec<_> = entries.into_iter().map(|e| Ok((e, None))).collect();
    if chunked {
        for item in items {
            sm.apply(futures::stream::iter([item]))
                .await
                .expect("apply");
        }
    } else {
        sm.apply(futures::stream::iter(items)).await.expect("apply");
    }
}

fn failures(chain: &Chain) -> Vec<String> {
    weft_kernel::verify::verify(chain, &mut |_| {})
        .expect("verify")
        .failures
        .into_iter()
        .map(|f| format!("{}: {}", f.seq, f.detail))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_applying_one_log_write_byte_identical_stores() {
    let (a, b) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let founder = common::founder(a.path(), 1);
    let member = common::member(&founder, b.path(), 2);
    apply_all(founder.clone(), log(), false).await;
    apply_all(member.clone(), log(), true).await;
    // The decision was deferred, then approved: nothing is left pending.
    let kinds: Vec<(u64, String)> = (0..founder.len())
        .map(|seq| (seq, founder.event(seq).expect("event").event.kind))
        .filter(|(_, kind)| kind.starts_with("gate."))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (DECISION_SEQ - 1, "gate.rules".to_string()),
            (DECISION_SEQ, "gate.decision".to_string()),
            (DECISION_SEQ + 1, "gate.approve".to_string()),
        ]
    );
    assert!(common::family(&founder, cf::GATE).is_empty());
    for family in [
        cf::EVENTS,
        cf::MERKLE,
        cf::TREE,
        cf::GATE,
        cf::INDEX,
        cf::RAFT,
    ] {
        assert_eq!(
            common::family(&founder, family),
            common::family(&member, family),
            "family {family} differs"
        );
    }
    // The founder may sign (its key is the genesis key); the other member may not: its
    // latest head is the one it copied with the bootstrap.
    assert_eq!(
        founder.latest_signed_head().map(|h| h.seq),
        Some(founder.len() - 1)
    );
    assert_eq!(member.latest_signed_head().map(|h| h.seq), Some(1));
    assert_eq!(failures(&founder), Vec::<String>::new());
    assert_eq!(failures(&member), Vec::<String>::new());
    // cluster.config, 2 appends, 2 tree sets, 1 append (the refused request left
    // nothing, the retry nothing new), 1 tree remove, the gate's rules, decision and
    // approval.
    let kinds: Vec<String> = founder
        .events(2)
        .map(|e| e.expect("event").event.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "cluster.config",
            "ci.run",
            "ci.run",
            "tree.set",
            "tree.set",
            "ci.run",
            "tree.remove",
            "gate.rules",
            "gate.decision",
            "gate.approve",
        ]
    );
    let replay = weft_kernel::tree::replay(&founder).expect("replay");
    assert!(
        replay.root_mismatches.is_empty(),
        "{:?}",
        replay.root_mismatches
    );
    assert!(weft_kernel::tree::Tree::new(&founder)
        .get("/apps/web")
        .expect("get")
        .is_none());
}

/// Applies `proposal` on `chain` in a transaction and returns the replies.
fn apply_one(chain: &Chain, proposal: &Proposal) -> Replies {
    let mut txn = chain.transaction(0);
    let replies = weft_consensus::apply::proposal(&mut txn, proposal).expect("apply");
    txn.commit(Signing::IfAuthorised).expect("commit");
    replies
}

#[test]
fn a_retried_request_is_applied_once_and_answered_alike() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = common::founder(dir.path(), 1);
    let first = apply_one(
        &chain,
        &Proposal {
            time_ns: 10,
            requests: vec![append(9, 7, 1)],
        },
    );
    let len = chain.len();
    let again = apply_one(
        &chain,
        &Proposal {
            time_ns: 20,
            requests: vec![append(9, 7, 1), append(9, 7, 1)],
        },
    );
    assert_eq!(chain.len(), len, "a retry adds nothing");
    assert_eq!(again.0, vec![first.0[0].clone(), first.0[0].clone()]);
    let Reply::Applied(events) = &first.0[0] else {
        panic!("{first:?}");
    };
    assert_eq!(
        events,
        &vec![Appended {
            seq: len - 1,
            hash: chain.event(len - 1).expect("event").hash.to_hex(),
        }]
    );
}

#[test]
fn a_refused_request_leaves_nothing_and_names_why() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = common::founder(dir.path(), 1);
    let replies = apply_one(
        &chain,
        &Proposal {
            time_ns: 10,
            requests: vec![
                request(
                    1,
                    1,
                    Command::Append(vec![draft("ci", "ci.ok", 1), draft("ci", "nope", 2)]),
                ),
                request(
                    1,
                    2,
                    Command::TreeRemove {
                        path: "/nowhere".into(),
                        recursive: false,
                    },
                ),
                append(1, 3, 3),
            ],
        },
    );
    assert!(
        matches!(&replies.0[0], Reply::Refused(why) if why.contains("nope")),
        "{replies:?}"
    );
    assert!(matches!(&replies.0[1], Reply::Refused(_)), "{replies:?}");
    assert!(
        matches!(&replies.0[2], Reply::Applied(e) if e[0].seq == 2),
        "{replies:?}"
    );
    assert_eq!(chain.len(), 3, "only the last request added an event");
    assert_eq!(failures(&chain), Vec::<String>::new());
}

#[test]
fn events_carry_the_leaders_time_never_going_back() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = common::founder(dir.path(), 1);
    let last = chain
        .event(chain.len() - 1)
        .expect("event")
        .event
        .timestamp_ns;
    let later = last + 1_000;
    apply_one(
        &chain,
        &Proposal {
            time_ns: later,
            requests: vec![append(1, 1, 1)],
        },
    );
    apply_one(
        &chain,
        &Proposal {
            time_ns: 5,
            requests: vec![append(1, 2, 2)],
        },
    );
    let times: Vec<u64> = chain
        .events(2)
        .map(|e| e.expect("e").event.timestamp_ns)
        .collect();
    assert_eq!(times, [later, later]);
}

#[test]
fn dedupe_entries_expire_after_their_window() {
    let dir = tempfile::tempdir().expect("tmp");
    let chain = common::founder(dir.path(), 1);
    let start = chain.event(0).expect("genesis").event.timestamp_ns;
    apply_one(
        &chain,
        &Proposal {
            time_ns: start,
            requests: vec![append(1, 1, 1)],
        },
    );
    let entries = |chain: &Chain| {
        common::family(chain, cf::RAFT)
            .into_iter()
            .filter(|(k, _)| k.starts_with(b"dedupe"))
            .count()
    };
    assert_eq!(entries(&chain), 2, "the reply and its expiry key");
    apply_one(
        &chain,
        &Proposal {
            time_ns: start + DEDUPE_TTL_NS,
            requests: vec![],
        },
    );
    assert_eq!(entries(&chain), 2, "not yet expired at exactly the window");
    apply_one(
        &chain,
        &Proposal {
            time_ns: start + DEDUPE_TTL_NS + 1,
            requests: vec![],
        },
    );
    assert_eq!(entries(&chain), 0);
}
