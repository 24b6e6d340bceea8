//! Known answers of key extraction per format, and its bounds.

use super::*;

/// (path, type, line) of every key, document 0 or not.
fn keys(format: ConfigFormat, text: &str) -> Vec<(String, &'static str, u32)> {
    extract(format, text)
        .expect("grammar loads")
        .keys
        .into_iter()
        .map(|k| (k.path, k.value.as_str(), k.line))
        .collect()
}

fn k(path: &str, ty: &'static str, line: u32) -> (String, &'static str, u32) {
    (path.to_string(), ty, line)
}

#[test]
fn toml_tables_dotted_keys_and_arrays_of_tables() {
    let text = r#"# a Cargo.toml
[package]
name = "weft"
version.workspace = true
"quoted.key" = 1.5
released = 2026-01-02T03:04:05Z

[[bin]]
name = "a"
test = false

[[bin]]
name = "b"
path = "src/b.rs"

[bin.meta]
tags = ["x", "y"]
matrix = [[1, 2], [3]]
inline = { opt = true, deep = { n = 1 } }
"#;
    assert_eq!(
        keys(ConfigFormat::Toml, text),
        vec![
            k("package", "table", 2),
            k("package.name", "string", 3),
            k("package.version", "table", 4),
            k("package.version.workspace", "boolean", 4),
            k("package.\"quoted.key\"", "float", 5),
            k("package.released", "datetime", 6),
            k("bin", "array", 8),
            k("bin[]", "table", 8),
            k("bin[].name", "string", 9),
            k("bin[].test", "boolean", 10),
            k("bin[].path", "string", 14),
            k("bin[].meta", "table", 16),
            k("bin[].meta.tags", "array", 17),
            k("bin[].meta.tags[]", "string", 17),
            k("bin[].meta.matrix", "array", 18),
            k("bin[].meta.matrix[]", "array", 18),
            k("bin[].meta.matrix[][]", "integer", 18),
            k("bin[].meta.inline", "table", 19),
            k("bin[].meta.inline.opt", "boolean", 19),
            k("bin[].meta.inline.deep", "table", 19),
            k("bin[].meta.inline.deep.n", "integer", 19),
        ]
    );
}

#[test]
fn json_nested_objects_arrays_and_comments() {
    let text = r#"{
  // tsconfig allows comments
  "compilerOptions": {"strict": true, "target": "es2022", "paths": {"@/*": ["src/*"]}},
  "files": [],
  "matrix": [[1, 2.5], [null]],
  "servers": [{"host": "a", "port": 1}, {"host": "b", "tls": {"on": false}}]
}"#;
    assert_eq!(
        keys(ConfigFormat::Json, text),
        vec![
            k("compilerOptions", "table", 3),
            k("compilerOptions.strict", "boolean", 3),
            k("compilerOptions.target", "string", 3),
            k("compilerOptions.paths", "table", 3),
            k("compilerOptions.paths.\"@/*\"", "array", 3),
            k("compilerOptions.paths.\"@/*\"[]", "string", 3),
            k("files", "array", 4),
            k("matrix", "array", 5),
            k("matrix[]", "array", 5),
            k("matrix[][]", "integer", 5),
            k("matrix[][]", "float", 5),
            k("matrix[][]", "null", 5),
            k("servers", "array", 6),
            k("servers[]", "table", 6),
            k("servers[].host", "string", 6),
            k("servers[].port", "integer", 6),
            k("servers[].tls", "table", 6),
            k("servers[].tls.on", "boolean", 6),
        ]
    );
    assert_eq!(
        keys(ConfigFormat::Json, r#"[{"a": 1}, 2]"#),
        vec![
            k("[]", "table", 1),
            k("[].a", "integer", 1),
            k("[]", "integer", 1)
        ]
    );
}

#[test]
fn yaml_documents_anchors_merge_keys_and_flow_style() {
    let text = r#"version: "3.9"
x-common: &common
  restart: always
  environment:
    LOG: debug
services:
  web:
    <<: *common
    image: nginx:1.25
    ports: ["80:80"]
    healthcheck: {test: [CMD, curl], interval: 30s, retries: 3}
  db:
    environment: *common
    enabled: yes
    replicas: ~
    started: 2001-12-14
    stopped: 2001-12-14t21:59:43.10-05:00
    day: 2001-12-14-extra
    ratio: 0.5
    script: |
      echo hi
---
apiVersion: v1
kind: Service
spec:
  ports:
    - port: 80
      name: http
    - !!str 443
"#;
    let facts = extract(ConfigFormat::Yaml, text).expect("grammar loads");
    assert!(facts.malformed.is_none(), "{:?}", facts.malformed);
    let got: Vec<(u32, &str, &str, u32)> = facts
        .keys
        .iter()
        .map(|k| (k.document, k.path.as_str(), k.value.as_str(), k.line))
        .collect();
    let expected: Vec<(u32, &str, &str, u32)> = vec![
        (0, "version", "string", 1),
        (0, "x-common", "table", 2),
        (0, "x-common.restart", "string", 3),
        (0, "x-common.environment", "table", 4),
        (0, "x-common.environment.LOG", "string", 5),
        (0, "services", "table", 6),
        (0, "services.web", "table", 7),
        // The merge key's mapping is the web service's own keys.
        (0, "services.web.restart", "string", 3),
        (0, "services.web.environment", "table", 4),
        (0, "services.web.environment.LOG", "string", 5),
        (0, "services.web.image", "string", 9),
        (0, "services.web.ports", "array", 10),
        (0, "services.web.ports[]", "string", 10),
        (0, "services.web.healthcheck", "table", 11),
        (0, "services.web.healthcheck.test", "array", 11),
        (0, "services.web.healthcheck.test[]", "string", 11),
        (0, "services.web.healthcheck.interval", "string", 11),
        (0, "services.web.healthcheck.retries", "integer", 11),
        (0, "services.db", "table", 12),
        // An alias as a value: the anchored mapping under this key.
        (0, "services.db.environment", "table", 13),
        (0, "services.db.environment.restart", "string", 3),
        (0, "services.db.environment.environment", "table", 4),
        (0, "services.db.environment.environment.LOG", "string", 5),
        (0, "services.db.enabled", "string", 14),
        (0, "services.db.replicas", "null", 15),
        (0, "services.db.started", "datetime", 16),
        (0, "services.db.stopped", "datetime", 17),
        (0, "services.db.day", "string", 18),
        (0, "services.db.ratio", "float", 19),
        (0, "services.db.script", "string", 20),
        (1, "apiVersion", "string", 23),
        (1, "kind", "string", 24),
        (1, "spec", "table", 25),
        (1, "spec.ports", "array", 26),
        (1, "spec.ports[]", "table", 27),
        (1, "spec.ports[].port", "integer", 27),
        (1, "spec.ports[].name", "string", 28),
        (1, "spec.ports[]", "string", 29),
    ];
    assert_eq!(got, expected);
}

#[test]
fn segments_with_dots_spaces_or_nothing_are_quoted() {
    assert_eq!(segment("plain_key-1"), "plain_key-1");
    assert_eq!(segment("a.b"), "\"a.b\"");
    assert_eq!(segment("with space"), "\"with space\"");
    assert_eq!(segment(""), "\"\"");
    assert_eq!(segment("quote\"d"), "\"quote\\\"d\"");
    let long = "x".repeat(MAX_SEGMENT_CHARS + 10);
    assert_eq!(segment(&long).chars().count(), MAX_SEGMENT_CHARS + 3);
}

#[test]
fn malformed_files_keep_what_parsed_and_say_where() {
    for (format, text, line) in [
        (ConfigFormat::Json, "{\"a\": 1,\n\"b\": }\n", 2),
        (ConfigFormat::Toml, "a = 1\nb = = 2\n[c\n", 2),
        (ConfigFormat::Yaml, "a: 1\nb: [1, 2\nc: 3\n", 2),
    ] {
        let facts = extract(format, text).expect("grammar loads");
        let malformed = facts.malformed.expect("a syntax error is reported");
        assert!(malformed.line >= line, "{format:?}: {malformed:?}");
        assert!(
            facts.keys.iter().any(|k| k.path == "a"),
            "{format:?}: keys before the error are kept: {:?}",
            facts.keys
        );
    }
    for (format, text) in [
        (ConfigFormat::Json, "{\"a\": {\"b\": [1]}}"),
        (ConfigFormat::Toml, "[a]\nb = [1]\n"),
        (ConfigFormat::Yaml, "a:\n  b: [1]\n"),
    ] {
        let facts = extract(format, text).expect("grammar loads");
        assert!(facts.malformed.is_none(), "{format:?} parses: {facts:?}");
        assert!(facts.notes.is_empty());
    }
}

#[test]
fn nesting_past_the_depth_bound_is_cut_with_a_note() {
    let depth = MAX_DEPTH + 20;
    let json = format!("{}1{}", "{\"k\": ".repeat(depth), "}".repeat(depth));
    let facts = extract(ConfigFormat::Json, &json).expect("grammar loads");
    assert_eq!(facts.keys.len(), MAX_DEPTH);
    assert!(facts
        .keys
        .iter()
        .all(|k| k.path.split('.').count() <= MAX_DEPTH));
    assert!(
        facts.notes.iter().any(|n| n.contains("deeper than")),
        "{:?}",
        facts.notes
    );
    let toml = format!("{} = 1\n", vec!["k"; depth].join("."));
    let facts = extract(ConfigFormat::Toml, &toml).expect("grammar loads");
    assert_eq!(facts.keys.len(), MAX_DEPTH);
    assert!(!facts.notes.is_empty());
    // Exactly at the bound: nothing is cut.
    let json = format!("{}1{}", "{\"k\": ".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
    let facts = extract(ConfigFormat::Json, &json).expect("grammar loads");
    assert_eq!(facts.keys.len(), MAX_DEPTH);
    assert!(facts.notes.is_empty(), "{:?}", facts.notes);
}

#[test]
fn yaml_indented_past_the_parsers_limit_is_refused_not_parsed() {
    // Either of these aborted the process inside tree-sitter-yaml's scanner.
    let nested: String = std::iter::once("a:\n".to_string())
        .chain((1..400).map(|i| format!("{}a:\n", " ".repeat(i))))
        .collect();
    let dashes = "- ".repeat(2000);
    for text in [nested.as_str(), dashes.as_str()] {
        let facts = extract(ConfigFormat::Yaml, text).expect("an answer");
        let malformed = facts.malformed.expect("refused");
        assert!(malformed.message.contains("not parsed"), "{malformed:?}");
        assert!(facts.keys.is_empty());
    }
    // The densest nesting under the limit (a mapping and a compact sequence at every
    // column) fits the scanner's state.
    let dense: String = (0..MAX_YAML_INDENT - 1)
        .map(|i| format!("{0}k{i}:\n{0}-\n", " ".repeat(i)))
        .collect();
    let facts = extract(ConfigFormat::Yaml, &dense).expect("an answer");
    assert!(!facts.keys.is_empty());
    // Just under the limit parses.
    let nested: String = std::iter::once("a:\n".to_string())
        .chain((1..MAX_YAML_INDENT).map(|i| format!("{}a:\n", " ".repeat(i))))
        .collect();
    let facts = extract(ConfigFormat::Yaml, &nested).expect("an answer");
    assert!(facts.malformed.is_none(), "{:?}", facts.malformed);
    assert_eq!(facts.keys.len(), MAX_DEPTH);
}

#[test]
fn keys_past_the_count_bound_are_dropped_with_a_note() {
    let text: String = (0..MAX_KEYS + 50)
        .map(|i| format!("k{i} = {i}\n"))
        .collect();
    let facts = extract(ConfigFormat::Toml, &text).expect("grammar loads");
    assert_eq!(facts.keys.len(), MAX_KEYS);
    assert_eq!(facts.notes.len(), 1, "{:?}", facts.notes);
    assert!(facts.notes[0].contains("distinct keys"));
}

#[test]
fn repeated_instances_are_one_key() {
    let items: Vec<String> = (0..5000).map(|i| format!("{{\"id\": {i}}}")).collect();
    let text = format!("{{\"rows\": [{}]}}", items.join(","));
    let facts = extract(ConfigFormat::Json, &text).expect("grammar loads");
    let paths: Vec<&str> = facts.keys.iter().map(|k| k.path.as_str()).collect();
    assert_eq!(paths, ["rows", "rows[]", "rows[].id"]);
}

#[test]
fn alias_bombs_stop_at_the_work_bound() {
    // Each level holds ten aliases of the one before: 10^9 nodes once expanded.
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        let refs = vec![format!("*a{p}"); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let facts = extract(ConfigFormat::Yaml, &text).expect("grammar loads");
    assert!(
        facts.keys.iter().any(|k| k.path == "a2[][][]"),
        "{:?}",
        facts.keys
    );
    assert!(
        facts.notes.iter().any(|n| n.contains("syntax nodes")),
        "{:?}",
        facts.notes
    );
    // A self-referencing anchor is not followed into itself.
    let facts = extract(ConfigFormat::Yaml, "a: &x {b: *x}\n").expect("grammar loads");
    assert!(facts.keys.len() <= 3, "{:?}", facts.keys);
}

#[test]
fn config_files_are_recognised_by_name_and_lock_files_are_not() {
    assert_eq!(format_of("Cargo.toml"), Some(ConfigFormat::Toml));
    assert_eq!(
        format_of(".github/workflows/ci.yml"),
        Some(ConfigFormat::Yaml)
    );
    assert_eq!(format_of("deploy/k8s.yaml"), Some(ConfigFormat::Yaml));
    assert_eq!(format_of("tsconfig.json"), Some(ConfigFormat::Json));
    assert_eq!(
        format_of(".vscode/settings.jsonc"),
        Some(ConfigFormat::Json)
    );
    for not in [
        "package-lock.json",
        "web/npm-shrinkwrap.json",
        "pnpm-lock.yaml",
        "Cargo.lock",
        "poetry.lock",
        "yarn.lock",
        "dist/app.min.json",
        "src/main.rs",
        "toml",
    ] {
        assert_eq!(format_of(not), None, "{not}");
    }
}

#[test]
fn public_config_globs_are_checked() {
    let public =
        PublicConfig::new(&["config/*.toml".into(), "deploy/**".into()]).expect("valid globs");
    assert!(public.is_public("config/app.toml"));
    assert!(public.is_public("deploy/k8s/web.yaml"));
    assert!(!public.is_public("deploy/README.md"), "not a config file");
    assert!(!public.is_public("src/config/app.toml"));
    assert!(PublicConfig::new(&[]).expect("empty").is_empty());
    let err = PublicConfig::new(&["config/[.toml".into()]).expect_err("bad glob");
    assert!(err.to_string().contains("config/[.toml"), "{err}");
    let err = PublicConfig::new(&["src/*.rs".into()]).expect_err("not config");
    assert!(err.to_string().contains(".toml, .yaml"), "{err}");
}

mod random {
    use super::super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Arbitrary bytes in any format: an answer (possibly malformed) within the
        /// bounds, never a panic.
        #[test]
        fn any_input_gives_bounded_keys(text in "[\\[\\]{}:,\"'=.&*<>!#\\- a-z0-9\\n]{0,400}") {
            for format in [ConfigFormat::Toml, ConfigFormat::Yaml, ConfigFormat::Json] {
                let facts = extract(format, &text).expect("grammar loads");
                prop_assert!(facts.keys.len() <= MAX_KEYS);
                prop_assert!(facts.notes.len() <= 3);
                for key in &facts.keys {
                    prop_assert!(key.line >= 1);
                    prop_assert!(key.path.len() <= MAX_DEPTH * (MAX_SEGMENT_CHARS * 6 + 4));
                }
            }
        }
    }
}
