//! `weft ui` through the binary: every JSON endpoint answers exactly what the CLI's
//! `--json` prints for the same question; requests without the run's token, or addressed
//! to a non-loopback host, are refused; the server binds loopback unless told otherwise;
//! a recorded report that was changed is refused; `--export` writes the same answers;
//! `coordinate report --format dot|mermaid` draws the impact. The browser tests
//! (`node/ui/tests/e2e.mjs`, Debian's chromium through playwright-core) drive the page.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use weft_tests::Repo;

/// A generated organisation: an upstream crate `up` whose `f` gains a parameter after
/// v1.0.0, and two peers, `app` and `tool`, calling it (so both break), linked from the
/// upstream; the impact has been computed and recorded once.
pub struct Org {
    pub up: Repo,
    pub peers: Vec<(String, Repo)>,
    /// `coordinate impact --json` as it printed.
    pub report: Value,
}

pub fn org() -> Org {
    let up = Repo::upstream_whose_f_took_a_flag();
    let mut peers = Vec::new();
    for (name, body) in [
        ("app", "use up::f;\n\nfn main() {\n    f();\n}\n"),
        ("tool", "fn main() {\n    let x = 1;\n    up::f();\n}\n"),
    ] {
        let peer = Repo::new();
        std::fs::write(
            peer.file("Cargo.toml"),
            format!(
                "[package]\nname = \"{name}\"\n\n[dependencies]\nup = {{ path = {:?} }}\n",
                up.path()
            ),
        )
        .expect("write");
        std::fs::write(peer.file("src/main.rs"), body).expect("write");
        peer.git(&["add", "-A"]);
        peer.git(&["commit", "-qm", name]);
        peer.weft(&["init"]).assert().success();
        let path = peer.path().to_str().expect("utf-8").to_string();
        up.weft(&["coordinate", "link", name, "--path", &path])
            .assert()
            .success();
        peers.push((name.to_string(), peer));
    }
    let report = up.json(&["coordinate", "impact"]);
    Org { up, peers, report }
}

/// A running `weft ui`, stopped on drop.
pub struct Ui {
    child: Child,
    pub port: u16,
    pub token: String,
    pub url: String,
}

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `weft ui --json` in `dir` with `extra` arguments and reads its address.
pub fn start_ui(dir: &std::path::Path, extra: &[&str]) -> Ui {
    let mut child = std::process::Command::new(weft_tests::weft_binary())
        .arg("-C")
        .arg(dir)
        .args(["ui", "--json"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start weft ui");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout).read_line(&mut line).expect("read");
    let started: Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("weft ui printed {line:?}: {e}"));
    Ui {
        child,
        port: started["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .expect("port"),
        token: started["token"].as_str().expect("token").to_string(),
        url: started["url"].as_str().expect("url").to_string(),
    }
}

/// One HTTP response: status, headers (lower-case names) and body.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// `GET path` on 127.0.0.1:port with `headers` (a `Host` among them replaces the default).
pub fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .expect("timeout");
    let mut request = format!("GET {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("receive");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_string(),
    }
}

fn cli_lines(repo: &Repo, args: &[&str]) -> Value {
    let out = repo.weft(args).arg("--json").output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Value::Array(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect(),
    )
}

#[test]
fn each_endpoint_answers_what_the_cli_prints_for_the_same_question() {
    let org = org();
    let ui = start_ui(org.up.path(), &[]);
    assert!(ui.url.starts_with("http://127.0.0.1:"), "{}", ui.url);
    let token = ui.token.as_str();
    let api = |path: &str| {
        let r = get(ui.port, path, &[("X-Weft-Token", token)]);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.json()
    };
    for (path, args) in [
        ("/api/status", vec!["status"]),
        ("/api/peers", vec!["peers"]),
        ("/api/head", vec!["chain", "head"]),
        ("/api/proof/2", vec!["chain", "proof", "2"]),
        ("/api/release", vec!["coordinate", "status"]),
        ("/api/modules", vec!["modules"]),
        ("/api/cluster", vec!["cluster", "status"]),
        ("/api/impact", vec!["coordinate", "report"]),
    ] {
        assert_eq!(api(path), org.up.json(&args), "{path}");
    }
    assert_eq!(
        api("/api/chain?from=1&limit=3"),
        cli_lines(&org.up, &["chain", "log", "--from", "1", "--limit", "3"])
    );
    let impacts = api("/api/chain?kind=coordinate.impact");
    assert_eq!(
        impacts,
        cli_lines(
            &org.up,
            &[
                "chain",
                "log",
                "--kind",
                "coordinate.impact",
                "--limit",
                "50"
            ]
        )
    );
    // The impact endpoint is the report `coordinate impact` printed, tied to its event.
    let recorded = api("/api/impact");
    assert_eq!(recorded["report"], org.report);
    let last = impacts
        .as_array()
        .and_then(|a| a.last())
        .expect("an impact event");
    assert_eq!(recorded["seq"], last["seq"]);
    assert_eq!(recorded["event"], last["hash"]);
    assert_eq!(api(&format!("/api/impact?seq={}", last["seq"])), recorded);
    let names: Vec<&str> = recorded["report"]["peers"]
        .as_array()
        .expect("peers")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.contains(&"app") && names.contains(&"tool"),
        "{names:?}"
    );
}

#[test]
fn requests_without_the_token_or_to_another_host_are_refused() {
    let org = org();
    let ui = start_ui(org.up.path(), &[]);
    let token = ui.token.as_str();
    let wrong = "0".repeat(64);
    for headers in [vec![], vec![("X-Weft-Token", wrong.as_str())]] {
        for path in ["/", "/app.js", "/api/status", "/api/proof/1", "/nowhere"] {
            let r = get(ui.port, path, &headers);
            assert_eq!(r.status, 401, "{path} {headers:?}: {}", r.body);
            assert!(r.body.contains("token"), "{}", r.body);
        }
    }
    // DNS rebinding: the right token, addressed to a name that is not loopback.
    let r = get(
        ui.port,
        "/api/status",
        &[
            ("X-Weft-Token", token),
            ("Host", &format!("weft.test:{}", ui.port)),
        ],
    );
    assert_eq!(r.status, 403, "{}", r.body);
    // The page opened with ?token= sets a cookie that then stands for the token.
    let page = get(ui.port, &format!("/?token={token}"), &[]);
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").expect("a CSP");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    let cookie = page.header("set-cookie").expect("a cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().expect("name=value");
    assert_eq!(get(ui.port, "/api/head", &[("Cookie", pair)]).status, 200);
    // Parameters are checked, not passed on.
    for (path, status) in [
        ("/api/chain?kind=--peer", 400),
        ("/api/chain?limit=100000", 400),
        ("/api/status?peer=x", 400),
        ("/api/proof/x", 400),
        ("/api/proof/999999", 400),
        ("/api/nothing", 404),
    ] {
        let r = get(ui.port, path, &[("X-Weft-Token", token)]);
        assert_eq!(r.status, status, "{path}: {}", r.body);
        assert!(r.json()["error"].is_string(), "{path}: {}", r.body);
    }
}

#[test]
fn a_report_changed_after_it_was_recorded_is_refused() {
    let org = org();
    let recorded = org.up.json(&["coordinate", "report"]);
    let file = org.up.file(recorded["path"].as_str().expect("path"));
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, text.replace("\"breaking\"", "\"additive\"")).expect("write");
    let out = org
        .up
        .weft(&["coordinate", "report"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no longer has the hash"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ui = start_ui(org.up.path(), &[]);
    let r = get(ui.port, "/api/impact", &[("X-Weft-Token", &ui.token)]);
    assert_eq!(r.status, 422, "{}", r.body);
    // An event that is not an impact record names what it is.
    let out = org
        .up
        .weft(&["coordinate", "report", "0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("chain.genesis"));
}

#[test]
fn a_static_export_holds_the_endpoints_answers() {
    let org = org();
    let dir = tempfile::tempdir().expect("tmp");
    let out_dir = dir.path().join("site");
    let exported = org
        .up
        .json(&["ui", "--export", out_dir.to_str().expect("utf-8")]);
    assert!(
        exported["failed"].as_array().is_some_and(Vec::is_empty),
        "{exported}"
    );
    for name in ["index.html", "app.js", "app.css", "data.js"] {
        assert!(out_dir.join(name).is_file(), "{name}");
    }
    let data = std::fs::read_to_string(out_dir.join("data.js")).expect("read");
    let json = data
        .strip_prefix("window.WEFT_DATA = ")
        .and_then(|d| d.trim_end().strip_suffix(';'))
        .expect("data.js sets WEFT_DATA");
    let data: Value = serde_json::from_str(json).expect("JSON");
    let ui = start_ui(org.up.path(), &[]);
    for key in [
        "/api/impact",
        "/api/peers",
        "/api/modules",
        "/api/chain?from=0&limit=50",
        "/api/proof/1",
    ] {
        let live = get(ui.port, key, &[("X-Weft-Token", &ui.token)]).json();
        assert_eq!(data[key], live, "{key}");
    }
}

#[test]
fn the_impact_draws_as_dot_and_mermaid_with_every_breaking_file() {
    let org = org();
    for (format, edge) in [("dot", " -> "), ("mermaid", " -->|")] {
        let out = org
            .up
            .weft(&["coordinate", "report", "--format", format])
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("\"app\"") && text.contains("\"tool\""),
            "{text}"
        );
        assert_eq!(text.matches("src/main.rs").count(), 2, "{text}");
        let edges: Vec<&str> = text.lines().filter(|l| l.contains(edge)).collect();
        assert_eq!(edges.len(), 2, "{text}");
        assert!(edges.iter().all(|e| e.contains("breaking")), "{text}");
    }
    // impact itself draws the same graph.
    let out = org
        .up
        .weft(&["coordinate", "impact", "--format", "mermaid"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("flowchart LR"));
}
