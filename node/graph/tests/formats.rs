//! Known answers for formats that leave the process: a `usage` question and its answer as
//! CBOR bodies of `/weft/query/1`, and an assessment report as written to disk. Moving or
//! refactoring the types behind them must not change one byte of either.

use serde_json::json;
use weft_graph::assess::report::{
    Finding, Report, RuleInfo, ScopeInfo, Severity, Summary, REPORT_SCHEMA,
};
use weft_graph::deps::{Declared, Ecosystem};
use weft_graph::facts::SymbolKind;
use weft_graph::usage::{
    CoChange, Declaration, Neighbour, NeighbourAsk, QueryPackage, QuerySymbol, UsageAnswer,
    UsageQuery, Use, Via,
};

fn cbor<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("encode");
    out
}

fn usage_query() -> UsageQuery {
    UsageQuery {
        packages: vec![QueryPackage {
            ecosystem: Ecosystem::Cargo,
            name: "up-lib".into(),
        }],
        symbols: vec![
            QuerySymbol {
                name: "parse".into(),
                owner: None,
            },
            QuerySymbol {
                name: "send".into(),
                owner: Some("Client".into()),
            },
        ],
        releases: vec![1_700_000_000],
        window_days: 14,
        neighbours: vec![NeighbourAsk {
            symbol: "parse".into(),
            text: "function parse pub fn parse(text: &str) -> u32".into(),
        }],
    }
}

fn usage_answer() -> UsageAnswer {
    UsageAnswer {
        commit: Some("4e94faa3d7a3".into()),
        files_scanned: 3,
        declarations: vec![Declaration {
            manifest: "Cargo.toml".into(),
            ecosystem: Ecosystem::Cargo,
            declared: Declared {
                name: "up-lib".into(),
                kind: "normal".into(),
                requirement: Some("=1.0.0".into()),
                source: Some("path".into()),
                package: None,
            },
        }],
        importers: vec!["src/main.rs".into()],
        uses: vec![Use {
            path: "src/main.rs".into(),
            line: 5,
            name: "parse".into(),
            owner: None,
            via: Via::Call,
            enclosing: Some("main".into()),
            text: "let n = parse(\"x\");".into(),
        }],
        uses_omitted: 0,
        cochange: vec![CoChange {
            path: "src/main.rs".into(),
            releases: 1,
        }],
        neighbours: vec![Neighbour {
            of: "parse".into(),
            path: "src/text.rs".into(),
            qualified: "parse_text".into(),
            kind: SymbolKind::Function,
            line: 2,
            score: 0.75,
        }],
        neighbours_note: None,
    }
}

/// Reads a vector file of `tests/vectors/`.
fn vector(name: &str) -> String {
    // At run time: a binary from another clone's build may be reused (see weft-tests).
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
    let path = std::path::Path::new(&manifest)
        .join("tests/vectors")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn usage_question_and_answer_bodies_are_the_known_bytes() {
    let query = cbor(&usage_query());
    let answer = cbor(&usage_answer());
    assert_eq!(hex::encode(&query), vector("usage-query.cbor.hex").trim());
    assert_eq!(hex::encode(&answer), vector("usage-answer.cbor.hex").trim());
    let back: UsageQuery = ciborium::from_reader(query.as_slice()).expect("decode query");
    assert_eq!(back, usage_query());
    let back: UsageAnswer = ciborium::from_reader(answer.as_slice()).expect("decode answer");
    assert_eq!(back, usage_answer());
}

fn report() -> Report {
    Report {
        schema: REPORT_SCHEMA.into(),
        tool_version: "0.1.0".into(),
        created: "2026-12-01T09:00:00Z".into(),
        commit: Some("6ce239bcf4ba".into()),
        scope: ScopeInfo {
            kind: "since".into(),
            base: Some("v1.0.0".into()),
            files: vec!["src/lib.rs".into()],
        },
        files_scanned: 4,
        rules: vec![RuleInfo {
            id: "long-function".into(),
            title: "Long function".into(),
            description: "A function with more lines of code than the configured limit.".into(),
            severity: Severity::Warning,
            cwe: None,
        }],
        findings: vec![Finding {
            id: "long-function:src/lib.rs:parse".into(),
            rule: "long-function".into(),
            severity: Severity::Warning,
            path: "src/lib.rs".into(),
            symbol: "parse".into(),
            line: 3,
            end_line: 70,
            message: "`parse`: lines of code 65 (limit 60)".into(),
            evidence: json!({ "loc": 65, "limit": 60 }),
        }],
        summary: Summary {
            error: 0,
            warning: 1,
            note: 0,
        },
    }
}

#[test]
fn an_assessment_report_is_written_as_the_known_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let written = weft_graph::assess::run::write_report(dir.path(), &report()).expect("write");
    let bytes = std::fs::read_to_string(&written.path).expect("read");
    assert_eq!(bytes, vector("assessment-report.json"));
    assert_eq!(
        written.hash.to_hex(),
        vector("assessment-report.shake256").trim()
    );
    let back = weft_graph::assess::run::read_report(&written.path).expect("read back");
    assert_eq!(back, report());
}
