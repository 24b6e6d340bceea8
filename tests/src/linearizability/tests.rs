//! The checker's tests: known histories either way, generated ones against a
//! brute-force oracle, and the budget.

use super::*;
use proptest::prelude::*;
use std::hash::Hasher;
use LogInput::{Append, Read, ReadTail};
use LogOutput::{Seq, Tail, Values};

fn tail(len: u64, last: Option<u64>) -> LogOutput {
    Tail { len, last }
}

fn add(
    h: &mut LogHistory,
    client: u64,
    input: LogInput,
    invoke: u64,
    done: Option<(u64, LogOutput)>,
) -> OpId {
    let response = done.map(|(time, output)| Response { time, output });
    h.push(Operation {
        client,
        input,
        invoke,
        response,
    })
}

/// Replays a witness independently of the search: every completed
/// operation exactly once, real-time order respected, model accepts it.
fn verify<M: Model>(h: &History<M>, lin: &Linearization) {
    let mut seen = vec![0; h.len()];
    for id in lin.order.iter().chain(&lin.omitted) {
        seen[id.0] += 1;
    }
    assert!(
        seen.iter().all(|&c| c == 1),
        "every operation exactly once: {lin:?}"
    );
    assert!(
        lin.omitted
            .iter()
            .all(|id| h.ops()[id.0].response.is_none()),
        "omitted a completed op"
    );
    // A set of states, because an unknown outcome may branch.
    let (mut states, mut latest_invoke) = (vec![M::init()], 0);
    for id in &lin.order {
        let op = &h.ops()[id.0];
        let r = op.response.as_ref();
        assert!(
            r.is_none_or(|r| r.time >= latest_invoke),
            "an op before {id:?} follows it in real time"
        );
        latest_invoke = latest_invoke.max(op.invoke);
        states = states
            .iter()
            .flat_map(|s| match &op.response {
                Some(r) => M::step(s, &op.input, &r.output).into_iter().collect(),
                None => M::step_unknown(s, &op.input),
            })
            .collect();
        assert!(!states.is_empty(), "model rejects {id:?} in the witness");
    }
}

/// Exhaustive search over orders, as an oracle for small histories.
fn brute<M: Model>(h: &History<M>) -> bool {
    fn go<M: Model>(
        ops: &[Operation<M::Input, M::Output>],
        placed: &mut [bool],
        state: &M::State,
    ) -> bool {
        if ops
            .iter()
            .zip(placed.iter())
            .all(|(o, &p)| p || o.response.is_none())
        {
            return true;
        }
        for i in 0..ops.len() {
            let must_wait = |j: usize| {
                j != i
                    && !placed[j]
                    && ops[j]
                        .response
                        .as_ref()
                        .is_some_and(|r| r.time < ops[i].invoke)
            };
            if placed[i] || (0..ops.len()).any(must_wait) {
                continue;
            }
            let nexts = match &ops[i].response {
                Some(r) => M::step(state, &ops[i].input, &r.output)
                    .into_iter()
                    .collect(),
                None => M::step_unknown(state, &ops[i].input),
            };
            for s in nexts {
                placed[i] = true;
                let ok = go::<M>(ops, placed, &s);
                placed[i] = false;
                if ok {
                    return true;
                }
            }
        }
        false
    }
    go::<M>(h.ops(), &mut vec![false; h.len()], &M::init())
}

fn lin<M: Model>(h: &History<M>) -> Linearization {
    let l = check(h).unwrap_or_else(|e| panic!("expected linearizable: {e}"));
    verify(h, &l);
    l
}

fn violation<M: Model>(h: &History<M>) -> Violation {
    match check(h) {
        Err(CheckError::NotLinearizable(v)) => v,
        other => panic!("expected a violation, got {other:?}"),
    }
}

#[test]
fn empty_history_is_linearizable() {
    assert_eq!(lin(&LogHistory::new()).order, vec![]);
}

#[test]
fn sequential_history_is_linearizable_in_its_order() {
    let mut h = LogHistory::new();
    let a = h.invoke(1, Append(10));
    h.ok(a, Seq(0));
    let r = h.invoke(2, Read);
    h.ok(r, Values(vec![10]));
    let b = h.invoke(1, Append(11));
    h.ok(b, Seq(1));
    let t = h.invoke(2, ReadTail);
    h.ok(t, tail(2, Some(11)));
    assert_eq!(lin(&h).order, vec![a, r, b, t]);
}

#[test]
fn overlapping_appends_linearize_in_either_order() {
    for (sa, sb) in [(0, 1), (1, 0)] {
        let mut h = LogHistory::new();
        let a = add(&mut h, 1, Append(10), 1, Some((4, Seq(sa))));
        let b = add(&mut h, 2, Append(20), 2, Some((3, Seq(sb))));
        let mut log = vec![0; 2];
        log[sa as usize] = 10;
        log[sb as usize] = 20;
        add(&mut h, 3, Read, 5, Some((6, Values(log))));
        let expected = if sa == 0 { [a, b] } else { [b, a] };
        assert_eq!(lin(&h).order[..2], expected);
    }
}

#[test]
fn unknown_append_that_took_effect() {
    let mut h = LogHistory::new();
    let a = add(&mut h, 1, Append(10), 1, None);
    add(&mut h, 2, Read, 5, Some((6, Values(vec![10]))));
    let l = lin(&h);
    assert_eq!((l.order[0], l.omitted.len()), (a, 0));
}

#[test]
fn unknown_append_that_never_took_effect() {
    let mut h = LogHistory::new();
    let a = add(&mut h, 1, Append(10), 1, None);
    add(&mut h, 2, Append(20), 2, Some((3, Seq(0))));
    add(&mut h, 3, Read, 5, Some((6, Values(vec![20]))));
    assert_eq!(lin(&h).omitted, vec![a]);
}

#[test]
fn unknown_append_may_take_effect_long_after_the_client_gave_up() {
    let mut h = LogHistory::new();
    let a = h.invoke(1, Append(10));
    h.unknown(a);
    add(&mut h, 2, Read, 2, Some((3, Values(vec![]))));
    add(&mut h, 2, Append(20), 4, Some((5, Seq(0))));
    add(&mut h, 3, Read, 10, Some((11, Values(vec![20, 10]))));
    assert_eq!(lin(&h).order[2], a);
}

#[test]
fn read_concurrent_with_append_sees_either_state() {
    for seen in [vec![], vec![10]] {
        let mut h = LogHistory::new();
        add(&mut h, 1, Append(10), 1, Some((4, Seq(0))));
        add(&mut h, 2, Read, 2, Some((3, Values(seen))));
        lin(&h);
    }
}

#[test]
fn equal_timestamps_overlap() {
    let mut h = LogHistory::new();
    add(&mut h, 1, Append(10), 1, Some((2, Seq(0))));
    add(&mut h, 2, Read, 2, Some((3, Values(vec![]))));
    lin(&h);
}

#[test]
fn compact_bits_is_injective() {
    let words = [0, 1, u64::MAX];
    let mut keys = HashSet::new();
    for a in words {
        for b in words {
            for c in words {
                assert!(keys.insert(compact_bits(&[a, b, c])), "{a:x} {b:x} {c:x}");
            }
        }
    }
}

#[test]
fn unknown_read_constrains_nothing() {
    let mut h = LogHistory::new();
    add(&mut h, 1, Append(10), 1, Some((2, Seq(0))));
    let r = add(&mut h, 2, Read, 3, None);
    assert_eq!(lin(&h).omitted, vec![r]);
}

#[test]
fn unknown_append_can_fill_a_seq_gap() {
    let mut h = LogHistory::new();
    add(&mut h, 1, Append(10), 1, None);
    add(&mut h, 2, Append(20), 2, Some((3, Seq(1))));
    lin(&h);
}

#[test]
fn unknown_append_invoked_later_cannot_fill_an_earlier_gap() {
    for (invoke, ok) in [(3, false), (2, true)] {
        let mut h = LogHistory::new();
        add(&mut h, 1, Append(10), 1, Some((2, Seq(1))));
        add(&mut h, 2, Append(20), invoke, None);
        assert_eq!(check(&h).is_ok(), ok, "unknown invoked at {invoke}");
    }
}

#[test]
fn stale_read_after_acknowledged_append() {
    let mut h = LogHistory::new();
    let a = add(&mut h, 1, Append(10), 1, Some((2, Seq(0))));
    add(&mut h, 2, Read, 3, Some((4, Values(vec![]))));
    // The read is refuted as soon as the append must take effect.
    let v = violation(&h);
    assert_eq!((v.prefix, v.stuck, v.candidates), (vec![], a, vec![a]));
    let why = "it would leave #1 (client 2) Read -> Values([]) during [3, 4] impossible";
    assert!(v.report.contains(why), "{}", v.report);
    assert_eq!(check(&h).expect_err("stale").to_string(), v.report);
}

#[test]
fn two_appends_acknowledged_with_the_same_seq() {
    let mut h = LogHistory::new();
    add(&mut h, 1, Append(10), 1, Some((3, Seq(0))));
    add(&mut h, 2, Append(20), 2, Some((4, Seq(0))));
    violation(&h);
}

#[test]
fn seq_gap() {
    let mut h = LogHistory::new();
    add(&mut h, 1, Append(10), 1, Some((2, Seq(0))));
    add(&mut h, 1, Append(20), 3, Some((4, Seq(2))));
    violation(&h);
}

#[test]
fn read_shows_an_append_invoked_after_it_returned() {
    let mut h = LogHistory::new();
    add(&mut h, 1, Read, 1, Some((2, Values(vec![10]))));
    add(&mut h, 2, Append(10), 3, Some((4, Seq(0))));
    violation(&h);
}

#[test]
fn acknowledged_append_missing_from_a_later_read() {
    let mut h = LogHistory::new();
    add(&mut h, 1, Append(10), 1, Some((2, Seq(0))));
    add(&mut h, 2, Append(20), 3, Some((4, Seq(1))));
    add(&mut h, 3, Read, 5, Some((6, Values(vec![20]))));
    violation(&h);
}

#[test]
fn acknowledged_value_at_a_different_position_than_its_seq() {
    let mut h = LogHistory::new();
    add(&mut h, 1, Append(10), 1, Some((4, Seq(0))));
    add(&mut h, 2, Append(20), 2, Some((3, Seq(1))));
    add(&mut h, 3, Read, 5, Some((6, Values(vec![20, 10]))));
    violation(&h);
}

#[test]
fn wrong_tail_and_mismatched_output_kind_are_rejected() {
    let mut h = LogHistory::new();
    add(&mut h, 1, Append(10), 1, Some((2, Seq(0))));
    add(&mut h, 1, ReadTail, 3, Some((4, tail(1, Some(99)))));
    violation(&h);
    let mut h = LogHistory::new();
    add(&mut h, 1, Append(10), 1, Some((2, Values(vec![10]))));
    violation(&h);
}

#[test]
fn budget_exhaustion_is_inconclusive_never_ok() {
    // 40 appends that may each have taken effect, in any order, and a read
    // no subset explains, which only the full length can reveal: refuting
    // it means enumerating ~40! orders.
    let mut h = LogHistory::new();
    for i in 0..40 {
        add(&mut h, i, Append(i), i, None);
    }
    add(&mut h, 99, ReadTail, 100, Some((101, tail(41, Some(0)))));
    assert_eq!(
        check_with_budget(&h, 100_000),
        Err(CheckError::Inconclusive { budget: 100_000 })
    );

    let mut h = LogHistory::new();
    for i in 0..3 {
        add(&mut h, 1, Append(i), 2 * i, Some((2 * i + 1, Seq(i))));
    }
    let steps = lin(&h).steps;
    assert!(check_with_budget(&h, steps).is_ok());
    assert!(matches!(
        check_with_budget(&h, steps - 1),
        Err(CheckError::Inconclusive { .. })
    ));
}

#[test]
fn long_history_is_checked_without_deep_recursion() {
    let mut h = LogHistory::new();
    let mut log = Vec::new();
    for i in 0..20_000u64 {
        let a = h.invoke(i % 3, Append(i));
        let b = h.invoke(i % 3 + 3, Append(i + 100_000));
        h.ok(b, Seq(2 * i));
        h.ok(a, Seq(2 * i + 1));
        log.extend([i + 100_000, i]);
        if i % 1000 == 999 {
            let t = h.invoke(7, ReadTail);
            h.ok(t, tail(log.len() as u64, log.last().copied()));
        }
    }
    let r = h.invoke(8, Read);
    h.ok(r, Values(log));
    assert_eq!(lin(&h).order.len(), h.len());
}

#[test]
fn log_state_equality_is_structural() {
    let a = LogState::default().push(1).push(2);
    let b = LogState::default().push(1).push(2);
    let c = LogState::default().push(2).push(1);
    let hash = |s: &LogState| {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        s.hash(&mut hasher);
        hasher.finish()
    };
    assert!(a == b && hash(&a) == hash(&b) && a != c && a != a.push(3));
    assert!(a.matches(&[1, 2]) && !a.matches(&[1]) && !c.matches(&[1, 2]));
    assert_eq!((a.to_vec(), a.len(), a.last()), (vec![1, 2], 2, Some(2)));
    let read = |v: &[u64]| LogModel::step(&a, &Read, &Values(v.to_vec())).is_some();
    assert!(read(&[1, 2]) && !read(&[2]) && !read(&[1, 2, 3]) && !read(&[2, 1]));
    let later = |i: LogInput, o: LogOutput| LogModel::may_step_later(&a, &i, &o);
    assert!(later(Read, Values(vec![1, 2, 3])) && !later(Read, Values(vec![1, 3, 3])));
    assert!(later(Append(5), Seq(2)) && later(Append(5), Seq(9)) && !later(Append(5), Seq(1)));
    assert!(later(ReadTail, tail(2, Some(2))) && !later(ReadTail, tail(2, Some(1))));
    assert!(later(ReadTail, tail(3, Some(1))) && !later(ReadTail, tail(1, Some(1))));
    let long = (0..20).fold(LogState::default(), |s, v| s.push(v));
    assert_eq!(
        format!("{long:?}"),
        "[(4 older values) [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]] (len 20)"
    );
}

#[test]
#[should_panic(expected = "already completed")]
fn completing_twice_panics() {
    let mut h = LogHistory::new();
    let a = h.invoke(1, Read);
    h.ok(a, Values(vec![]));
    h.ok(a, Values(vec![]));
}

/// Records concurrent clients of an in-memory log; `stale` makes each read
/// omit the client's own last acknowledged append.
fn record_threads(stale: bool) -> LogHistory {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<LogRecorder>();
    let (rec, service) = (LogRecorder::new(), Mutex::new(Vec::<u64>::new()));
    std::thread::scope(|s| {
        for c in 0..4u64 {
            let (rec, service) = (&rec, &service);
            s.spawn(move || {
                let mut mine = None;
                for i in 0..250u64 {
                    let v = c * 1000 + i;
                    let id = rec.invoke(c, if i % 5 == 0 { Read } else { Append(v) });
                    let mut log = service.lock().expect("service lock");
                    match i % 5 {
                        0 => {
                            let seen = log
                                .iter()
                                .copied()
                                .filter(|&x| !stale || Some(x) != mine)
                                .collect();
                            drop(log);
                            rec.ok(id, Values(seen));
                        }
                        // Timed out after, or before, reaching the log.
                        1 => {
                            log.push(v);
                            drop(log);
                            rec.unknown(id);
                        }
                        2 => rec.unknown(id),
                        _ => {
                            log.push(v);
                            let seq = log.len() as u64 - 1;
                            drop(log);
                            mine = Some(v);
                            rec.ok(id, Seq(seq));
                        }
                    }
                }
            });
        }
    });
    assert_eq!(rec.snapshot().len(), 1000);
    rec.into_history()
}

#[test]
fn recorder_history_of_a_correct_log_is_linearizable() {
    lin(&record_threads(false));
}

#[test]
fn recorder_history_with_stale_reads_is_rejected() {
    violation(&record_threads(true));
}

/// A counter whose unacknowledged `Some(k)` (add k) may have been applied
/// once or twice, e.g. by a retry; `None` reads.
struct Retried;

impl Model for Retried {
    type State = u64;
    type Input = Option<u64>;
    type Output = u64;
    fn init() -> u64 {
        0
    }
    fn step(s: &u64, input: &Option<u64>, out: &u64) -> Option<u64> {
        match input {
            Some(k) => Some(s + k),
            None => (out == s).then_some(*s),
        }
    }
    fn step_unknown(s: &u64, input: &Option<u64>) -> Vec<u64> {
        input.map_or(vec![], |k| vec![s + k, s + 2 * k])
    }
}

/// (input, invoke time, (response time, output) if completed)
type RetriedOp = (Option<u64>, u64, Option<(u64, u64)>);

fn retried(ops: &[RetriedOp]) -> History<Retried> {
    let mut h = History::new();
    for &(input, invoke, done) in ops {
        let response = done.map(|(time, output)| Response { time, output });
        h.push(Operation {
            client: 0,
            input,
            invoke,
            response,
        });
    }
    h
}

#[test]
fn nondeterministic_unknown_outcomes_try_every_successor() {
    for read in [0, 1, 2] {
        lin(&retried(&[(Some(1), 1, None), (None, 5, Some((6, read)))]));
    }
    violation(&retried(&[(Some(1), 1, None), (None, 5, Some((6, 3)))]));
    let both = [
        (Some(1), 1, None),
        (Some(2), 2, None),
        (None, 5, Some((6, 5))),
    ];
    lin(&retried(&both));
    // The older unknown add is tried first, in both ways, and must be
    // dropped again.
    let skip = [
        (Some(1), 1, None),
        (Some(5), 2, None),
        (None, 3, Some((4, 5))),
    ];
    assert_eq!(lin(&retried(&skip)).omitted, vec![OpId(0)]);
}

#[derive(Clone, Debug)]
struct Step {
    kind: u8,
    before: u64,
    after: u64,
    unknown: bool,
    took_effect: bool,
    corrupt: Option<(u64, Vec<u64>)>,
}

fn steps(len: std::ops::Range<usize>, corrupt: u8) -> impl Strategy<Value = Vec<Step>> {
    let corruption = (0u8..100, 0u64..4, prop::collection::vec(0u64..7, 0..3));
    let step = (
        0u8..4,
        0u64..300,
        0u64..300,
        0u8..100,
        any::<bool>(),
        corruption,
    );
    let step = step.prop_map(
        move |(kind, before, after, unknown, took_effect, (roll, seq, v))| Step {
            kind,
            before,
            after,
            unknown: unknown < 15,
            took_effect,
            corrupt: (roll < corrupt).then_some((seq, v)),
        },
    );
    prop::collection::vec(step, len)
}

/// Runs `steps` against a real log, each taking effect at a distinct point
/// inside its interval, so the uncorrupted history is linearizable.
fn realize(steps: &[Step]) -> LogHistory {
    let (mut h, mut log) = (LogHistory::new(), Vec::new());
    for (i, s) in steps.iter().enumerate() {
        let point = 1000 + 100 * i as u64;
        let (input, output) = match s.kind {
            0 | 1 => {
                if !s.unknown || s.took_effect {
                    log.push(i as u64);
                }
                (Append(i as u64), Seq((log.len() as u64).saturating_sub(1)))
            }
            2 => (Read, Values(log.clone())),
            _ => (ReadTail, tail(log.len() as u64, log.last().copied())),
        };
        let output = match (&s.corrupt, &input) {
            (None, _) => output,
            (Some((seq, _)), Append(_)) => Seq(*seq),
            (Some((_, v)), Read) => Values(v.clone()),
            (Some((_, v)), _) => tail(v.len() as u64, v.last().copied()),
        };
        let response = (!s.unknown).then(|| Response {
            time: point + s.after,
            output,
        });
        h.push(Operation {
            client: i as u64 % 5,
            input,
            invoke: point - s.before,
            response,
        });
    }
    h
}

/// Mutations of a realized history that are non-linearizable by
/// construction (values are unique, so each has one possible position).
fn mutations(h: &LogHistory) -> Vec<LogHistory> {
    let ops = h.ops();
    let done = |i: usize| ops[i].response.as_ref().map(|r| (r.time, &r.output));
    let reads: Vec<(usize, &Vec<u64>)> = (0..ops.len())
        .filter_map(|i| match done(i) {
            Some((_, Values(v))) => Some((i, v)),
            _ => None,
        })
        .collect();
    let acked: Vec<(usize, u64, u64)> = (0..ops.len())
        .filter_map(|i| match (&ops[i].input, done(i)) {
            (Append(v), Some((_, Seq(s)))) => Some((i, *v, *s)),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    let mut mutate = |i: usize, output: LogOutput| {
        let mut m = h.clone();
        m.ops[i]
            .response
            .as_mut()
            .expect("mutating a completed op")
            .output = output;
        out.push(m);
    };
    for &(r, log) in &reads {
        // A value nobody appended.
        let mut v = log.clone();
        v.insert(log.len() / 2, 1_000_000);
        mutate(r, Values(v));
        for &(a, value, seq) in &acked {
            if log.contains(&value) {
                mutate(a, Seq(seq + 1));
            }
            if done(a).is_some_and(|(t, _)| t < ops[r].invoke) {
                assert!(log.contains(&value));
                mutate(
                    r,
                    Values(log.iter().copied().filter(|&x| x != value).collect()),
                );
            }
        }
    }
    for (k, &(_, _, seq)) in acked.iter().enumerate() {
        for &(b, _, _) in &acked[k + 1..] {
            mutate(b, Seq(seq));
        }
    }
    out
}

/// The checker's verdict, checked against the exhaustive oracle.
fn agrees<M: Model>(h: &History<M>) -> Result<(), TestCaseError> {
    match check(h) {
        Ok(l) => {
            verify(h, &l);
            prop_assert!(brute(h), "accepted a non-linearizable history");
        }
        Err(CheckError::NotLinearizable(_)) => {
            prop_assert!(!brute(h), "rejected a linearizable history")
        }
        Err(e) => prop_assert!(false, "{}", e),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sequential_executions_are_accepted(steps in steps(1..40, 0)) {
        let h = realize(&steps);
        let l = check(&h).map_err(|e| TestCaseError::fail(e.to_string()))?;
        verify(&h, &l);
    }

    #[test]
    fn constructed_violations_are_rejected(steps in steps(2..40, 0), pick in any::<usize>()) {
        let candidates = mutations(&realize(&steps));
        prop_assume!(!candidates.is_empty());
        let m = &candidates[pick % candidates.len()];
        prop_assert!(matches!(check(m), Err(CheckError::NotLinearizable(_))), "{:?}", m);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn agrees_with_brute_force_on_small_histories(steps in steps(1..8, 25)) {
        agrees(&realize(&steps))?;
    }

    #[test]
    fn agrees_with_brute_force_on_nondeterministic_model(
        ops in prop::collection::vec(
            (prop::option::of(1u64..3), 0u64..20, 0u64..10, prop::option::weighted(0.7, 0u64..6)),
            1..7,
        )
    ) {
        let ops: Vec<_> = ops.into_iter().map(|(i, t, d, out)| (i, t, out.map(|o| (t + d, o)))).collect();
        agrees(&retried(&ops))?;
    }
}
