//! Report renderings and report diffs: table and annotation known answers, SARIF checked
//! against the official 2.1.0 JSON schema (fetched by `scripts/sarif-schema.sh`), and
//! findings matched by id across reports.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};
use weft_graph::assess::diff::{diff, render_table};
use weft_graph::assess::format::{annotations, sarif, table};
use weft_graph::assess::report::{
    Finding, Report, RuleInfo, ScopeInfo, Severity, Summary, REPORT_SCHEMA,
};

fn finding(id: &str, rule: &str, severity: Severity, path: &str, line: u32) -> Finding {
    Finding {
        id: id.into(),
        rule: rule.into(),
        severity,
        path: path.into(),
        symbol: String::new(),
        line,
        end_line: line + 2,
        message: format!("{rule} in {path}"),
        evidence: json!({ "score": 7 }),
    }
}

fn rule(id: &str, severity: Severity) -> RuleInfo {
    RuleInfo {
        id: id.into(),
        title: format!("{id} title"),
        description: format!("What {id} detects."),
        severity,
        cwe: None,
    }
}

/// A report over `files` whose summary counts `findings`.
fn report(findings: Vec<Finding>, files: &[&str]) -> Report {
    let count = |severity| findings.iter().filter(|f| f.severity == severity).count() as u32;
    let summary = Summary {
        error: count(Severity::Error),
        warning: count(Severity::Warning),
        note: count(Severity::Note),
    };
    Report {
        schema: REPORT_SCHEMA.into(),
        tool_version: "0.1.0".into(),
        created: "2026-08-01T12:00:00Z".into(),
        commit: Some("ab".repeat(20)),
        scope: ScopeInfo {
            kind: "commit".into(),
            base: None,
            files: files.iter().map(|f| f.to_string()).collect(),
        },
        files_scanned: files.len() as u32,
        rules: vec![
            rule("hotspot", Severity::Warning),
            rule("cochange-missing", Severity::Note),
            rule("cycle", Severity::Error),
        ],
        findings,
        summary,
    }
}

/// One finding with everything the escaping rules care about.
fn awkward_finding() -> Finding {
    Finding {
        symbol: "parse:config,x".into(),
        line: 0,
        end_line: 0,
        message: "100% done: a, b\r\nnext".into(),
        ..finding("f1", "hotspot", Severity::Warning, "a,b:c.rs", 0)
    }
}

mod annotation {
    use super::*;

    #[test]
    fn escapes_data_and_properties_exactly() {
        let out = annotations::render(&report(vec![awkward_finding()], &["a,b:c.rs"]));
        assert_eq!(
            out,
            "::warning file=a%2Cb%3Ac.rs,line=1,endLine=1,\
             title=hotspot%3A parse%3Aconfig%2Cx::100%25 done: a, b%0D%0Anext\n"
        );
    }

    #[test]
    fn percent_is_escaped_before_the_escapes_it_introduces() {
        assert_eq!(annotations::escape_data("%0A\n"), "%250A%0A");
        assert_eq!(annotations::escape_data("a:b,c"), "a:b,c");
        assert_eq!(
            annotations::escape_property("50%:\r\n,"),
            "50%25%3A%0D%0A%2C"
        );
    }

    #[test]
    fn one_command_per_finding_with_severity_names_and_title() {
        let mut with_symbol = finding("f2", "hotspot", Severity::Error, "src/x.rs", 4);
        with_symbol.symbol = "parse_config".into();
        let findings = vec![
            finding("f1", "cochange-missing", Severity::Note, "src/a.rs", 3),
            finding("f3", "cycle", Severity::Warning, "src/b.rs", 9),
            with_symbol,
        ];
        let out = annotations::render(&report(findings, &[]));
        assert_eq!(
            out,
            "::notice file=src/a.rs,line=3,endLine=5,title=cochange-missing::cochange-missing in src/a.rs\n\
             ::warning file=src/b.rs,line=9,endLine=11,title=cycle::cycle in src/b.rs\n\
             ::error file=src/x.rs,line=4,endLine=6,title=hotspot%3A parse_config::hotspot in src/x.rs\n"
        );
    }

    #[test]
    fn line_zero_and_inverted_ranges_are_clamped() {
        let mut inverted = finding("f1", "cycle", Severity::Error, "a.rs", 8);
        inverted.end_line = 3;
        let mut zero = finding("f2", "cycle", Severity::Error, "b.rs", 0);
        zero.end_line = 0;
        let out = annotations::render(&report(vec![inverted, zero], &[]));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].contains(",line=8,endLine=8,"), "{out}");
        assert!(lines[1].contains(",line=1,endLine=1,"), "{out}");
    }

    #[test]
    fn empty_report_renders_nothing() {
        assert_eq!(annotations::render(&report(vec![], &["a.rs"])), "");
    }
}

mod text_table {
    use super::*;

    #[test]
    fn rows_are_aligned_and_summarised() {
        let mut long_rule = finding("f3", "cochange-missing", Severity::Note, "src/lib.rs", 120);
        long_rule.message = "changes without its test".into();
        let findings = vec![
            finding("f1", "hotspot", Severity::Error, "a.rs", 7),
            finding("f2", "cycle", Severity::Warning, "src/graph/mod.rs", 12),
            long_rule,
        ];
        let out = table::render(&report(
            findings,
            &["a.rs", "src/graph/mod.rs", "src/lib.rs"],
        ));
        assert_eq!(
            out,
            "error    a.rs:7               hotspot           hotspot in a.rs\n\
             warning  src/graph/mod.rs:12  cycle             cycle in src/graph/mod.rs\n\
             note     src/lib.rs:120       cochange-missing  changes without its test\n\
             1 error, 1 warning, 1 note in 3 files (scope: commit)\n"
        );
    }

    #[test]
    fn message_line_breaks_stay_on_one_row_and_line_zero_shows_as_one() {
        let out = table::render(&report(vec![awkward_finding()], &["a,b:c.rs"]));
        assert_eq!(
            out,
            "warning  a,b:c.rs:1  hotspot  100% done: a, b  next\n\
             0 errors, 1 warning, 0 notes in 1 file (scope: commit)\n"
        );
    }

    #[test]
    fn empty_report_says_no_findings() {
        let out = table::render(&report(vec![], &["a.rs", "b.rs"]));
        assert_eq!(out, "no findings in 2 files (scope: commit)\n");
    }
}

mod sarif_log {
    use super::*;

    fn schema_path() -> PathBuf {
        let dir = std::env::var_os("WEFT_FIXTURES").map_or_else(
            || {
                let home = std::env::var_os("HOME").expect("HOME or WEFT_FIXTURES must be set");
                PathBuf::from(home).join(".cache/weft/fixtures")
            },
            PathBuf::from,
        );
        dir.join("sarif-2.1.0-rtm.5.json")
    }

    /// Validates with the schema's own draft (`validator_for`); exit 3 means the
    /// environment is incomplete, which must fail the test rather than pass it.
    const VALIDATE_PY: &str = r#"
import json, sys
try:
    import jsonschema
except ImportError:
    print("the python package jsonschema is not importable", file=sys.stderr)
    sys.exit(3)
with open(sys.argv[1]) as f:
    schema = json.load(f)
with open(sys.argv[2]) as f:
    doc = json.load(f)
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
errors = list(cls(schema).iter_errors(doc))
for e in errors:
    print("/".join(str(p) for p in e.absolute_path) + ": " + e.message)
sys.exit(1 if errors else 0)
"#;

    const SETUP_HINT: &str = "run scripts/sarif-schema.sh to fetch the SARIF 2.1.0 schema \
                              and install the python jsonschema package";

    /// `Err` with the validator's messages when `log` breaks the schema; panics when the
    /// schema, python3 or jsonschema is missing.
    fn validate(log: &Value) -> Result<(), String> {
        let schema = schema_path();
        assert!(
            schema.is_file(),
            "SARIF schema not found at {}: {SETUP_HINT}",
            schema.display()
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let doc = dir.path().join("weft.sarif");
        std::fs::write(&doc, serde_json::to_vec_pretty(log).expect("serialise")).expect("write");
        let out = Command::new("python3")
            .arg("-c")
            .arg(VALIDATE_PY)
            .arg(&schema)
            .arg(&doc)
            .output()
            .unwrap_or_else(|e| panic!("cannot run python3 ({e}): {SETUP_HINT}"));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => Ok(()),
            Some(1) => Err(stdout),
            _ => panic!("schema validation could not run: {stderr}\n{SETUP_HINT}"),
        }
    }

    fn sample() -> Report {
        let mut spaced = finding(
            "id-spaced",
            "hotspot",
            Severity::Warning,
            "src/my file.rs",
            0,
        );
        spaced.symbol = "parse_config".into();
        spaced.end_line = 0;
        let findings = vec![
            awkward_finding(),
            finding("id-cycle", "cycle", Severity::Error, "src/graph/mod.rs", 12),
            finding(
                "id-cochange",
                "cochange-missing",
                Severity::Note,
                "docs/ü.md",
                1,
            ),
            finding("id-unknown", "not-listed", Severity::Note, "z.rs", 4),
            spaced,
        ];
        report(
            findings,
            &["a,b:c.rs", "src/graph/mod.rs", "src/my file.rs"],
        )
    }

    #[test]
    fn log_validates_against_the_sarif_2_1_0_schema() {
        let log = sarif::render(&sample());
        if let Err(errors) = validate(&log) {
            panic!("weft's SARIF breaks the 2.1.0 schema:\n{errors}");
        }
        validate(&sarif::render(&report(vec![], &[]))).expect("empty log is valid SARIF");
    }

    #[test]
    fn validator_rejects_a_broken_log() {
        let mut log = sarif::render(&sample());
        log["runs"][0]["results"][0]["level"] = json!("fatal");
        let errors = validate(&log).expect_err("level `fatal` must be rejected");
        assert!(errors.contains("fatal"), "{errors}");
    }

    #[test]
    fn header_tool_and_rules() {
        let log = sarif::render(&sample());
        assert_eq!(
            log["$schema"],
            "https://json.schemastore.org/sarif-2.1.0.json"
        );
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        assert_eq!(run["columnKind"], "utf16CodeUnits");
        assert_eq!(run["invocations"], json!([{ "executionSuccessful": true }]));
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "weft");
        assert_eq!(driver["version"], "0.1.0");
        assert_eq!(
            driver["rules"][1],
            json!({
                "id": "cochange-missing",
                "name": "CochangeMissing",
                "shortDescription": { "text": "cochange-missing title" },
                "fullDescription": { "text": "What cochange-missing detects." },
                "defaultConfiguration": { "level": "note" },
                "help": { "text": "What cochange-missing detects." },
                "properties": { "tags": ["maintainability"] },
            })
        );
    }

    #[test]
    fn security_rules_are_tagged_with_their_cwe() {
        let mut secret = rule("sec-hardcoded-secret", Severity::Error);
        secret.cwe = Some(798);
        let mut report = report(
            vec![finding(
                "s1",
                "sec-hardcoded-secret",
                Severity::Error,
                "a.py",
                3,
            )],
            &["a.py"],
        );
        report.rules = vec![rule("todo", Severity::Note), secret];
        let log = sarif::render(&report);
        validate(&log).expect("a log with security tags is valid SARIF");
        let rules = &log["runs"][0]["tool"]["driver"]["rules"];
        assert_eq!(rules[0]["properties"]["tags"], json!(["maintainability"]));
        assert_eq!(
            rules[1]["properties"]["tags"],
            json!(["security", "external/cwe/cwe-798"])
        );
        assert_eq!(log["runs"][0]["results"][0]["ruleIndex"], 1);
    }

    #[test]
    fn results_carry_what_code_scanning_needs() {
        let report = sample();
        let log = sarif::render(&report);
        let run = &log["runs"][0];
        let rules = &run["tool"]["driver"]["rules"];
        let results = run["results"].as_array().expect("results array");
        assert_eq!(results.len(), report.findings.len());
        for (result, finding) in results.iter().zip(&report.findings) {
            assert_eq!(result["ruleId"], finding.rule.as_str());
            assert_eq!(result["level"], finding.severity.as_str());
            assert_eq!(result["message"]["text"], finding.message.as_str());
            assert_eq!(
                result["partialFingerprints"]["weftFindingId/v1"],
                finding.id.as_str()
            );
            assert_eq!(result["properties"]["symbol"], finding.symbol.as_str());
            assert_eq!(result["properties"]["evidence"], finding.evidence);
            let region = &result["locations"][0]["physicalLocation"]["region"];
            let start = region["startLine"].as_u64().expect("startLine");
            let end = region["endLine"].as_u64().expect("endLine");
            assert!(start >= 1 && end >= start, "{region}");
            match result.get("ruleIndex") {
                Some(index) => {
                    let index = index.as_u64().expect("ruleIndex") as usize;
                    assert_eq!(rules[index]["id"], result["ruleId"]);
                }
                None => assert_eq!(result["ruleId"], "not-listed"),
            }
        }
    }

    #[test]
    fn uris_are_relative_and_percent_encoded() {
        let log = sarif::render(&sample());
        let uris: Vec<&str> = log["runs"][0]["results"]
            .as_array()
            .expect("results array")
            .iter()
            .map(|r| {
                let location = &r["locations"][0]["physicalLocation"]["artifactLocation"];
                assert!(location.get("uriBaseId").is_none());
                location["uri"].as_str().expect("uri")
            })
            .collect();
        assert_eq!(
            uris,
            [
                "a,b%3Ac.rs",
                "src/graph/mod.rs",
                "docs/%C3%BC.md",
                "z.rs",
                "src/my%20file.rs"
            ]
        );
        assert_eq!(sarif::relative_uri("./x/100%.rs"), "x/100%25.rs");
        assert_eq!(
            sarif::relative_uri("//host/a b#?.rs"),
            "host/a%20b%23%3F.rs"
        );
    }
}

mod report_diff {
    use super::*;

    /// Old: a (line 10), b, c. New: a moved to line 40, c unchanged, d new; b fixed.
    fn pair() -> (Report, Report) {
        let old = report(
            vec![
                finding("id-a", "hotspot", Severity::Warning, "src/a.rs", 10),
                finding("id-b", "cycle", Severity::Error, "src/b.rs", 5),
                finding("id-c", "hotspot", Severity::Warning, "src/c.rs", 1),
            ],
            &["src/a.rs", "src/b.rs", "src/c.rs"],
        );
        let mut moved = finding("id-a", "hotspot", Severity::Warning, "src/a.rs", 40);
        moved.message = "hotspot, now hotter".into();
        let new = report(
            vec![
                finding("id-d", "cochange-missing", Severity::Note, "src/d.rs", 2),
                finding("id-c", "hotspot", Severity::Warning, "src/c.rs", 1),
                moved,
            ],
            &["src/a.rs", "src/c.rs", "src/d.rs"],
        );
        (old, new)
    }

    fn ids(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.id.as_str()).collect()
    }

    #[test]
    fn findings_match_by_id_when_lines_move() {
        let (old, new) = pair();
        let d = diff(&old, &new);
        assert_eq!(ids(&d.new), ["id-d"]);
        assert_eq!(ids(&d.fixed), ["id-b"]);
        assert_eq!(ids(&d.unchanged), ["id-a", "id-c"]);
        assert_eq!(d.unchanged[0].line, 40, "unchanged takes the newer finding");
        assert_eq!(d.unchanged[0].message, "hotspot, now hotter");
    }

    #[test]
    fn identical_reports_differ_in_nothing() {
        let (old, _) = pair();
        let d = diff(&old, &old);
        assert!(d.new.is_empty() && d.fixed.is_empty());
        assert_eq!(d.unchanged, old.findings);
    }

    #[test]
    fn table_lists_new_and_fixed_and_counts_unchanged() {
        let (old, new) = pair();
        assert_eq!(
            render_table(&diff(&old, &new)),
            "new: 1\n  note  src/d.rs:2  cochange-missing  cochange-missing in src/d.rs\n\
             fixed: 1\n  error  src/b.rs:5  cycle  cycle in src/b.rs\n\
             unchanged: 2\n"
        );
    }

    #[test]
    fn diff_serialises_with_three_lists() {
        let (old, new) = pair();
        let value = serde_json::to_value(diff(&old, &new)).expect("serialise");
        let keys: Vec<&String> = value.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["new", "fixed", "unchanged"]);
    }
}
