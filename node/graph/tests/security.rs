//! The security rules (`sec-*`, docs/assessment.md) on made-up code, one fixture per
//! language: every line that must be reported ends with a comment naming the rule
//! (`# !sec-sql-injection`), every other line is a negative example that must not be.
//! Then end to end through an assessment: rule ids, CWE numbers, SARIF tags, redacted
//! secrets, test files, and no duplicate `risky-construct` finding.

mod common;

use common::Fixture;
use std::collections::BTreeSet;
use weft_graph::assess::format::sarif;
use weft_graph::assess::report::{Finding, Report};
use weft_graph::assess::rules::RuleConfig;
use weft_graph::assess::run::{assess, Quiet};
use weft_graph::assess::scope::ScopeRequest;
use weft_graph::facts::SecurityKind;
use weft_graph::lang::{extract, Language};
use weft_graph::{GraphConfig, KnowledgeGraph};

/// (rule, line) of every security fact of `source`.
fn found(language: Language, source: &str) -> BTreeSet<(String, u32)> {
    let facts = extract(language, source).expect("fixture parses");
    facts
        .security
        .iter()
        .map(|f| (f.kind.rule().to_string(), f.line))
        .collect()
}

/// (rule, line) of every line marked `!rule` in `source`.
fn marked(source: &str) -> BTreeSet<(String, u32)> {
    source
        .lines()
        .zip(1..)
        .filter_map(|(text, line)| {
            let (_, rule) = text.rsplit_once(" !")?;
            Some((rule.trim().to_string(), line))
        })
        .collect()
}

fn check(language: Language, source: &str) {
    let found = found(language, source);
    let marked = marked(source);
    assert!(!marked.is_empty(), "the fixture marks its positives");
    let missed: Vec<_> = marked.difference(&found).collect();
    let extra: Vec<_> = found.difference(&marked).collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "{language:?}: missed {missed:?}, not expected {extra:?}"
    );
}

const PYTHON: &str = r#"import os, subprocess, pickle, yaml, marshal, ssl, requests

def run(user, cur, blob, url):
    os.system(f"ls {user}")  # !sec-command-injection
    os.system("ls -l")
    os.popen("cat " + user)  # !sec-command-injection
    subprocess.run(user, shell=True)  # !sec-command-injection
    subprocess.run("ls -l | wc", shell=True)
    subprocess.run(["ls", user])
    subprocess.check_output(args="echo %s" % user, shell=True)  # !sec-command-injection
    eval(user)  # !sec-code-injection
    eval("1 + 1")
    exec(compile(user, "x", "exec"))  # !sec-code-injection
    cur.execute(f"SELECT * FROM users WHERE name = '{user}'")  # !sec-sql-injection
    cur.execute("SELECT * FROM users WHERE name = %s" % user)  # !sec-sql-injection
    cur.execute("DELETE FROM t WHERE id = {}".format(user))  # !sec-sql-injection
    cur.execute("SELECT * FROM users WHERE name = '" + user + "'")  # !sec-sql-injection
    cur.execute("SELECT * FROM users WHERE name = %s", (user,))
    cur.execute("SELECT * FROM users " "WHERE name = 'x'")
    cur.execute(f"{user}")
    log.execute(f"run {user} now")
    requests.get(url, verify=False)  # !sec-tls-verification-disabled
    requests.get(url, verify=True)
    ctx = ssl._create_unverified_context()  # !sec-tls-verification-disabled
    ctx.check_hostname = False  # !sec-tls-verification-disabled
    ctx.verify_mode = ssl.CERT_NONE  # !sec-tls-verification-disabled
    ctx.verify_mode = ssl.CERT_REQUIRED
    pickle.loads(blob)  # !sec-unsafe-deserialization
    pickle.dumps(blob)
    yaml.load(blob)  # !sec-unsafe-deserialization
    yaml.load(blob, Loader=yaml.Loader)  # !sec-unsafe-deserialization
    yaml.load(blob, Loader=yaml.SafeLoader)
    yaml.safe_load(blob)
    marshal.loads(blob)  # !sec-unsafe-deserialization
    json.loads(blob)

DB_PASSWORD = "s3cr3t-P4ssw0rd!"  # !sec-hardcoded-secret
PASSWORD = "changeme"
TOKEN_ENV = "GITHUB_TOKEN"
api_token = ""
password_prompt = "Enter your password: "
AWS_KEY = "AKIAQWERTYUIOP1234XZ"  # !sec-hardcoded-secret
docs_key = "AKIAIOSFODNN7EXAMPLE"
settings = {"password": "Xy7#kLm9!pQ2"}  # !sec-hardcoded-secret
connect(password="Xy7#kLm9!pQ2zz")  # !sec-hardcoded-secret
connect(password=os.environ["PW"])
"#;

const JAVASCRIPT: &str = r#"const { exec } = require('child_process');
const cp = require('child_process');
exec(`ls ${dir}`); // !sec-command-injection
exec('ls -l');
cp.execSync('cat ' + file); // !sec-command-injection
cp.execSync(cmd); // !sec-command-injection
cp.spawn('ls', [dir]);
eval(code); // !sec-code-injection
eval('1 + 1');
const f = new Function('a', body); // !sec-code-injection
const g = new Function('a', 'return a');
db.query(`SELECT * FROM users WHERE id = ${id}`); // !sec-sql-injection
db.query('SELECT * FROM users WHERE id = ' + id); // !sec-sql-injection
db.query('SELECT * FROM users WHERE id = $1', [id]);
db.query(sql`SELECT * FROM users WHERE id = ${id}`);
sql`SELECT * FROM users WHERE id = ${id}`;
re.exec(`hello ${name}`);
https.request({ host, rejectUnauthorized: false }); // !sec-tls-verification-disabled
https.request({ host, rejectUnauthorized: true });
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // !sec-tls-verification-disabled
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '1';
serialize.unserialize(req.body); // !sec-unsafe-deserialization
JSON.parse(req.body);
const apiKey = 'q8Zr!v2Lp0xT'; // !sec-hardcoded-secret
const password = process.env.PASSWORD;
const token = 'ghp_' + x;
const gh = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"; // !sec-hardcoded-secret
class Client { secret = 'Zq9!xW2#rT5v'; } // !sec-hardcoded-secret
const opts = { headers: { token: 'Bearer' } };
el.innerHTML = html;
"#;

const TYPESCRIPT: &str = r#"class Client {
  private password: string = 'Zq9!xW2#rT5v'; // !sec-hardcoded-secret
  private passwordField: string = 'Zq9!xW2#rT5v';
  run(id: string): void {
    this.db.execute(`DELETE FROM t WHERE id = ${id}`); // !sec-sql-injection
    const agent = new https.Agent({ rejectUnauthorized: false }); // !sec-tls-verification-disabled
  }
}
"#;

const GO: &str = r#"package main

import (
	"crypto/tls"
	"database/sql"
	"fmt"
	"os/exec"
	"unsafe" // !sec-unsafe-code
)

const DBPassword = "Xy7#kLm9!pQ2" // !sec-hardcoded-secret
const TokenHeader = "Authorization"

func run(db *sql.DB, name string, cmd string) {
	exec.Command("sh", "-c", cmd) // !sec-command-injection
	exec.Command("sh", "-c", "ls -l")
	exec.Command("ls", name)
	exec.CommandContext(ctx, "bash", "-c", "echo "+name) // !sec-command-injection
	db.Query(fmt.Sprintf("SELECT * FROM users WHERE name = '%s'", name)) // !sec-sql-injection
	db.QueryRow("SELECT * FROM users WHERE name = '" + name + "'") // !sec-sql-injection
	db.Query("SELECT * FROM users WHERE name = $1", name)
	db.ExecContext(ctx, "DELETE FROM t WHERE id = "+name) // !sec-sql-injection
	fmt.Println(fmt.Sprintf("SELECT %s FROM t", name))
	cfg := &tls.Config{InsecureSkipVerify: true} // !sec-tls-verification-disabled
	safe := &tls.Config{InsecureSkipVerify: false}
	cfg.InsecureSkipVerify = true // !sec-tls-verification-disabled
	p := unsafe.Pointer(&name) // !sec-unsafe-code
	password := "changeme"
	apiKey := "Zq9!xW2#rT5vB" // !sec-hardcoded-secret
	creds := map[string]string{"password": "Xy7#kLm9!pQ2"} // !sec-hardcoded-secret
}
"#;

const RUST: &str = r#"use std::process::Command;

const API_TOKEN: &str = "Xy7#kLm9!pQ2"; // !sec-hardcoded-secret
const TOKEN_HEADER: &str = "authorization";

pub unsafe fn raw(p: *const u8) -> u8 { // !sec-unsafe-code
    unsafe { *p } // !sec-unsafe-code
}

unsafe impl Send for Wrapper {} // !sec-unsafe-code

fn run(user: &str, conn: &Connection) {
    Command::new("sh").arg("-c").arg(user).output(); // !sec-command-injection
    Command::new("sh").arg("-c").arg("ls -l").output();
    Command::new("ls").arg(user).output();
    Command::new("bash").args(["-c", &format!("echo {user}")]).output(); // !sec-command-injection
    Command::new("git").args(["-c", user]).output();
    conn.execute(&format!("DELETE FROM users WHERE name = '{}'", user), []); // !sec-sql-injection
    sqlx::query(&format!("SELECT * FROM users WHERE name = '{user}'")); // !sec-sql-injection
    sqlx::query("SELECT * FROM users WHERE name = $1").bind(user);
    conn.execute(&format!("hello {user}"), []);
    let client = reqwest::Client::builder().danger_accept_invalid_certs(true).build(); // !sec-tls-verification-disabled
    let strict = reqwest::Client::builder().danger_accept_invalid_certs(false).build();
    let config = Config { password: "Zq9!xW2#rT5vB" }; // !sec-hardcoded-secret
    let key = "-----BEGIN PRIVATE KEY-----";
}
"#;

/// The shapes of the false positives a run over real code found (the Python 3.11
/// standard library, the Google Cloud SDK's Python, npm, Go 1.19's sources, crates from
/// the cargo registry), written anew: none of these lines may be reported.
const PYTHON_REGRESSIONS: &str = r#"import yaml as pyyaml
from googlecloudsdk.core import yaml

payload = jwt.decode(id_token, verify=False)
data = yaml.load(f, file_hint=uri)
config = pyyaml.load(text, Loader=self._safe_loader)
config = pyyaml.load(text) # !sec-unsafe-deserialization
ACCESS_KEY = 'aws_access_key_id'
swagger_types = {'secret_ref': 'V1LocalObjectReference'}
token_type = 'encoded-word'
_TOKEN_REF = r'[A-Z]\w*'
token_expiry = '2018-01-01T00:00:00Z'
DEFAULT_CREDENTIALS_DEFAULT_CLIENT_ID = '764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com'
CLIENT_NOTSOSECRET = 'Zmss3vu8D-xc1Lx9o5p6Q2zz' # !sec-hardcoded-secret
cu.execute('PRAGMA table_info("{0}")'.format(table_name)) # !sec-sql-injection
"#;

const JAVASCRIPT_REGRESSIONS: &str = r#"const key = new Definition('key', {
  description: `
    Values should be in PEM format with newlines replaced by the string "\\n":
    key="-----BEGIN PRIVATE KEY-----\\nXXXX\\nXXXX\\n-----END PRIVATE KEY-----"
  `,
});
const USE_CREDENTIALS = 'use-credentials';
const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq9dQ2N0Zx4f5J8r1kP3mW2c6vYhT0sLq9ZbXe1nR4uK8oJ\n-----END RSA PRIVATE KEY-----"; // !sec-hardcoded-secret
db
  .query(`DELETE FROM t WHERE id = ${id}`); // !sec-sql-injection
"#;

const GO_REGRESSIONS: &str = r#"package p

import "unsafe" // !sec-unsafe-code

const size = unsafe.Sizeof(x) + unsafe.Alignof(x) + unsafe.Offsetof(s.f)

func f() {
	p := (*int)(unsafe.Pointer(&x)) // !sec-unsafe-code
}
"#;

/// A builder chain spanning lines is reported on the line of the call that matters.
const RUST_REGRESSIONS: &str = r#"fn get() {
    let res = attohttpc::get("https://self-signed.badssl.com/")
        .danger_accept_invalid_certs(true) // !sec-tls-verification-disabled
        .send();
    let out = Command::new("sh")
        .arg("-c")
        .arg(script) // !sec-command-injection
        .output();
}
"#;

#[test]
fn real_code_false_positives_stay_fixed() {
    check(Language::Python, PYTHON_REGRESSIONS);
    check(Language::JavaScript, JAVASCRIPT_REGRESSIONS);
    check(Language::Go, GO_REGRESSIONS);
    check(Language::Rust, RUST_REGRESSIONS);
}

#[test]
fn python_positives_and_negatives() {
    check(Language::Python, PYTHON);
}

#[test]
fn javascript_positives_and_negatives() {
    check(Language::JavaScript, JAVASCRIPT);
}

#[test]
fn typescript_positives_and_negatives() {
    check(Language::TypeScript, TYPESCRIPT);
    check(Language::Tsx, TYPESCRIPT);
}

#[test]
fn go_positives_and_negatives() {
    check(Language::Go, GO);
}

#[test]
fn rust_positives_and_negatives() {
    check(Language::Rust, RUST);
}

#[test]
fn reasons_name_the_construct_and_why() {
    let facts = extract(Language::Python, PYTHON).expect("parses");
    let line = |n: u32| {
        facts
            .security
            .iter()
            .find(|f| f.line == n)
            .unwrap_or_else(|| panic!("a fact on line {n}"))
    };
    assert_eq!(line(4).construct, "os.system");
    assert_eq!(line(4).reason, "non-literal command (f-string)");
    assert_eq!(line(7).construct, "subprocess.run(shell=True)");
    assert_eq!(line(7).reason, "non-literal command (variable)");
    assert_eq!(line(15).reason, "non-literal SQL string (%-formatting)");
    assert_eq!(line(16).reason, "non-literal SQL string (.format())");
    assert_eq!(line(30).construct, "yaml.load");
    assert!(line(30).reason.contains("without a safe Loader"));
    assert_eq!(line(37).construct, "secret DB_PASSWORD");
    assert!(line(37).heuristic);
    assert_eq!(line(42).construct, "AWS access key id");
    assert!(!line(42).heuristic);
}

/// Every kind's rule is listed, and its CWE is the one documented.
#[test]
fn rules_and_cwes() {
    let ids: Vec<&str> = weft_graph::assess::rules::rule_ids().collect();
    let cwes: Vec<(&str, u32)> = SecurityKind::ALL
        .iter()
        .map(|k| (k.rule(), k.cwe()))
        .collect();
    assert_eq!(
        cwes,
        [
            ("sec-unsafe-code", 676),
            ("sec-command-injection", 78),
            ("sec-code-injection", 95),
            ("sec-sql-injection", 89),
            ("sec-tls-verification-disabled", 295),
            ("sec-unsafe-deserialization", 502),
            ("sec-hardcoded-secret", 798),
        ]
    );
    for (rule, _) in cwes {
        assert!(ids.contains(&rule), "{rule} is a rule");
    }
}

/// Redaction never shows more than a quarter of a secret, on character boundaries, and
/// hostile literals (multi-byte characters around patterns, huge or deeply nested
/// expressions) neither panic nor grow the facts without bound.
#[test]
fn hostile_literals() {
    let secret = "Xy7#kLm9!pQ2zzQ";
    for (language, source) in [
        (Language::Python, format!("password = \"{secret}\"\n")),
        (
            Language::JavaScript,
            format!("const password = '{secret}';\n"),
        ),
        (
            Language::Go,
            format!("package p\nconst Password = \"{secret}\"\n"),
        ),
        (
            Language::Rust,
            format!("const PASSWORD: &str = \"{secret}\";\n"),
        ),
    ] {
        let facts = extract(language, &source).expect("parses");
        let fact = facts.security.first().expect("a secret");
        assert!(
            !fact.reason.contains(secret),
            "{language:?}: {}",
            fact.reason
        );
        assert!(fact.reason.contains("`Xy7…` (15 chars)"), "{}", fact.reason);
    }
    let hostile = [
        "password = \"ééééééééééééééé1\"\nx = \"éAKIAéé\u{1F600}ghp_é-----BEGIN é\"\n".to_string(),
        format!("eval({}x{})\n", "(".repeat(5_000), ")".repeat(5_000)),
        format!(
            "cur.execute(f\"SELECT * FROM t WHERE a = {{x}} {}\")\n",
            "é".repeat(10_000)
        ),
        "unsafe_thing = 1\n".repeat(10),
    ];
    for source in &hostile {
        for language in [
            Language::Python,
            Language::JavaScript,
            Language::Go,
            Language::Rust,
        ] {
            extract(language, source).expect("extraction does not fail");
        }
    }
    let many = "fn f() { unsafe { g() } }\n".repeat(3_000);
    let facts = extract(Language::Rust, &many).expect("parses");
    assert_eq!(facts.security.len(), 1_000, "facts per file are bounded");
}

fn assessed(fx: &Fixture) -> Report {
    let store = tempfile::tempdir().expect("store dir");
    let config = GraphConfig {
        rules: RuleConfig::default(),
        ..GraphConfig::default()
    };
    let graph = KnowledgeGraph::open(fx.dir.path(), store.path(), &config).expect("graph");
    assess(&graph, &ScopeRequest::Full, "main", &Quiet).expect("assessment")
}

fn of<'r>(report: &'r Report, rule: &str) -> Vec<&'r Finding> {
    report.findings.iter().filter(|f| f.rule == rule).collect()
}

#[test]
fn end_to_end_findings_sarif_and_test_files() {
    let fx = Fixture::new();
    let secret = "s3cr3t-P4ssw0rd!";
    fx.write(
        "app/db.py",
        &format!("import os\n\nDB_PASSWORD = \"{secret}\"\n\ndef run(user):\n    os.system(\"ls \" + user)\n    os.system(user)\n"),
    );
    fx.write(
        "tests/test_db.py",
        "PASSWORD = \"Xy7#kLm9!pQ2zz\"\nKEY = \"AKIAQWERTYUIOP1234XZ\"\n",
    );
    fx.write(
        "src/lib.rs",
        "pub fn f(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n",
    );
    fx.commit_at(86_400 * (fx.commits + 1), "init");
    let report = assessed(&fx);

    let secrets = of(&report, "sec-hardcoded-secret");
    let where_: Vec<(&str, u32)> = secrets.iter().map(|f| (f.path.as_str(), f.line)).collect();
    assert_eq!(
        where_,
        [("app/db.py", 3), ("tests/test_db.py", 2)],
        "name-only secrets of tests are skipped"
    );
    let f = secrets[0];
    assert_eq!(f.severity.as_str(), "error");
    assert_eq!(f.evidence["cwe"], "CWE-798");
    assert_eq!(f.evidence["construct"], "secret DB_PASSWORD");
    let rendered = serde_json::to_string(f).expect("json");
    assert!(
        !rendered.contains(secret),
        "the secret is redacted: {rendered}"
    );
    assert!(rendered.contains("`s3cr…` (16 chars)"), "{rendered}");

    // Two occurrences in one function: one finding, both lines.
    let commands = of(&report, "sec-command-injection");
    assert_eq!(commands.len(), 1, "{commands:#?}");
    assert_eq!(commands[0].symbol, "run");
    assert_eq!(commands[0].line, 6);
    assert_eq!(commands[0].evidence["lines"], serde_json::json!([6, 7]));
    assert_eq!(
        commands[0].message,
        "os.system in `run`: non-literal command (concatenation) (CWE-78, 2 occurrences)"
    );

    // `unsafe` is a security finding, no longer a risky construct as well.
    assert_eq!(of(&report, "sec-unsafe-code").len(), 1);
    assert!(of(&report, "risky-construct").is_empty());

    let log = sarif::render(&report);
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let tags = |id: &str| {
        rules
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["properties"]["tags"].clone())
            .unwrap_or_default()
    };
    assert_eq!(
        tags("sec-command-injection"),
        serde_json::json!(["security", "external/cwe/cwe-78"])
    );
    assert_eq!(
        tags("sec-unsafe-code"),
        serde_json::json!(["security", "external/cwe/cwe-676"])
    );
    assert_eq!(tags("hotspot"), serde_json::json!(["maintainability"]));
}
