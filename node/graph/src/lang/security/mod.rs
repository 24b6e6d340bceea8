//! Security facts (the `sec-*` rules of `docs/assessment.md`): what every language
//! shares — whether text reads as SQL, the credential patterns, the name and entropy test
//! of a hard-coded secret, redaction — and one module per language deciding which of its
//! syntax nodes are the constructs. Everything is syntactic: an argument is "literal" or
//! not, no value is followed through variables.

pub(super) mod go;
pub(super) mod javascript;
pub(super) mod python;
pub(super) mod rust;

use super::shared::Ctx;
use crate::facts::SecurityKind;
use std::collections::BTreeMap;
use tree_sitter::Node;

/// Shells whose `-c` turns the next argument into a command line.
const SHELLS: [&str; 6] = ["sh", "bash", "/bin/sh", "/bin/bash", "zsh", "/usr/bin/env"];

/// Longest prefix of an expression searched for SQL keywords: enough for any query, and
/// nested query calls over a huge string cannot cost more than this each.
const SQL_SCAN_MAX: usize = 4096;

/// Words of SQL statements; text holding two different ones reads as SQL.
const SQL_WORDS: [&str; 19] = [
    "select", "insert", "update", "delete", "drop", "create", "alter", "truncate", "pragma",
    "from", "into", "set", "table", "where", "values", "join", "order", "group", "limit",
];

/// Parts of a normalised name (lower case, letters and digits only) that make the string
/// assigned to it a credential.
const SECRET_NAMES: [&str; 10] = [
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "authkey",
    "credential",
];

/// Parts of a name that make it about a credential rather than one: the name of a
/// header, a field, a file, an environment variable, a token's type...
const NOT_SECRET_NAMES: [&str; 20] = [
    "tokenizer",
    "clientid",
    "expir",
    "date",
    "time",
    "type",
    "name",
    "header",
    "path",
    "file",
    "env",
    "prompt",
    "label",
    "field",
    "length",
    "pattern",
    "regex",
    "url",
    "endpoint",
    "placeholder",
];

/// Words of placeholder values (`changeme`, `your-token-here`), lower case.
const PLACEHOLDERS: [&str; 12] = [
    "changeme",
    "change_me",
    "example",
    "placeholder",
    "dummy",
    "fake",
    "redacted",
    "xxxx",
    "your",
    "test",
    "sample",
    "****",
];

/// Length bounds, in characters, of a value taken for a secret by its name alone.
const SECRET_LEN: std::ops::RangeInclusive<usize> = 8..=256;

/// Least Shannon entropy, bits per character, of a secret found by its name (and of a
/// token matching a pattern): `hunter2!` has 3.0, `aaaaaaaa` 0.
const MIN_ENTROPY: f64 = 3.0;

/// Characters of a secret shown in a finding, at most (and at most a quarter of it).
const SHOWN_MAX: usize = 4;

/// Where the argument of a call stands: literal or built at run time, and how.
pub(super) type Built = Option<&'static str>;

/// Deepest nesting of lists, parentheses and operators looked into when deciding whether
/// an argument is literal; deeper is "an expression" (hostile nesting cannot exhaust the
/// stack).
const BUILT_DEPTH: u32 = 16;

/// Reports `construct` at `node` when its argument was built at run time, `built` saying
/// how: "`os.system` with a non-literal command (f-string)".
fn non_literal(
    cx: &mut Ctx<'_>,
    node: Node<'_>,
    built: Built,
    kind: SecurityKind,
    construct: &str,
    what: &str,
) {
    if let Some(how) = built {
        let reason = format!("non-literal {what} ({how})");
        report(cx, node, kind, construct, reason);
    }
}

/// The first of `node`'s parts (named children, comments left out) that `each` finds
/// built at run time: a list or tuple is literal when all its elements are.
fn any_built<'t>(node: Node<'t>, mut each: impl FnMut(Node<'t>) -> Built) -> Built {
    let mut cursor = node.walk();
    let parts: Vec<Node<'t>> = node
        .named_children(&mut cursor)
        .filter(|c| !c.kind().contains("comment"))
        .collect();
    parts.into_iter().find_map(&mut each)
}

/// How a binary expression (`left`, `operator`, `right` fields) is built, `each` telling
/// how an operand is: two literals make a constant, `%` formats, `+` concatenates.
fn binary<'t>(node: Node<'t>, each: impl Fn(Node<'t>) -> Built) -> Built {
    let operands = ["left", "right"].map(|f| node.child_by_field_name(f).and_then(&each));
    match (
        operands,
        node.child_by_field_name("operator").map(|o| o.kind()),
    ) {
        ([None, None], _) => None,
        (_, Some("%")) => Some("%-formatting"),
        (_, Some("+")) => Some("concatenation"),
        _ => Some("expression"),
    }
}

/// Node kinds of the `{...}` parts of f-strings and template literals.
const INTERPOLATIONS: [&str; 2] = ["interpolation", "template_substitution"];

/// The content of a string literal (`node` of one of `kinds`; its parts those whose
/// kind `part` accepts, escapes as written), or None for another node or a literal
/// with interpolations.
fn content(
    cx: &Ctx<'_>,
    node: Node<'_>,
    kinds: &[&str],
    part: impl Fn(&str) -> bool,
) -> Option<String> {
    if !kinds.contains(&node.kind()) {
        return None;
    }
    let mut cursor = node.walk();
    let parts: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
    if parts.iter().any(|p| INTERPOLATIONS.contains(&p.kind())) {
        return None;
    }
    Some(
        parts
            .iter()
            .filter(|p| part(p.kind()))
            .map(|p| cx.text(*p))
            .collect(),
    )
}

/// The `index`th argument of an argument list, comments left out.
fn nth_argument(args: Option<Node<'_>>, index: usize) -> Option<Node<'_>> {
    let args = args?;
    let mut cursor = args.walk();
    let found = args
        .named_children(&mut cursor)
        .filter(|c| !c.kind().contains("comment"))
        .nth(index);
    found
}

/// Reports TLS verification turned off by `construct` at `node`.
fn tls_off(cx: &mut Ctx<'_>, node: Node<'_>, construct: &str, reason: &str) {
    report(
        cx,
        node,
        SecurityKind::TlsVerificationDisabled,
        construct,
        reason.to_string(),
    );
}

/// Reports the query call `construct` at `node` when its argument `query` is built
/// (`how`) one of the `formatting` ways and reads as SQL; returns whether it did.
fn formatted_sql(
    cx: &mut Ctx<'_>,
    node: Node<'_>,
    construct: &str,
    query: Node<'_>,
    how: Built,
    formatting: &[&str],
) -> bool {
    let how = how.filter(|how| formatting.contains(how) && looks_like_sql(cx.text(query)));
    non_literal(
        cx,
        node,
        how,
        SecurityKind::SqlInjection,
        construct,
        "SQL string",
    );
    how.is_some()
}

/// Records a fact for `node` (shorthand for the language modules).
fn report(
    cx: &mut Ctx<'_>,
    node: Node<'_>,
    kind: SecurityKind,
    construct: &str,
    reason: String,
) -> bool {
    cx.security(node, kind, construct, reason)
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or("")
}

/// Whether `text` reads as SQL: it holds two different SQL keywords as whole words, in
/// any case (`SELECT … FROM`, `DELETE FROM`, `UPDATE … SET`), or `PRAGMA`.
pub(super) fn looks_like_sql(text: &str) -> bool {
    let mut seen = 0u32;
    for word in prefix(text, SQL_SCAN_MAX).split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
    {
        if let Some(i) = SQL_WORDS.iter().position(|w| w.eq_ignore_ascii_case(word)) {
            seen |= 1 << i;
            // SQLite's `PRAGMA` is SQL on its own.
            if seen.count_ones() >= 2 || word.eq_ignore_ascii_case("pragma") {
                return true;
            }
        }
    }
    false
}

/// Whether a variable, field or key of this name holds a credential (`DB_PASSWORD`,
/// `apiKey`, `self.secret_key`), by the last segment of the name.
pub(super) fn secret_name(name: &str) -> bool {
    let last = name
        .rsplit(['.', ':', '>'])
        .next()
        .unwrap_or(name)
        .trim_matches(['"', '\'', '`', '[', ']']);
    let normal: String = last
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    SECRET_NAMES.iter().any(|w| normal.contains(w))
        && !NOT_SECRET_NAMES.iter().any(|w| normal.contains(w))
}

/// Shannon entropy of `text` in bits per character.
pub(super) fn entropy(text: &str) -> f64 {
    let mut counts: BTreeMap<char, u32> = BTreeMap::new();
    let mut total = 0u32;
    for c in text.chars() {
        *counts.entry(c).or_default() += 1;
        total = total.saturating_add(1);
    }
    let total = f64::from(total.max(1));
    counts
        .values()
        .map(|&n| {
            let p = f64::from(n) / total;
            -p * p.log2()
        })
        .sum()
}

/// `secret` as a finding may show it: its first characters (at most `shown`, never more
/// than a quarter of it) and its length.
pub(super) fn redact(secret: &str, shown: usize) -> String {
    let len = secret.chars().count();
    let head: String = secret.chars().take(shown.min(len / 4)).collect();
    format!("`{head}…` ({len} chars)")
}

/// Characters of passwords that identifiers, paths and keys of a map do not hold.
const PASSWORD_SYMBOLS: &str = "!@#$%^&*+=?~|;,";

/// Why the string `value` assigned to a credential's name is a hard-coded secret, or
/// None when it does not look like one: outside 8–256 characters, holding whitespace
/// (a sentence), a placeholder (`changeme`, `${TOKEN}`, `{.token}`, `%s`), an
/// environment variable's name (`GITHUB_TOKEN`), a path, URL or pattern, a credential word itself
/// (`aws_secret_access_key`, `refresh_token`: the value names a key, it is not one),
/// fewer than two digits and no password symbol (`Authorization`,
/// `V1LocalObjectReference`), or below 3.0 bits of entropy per character.
pub(super) fn secret_value(value: &str) -> Option<String> {
    let len = value.chars().count();
    let lower = value.to_ascii_lowercase();
    let normal: String = lower.chars().filter(char::is_ascii_alphanumeric).collect();
    let env_name = value
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && value.starts_with(|c: char| c.is_ascii_uppercase());
    let templated = ["${", "{{", "{.", "%s", "%(", "{}", "<"]
        .iter()
        .any(|t| value.contains(t));
    // Paths, URLs, references and patterns (`[A-Z]\w*`, `^ghp_`).
    let located = ["/", "./", "http://", "https://", "$", "%", "[", "^", "("]
        .iter()
        .any(|p| value.starts_with(p));
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let mixed = digits >= 2 || value.chars().any(|c| PASSWORD_SYMBOLS.contains(c));
    let plausible = SECRET_LEN.contains(&len)
        && !value.chars().any(char::is_whitespace)
        && !env_name
        && !templated
        && !located
        && mixed
        && !SECRET_NAMES.iter().any(|w| normal.contains(w))
        && !PLACEHOLDERS.iter().any(|p| lower.contains(p));
    let bits = entropy(value);
    (plausible && bits >= MIN_ENTROPY).then(|| {
        format!(
            "a string literal of {bits:.1} bits/char entropy, shown as {}",
            redact(value, SHOWN_MAX)
        )
    })
}

/// A credential found in a literal by its shape.
pub(super) struct PatternMatch {
    /// What it is (`AWS access key id`).
    pub(super) label: &'static str,
    /// Byte offset in the text searched.
    pub(super) offset: usize,
    /// Why it is reported, the token redacted.
    pub(super) reason: String,
}

/// Token prefixes: (prefix, label, least length of the rest, the rest's characters).
type TokenShape = (&'static str, &'static str, usize, fn(u8) -> bool);

fn upper_digit(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn alnum_dash(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The credential formats recognised anywhere in a string literal.
const TOKENS: [TokenShape; 13] = [
    ("AKIA", "AWS access key id", 16, upper_digit),
    ("ASIA", "AWS temporary access key id", 16, upper_digit),
    ("ghp_", "GitHub personal access token", 36, alnum),
    ("gho_", "GitHub OAuth token", 36, alnum),
    ("ghu_", "GitHub user-to-server token", 36, alnum),
    ("ghs_", "GitHub server-to-server token", 36, alnum),
    ("ghr_", "GitHub refresh token", 36, alnum),
    ("github_pat_", "GitHub fine-grained token", 22, alnum_dash),
    ("xoxb-", "Slack bot token", 10, alnum_dash),
    ("xoxp-", "Slack user token", 10, alnum_dash),
    ("xoxa-", "Slack app token", 10, alnum_dash),
    ("sk_live_", "Stripe secret key", 24, alnum),
    ("AIza", "Google API key", 35, alnum_dash),
];

/// Least base64 characters after a `-----BEGIN … PRIVATE KEY-----` line for it to be a
/// key rather than the delimiter a PEM parser looks for.
const PEM_BODY_MIN: usize = 64;

/// The first credential in `text` recognised by its format: AWS key ids (`AKIA` + 16),
/// GitHub (`ghp_` + 36, ...), Slack (`xoxb-`...), Stripe (`sk_live_`) and Google
/// (`AIza`) tokens with at least 3.0 bits/char entropy and not AWS's documented
/// `…EXAMPLE` key, and PEM private key blocks with a body.
pub(super) fn secret_pattern(text: &str) -> Option<PatternMatch> {
    let bytes = text.as_bytes();
    for (prefix, label, least, class) in TOKENS {
        for (at, _) in text.match_indices(prefix) {
            if at > 0 && bytes.get(at - 1).copied().is_some_and(alnum) {
                continue;
            }
            let rest_start = at + prefix.len();
            let rest = bytes
                .get(rest_start..)
                .unwrap_or(&[])
                .iter()
                .take_while(|&&b| class(b))
                .count();
            let token = text.get(at..rest_start + rest).unwrap_or("");
            if rest < least || token.contains("EXAMPLE") || entropy(token) < MIN_ENTROPY {
                continue;
            }
            let reason = format!(
                "a string literal matching the {label} format, shown as {}",
                redact(token, prefix.len())
            );
            return Some(PatternMatch {
                label,
                offset: at,
                reason,
            });
        }
    }
    private_key(text)
}

/// A PEM private key block with a body (`-----BEGIN RSA PRIVATE KEY-----` and base64).
fn private_key(text: &str) -> Option<PatternMatch> {
    for (at, _) in text.match_indices("-----BEGIN ") {
        let after = text.get(at + 11..)?;
        let header = prefix(after, 64);
        let Some(end) = header.find("-----") else {
            continue;
        };
        if !header
            .get(..end)
            .is_some_and(|h| h.ends_with("PRIVATE KEY"))
        {
            continue;
        }
        // The body: base64 lines (line breaks as written or as `\n` escapes) up to the
        // first other character (the `-----END` line, or the text of a placeholder).
        let rest = prefix(after.get(end + 5..).unwrap_or(""), 4096).replace("\\n", "\n");
        let body: String = rest
            .chars()
            .take_while(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=') || c.is_whitespace()
            })
            .filter(|c| !c.is_whitespace())
            .collect();
        let base64 = if entropy(&body) >= MIN_ENTROPY {
            body.len()
        } else {
            0
        };
        if base64 >= PEM_BODY_MIN {
            return Some(PatternMatch {
                label: "private key",
                offset: at,
                reason: format!(
                    "a string literal holding a PEM `{}` block with its body",
                    header.get(..end).unwrap_or("")
                ),
            });
        }
    }
    None
}

/// Reports the credential `text` (a string literal's source text, at `node`) holds by
/// its format; returns whether there was one.
pub(super) fn scan_literal(cx: &mut Ctx<'_>, node: Node<'_>, text: &str) -> bool {
    let Some(found) = secret_pattern(text) else {
        return false;
    };
    let row = node.start_position().row
        + text
            .get(..found.offset)
            .map_or(0, |before| before.matches('\n').count());
    cx.security_at(
        row,
        SecurityKind::HardcodedSecret,
        found.label,
        found.reason,
    );
    true
}

/// Reports `value` (a plain string literal's content, at `node`) assigned to `name` if the
/// name is a credential's and the value looks like one — unless the value matches a
/// credential format, which the literal's own scan reports.
pub(super) fn named_secret(cx: &mut Ctx<'_>, node: Node<'_>, name: &str, value: &str) {
    if !secret_name(name) || secret_pattern(value).is_some() {
        return;
    }
    if let Some(reason) = secret_value(value) {
        let last = name.rsplit(['.', ':', '>']).next().unwrap_or(name);
        let construct = format!("secret {}", prefix(last.trim_matches(['"', '\'', '`']), 64));
        if report(cx, node, SecurityKind::HardcodedSecret, &construct, reason) {
            cx.heuristic();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{entropy, looks_like_sql, redact, secret_name, secret_pattern, secret_value};

    #[test]
    fn sql_needs_two_keywords() {
        assert!(looks_like_sql("SELECT * FROM users WHERE id = "));
        assert!(looks_like_sql("delete from t"));
        assert!(!looks_like_sql(" WHERE id = "));
        assert!(!looks_like_sql("Selected from the list"));
        assert!(!looks_like_sql("hello {name}"));
    }

    #[test]
    fn secret_names_and_values() {
        for name in [
            "DB_PASSWORD",
            "apiKey",
            "self.secret_key",
            "AUTH_TOKEN",
            "\"password\"",
        ] {
            assert!(secret_name(name), "{name}");
        }
        for name in [
            "token_type",
            "password_field",
            "TOKEN_ENV",
            "tokenizer",
            "user",
        ] {
            assert!(!secret_name(name), "{name}");
        }
        assert!(secret_value("s3cr3t-P4ssw0rd").is_some());
        for value in [
            "",
            "changeme",
            "hunter",
            "GITHUB_TOKEN",
            "Authorization",
            "${TOKEN}",
            "/etc/secret",
            "aaaaaaaa1",
            "two words 123",
        ] {
            assert!(secret_value(value).is_none(), "{value}");
        }
        assert!(entropy("aaaa") < 0.1);
        assert!((entropy("abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn redaction_shows_little_and_respects_char_boundaries() {
        assert_eq!(redact("s3cr3t-P4ssw0rd", 4), "`s3c…` (15 chars)");
        assert_eq!(redact("s3cr3t-P4ssw0rd!", 4), "`s3cr…` (16 chars)");
        assert_eq!(redact("ééééééé", 4), "`é…` (7 chars)");
        assert_eq!(redact("ab", 4), "`…` (2 chars)");
    }

    #[test]
    fn patterns() {
        let aws = secret_pattern("key = AKIAQWERTYUIOP1234XZ").expect("aws");
        assert_eq!(aws.label, "AWS access key id");
        assert!(!aws.reason.contains("QWERTY"));
        assert!(secret_pattern("AKIAIOSFODNN7EXAMPLE").is_none());
        assert!(secret_pattern("ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx").is_none());
        assert!(secret_pattern("-----BEGIN RSA PRIVATE KEY-----").is_none());
        let body = "MIIEowIBAAKCAQEA7bq9dQ2N0Zx4f5J8r1kP3mW2c6vYhT0sLq9ZbXe1nR4uK8oJ";
        let pem = format!("-----BEGIN RSA PRIVATE KEY-----\\n{body}\\n");
        assert_eq!(secret_pattern(&pem).map(|m| m.label), Some("private key"));
        assert!(secret_pattern("é-----BEGIN ééé").is_none());
    }
}
