//! The questions the UI's JSON endpoints answer, each one CLI command line with `--json`
//! (so an endpoint returns exactly what that command prints), parsed from the request's
//! path and query with every parameter checked: a request can only ever run one of
//! these read-only commands, never an argument it made up.

use std::collections::BTreeMap;

/// Most chain events one page may ask for.
pub const MAX_PAGE: u64 = 200;

/// One endpoint's question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// `weft status --json`.
    Status,
    /// `weft peers --json`.
    Peers,
    /// `weft chain head --json`.
    Head,
    /// `weft chain log --from F --limit L [--kind K] --json`, as one array.
    Chain {
        /// First sequence.
        from: u64,
        /// At most this many events.
        limit: u64,
        /// A kind or source filter.
        kind: Option<String>,
    },
    /// `weft chain proof SEQ --json`.
    Proof(u64),
    /// `weft coordinate report [SEQ] --json`.
    Impact(Option<u64>),
    /// `weft coordinate status --json`.
    Release,
    /// `weft modules --json`.
    Modules,
    /// `weft cluster status --json`.
    Cluster,
}

/// A request the endpoints do not answer: the HTTP status and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadQuestion {
    /// No such endpoint.
    #[error("no endpoint {0}")]
    NotFound(String),
    /// A parameter that is missing, unknown or out of range.
    #[error("{0}")]
    Invalid(String),
}

fn number(params: &BTreeMap<String, String>, key: &str) -> Result<Option<u64>, BadQuestion> {
    params
        .get(key)
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                BadQuestion::Invalid(format!("{key}={v:?}: not a non-negative integer"))
            })
        })
        .transpose()
}

/// A kind or source as the chain writes them (`[a-z][a-z0-9_.-]*`, at most 64).
fn valid_kind(kind: &str) -> bool {
    let mut chars = kind.chars();
    kind.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
}

impl Question {
    /// The question of `path` (after `/api`) with the query's `params`; a parameter the
    /// endpoint does not take is refused, not ignored.
    pub fn parse(path: &str, params: &BTreeMap<String, String>) -> Result<Question, BadQuestion> {
        let allowed: &[&str] = match path {
            "/chain" => &["from", "limit", "kind"],
            "/impact" => &["seq"],
            _ => &[],
        };
        if let Some(extra) = params.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(BadQuestion::Invalid(format!(
                "{path} takes no parameter {extra:?}"
            )));
        }
        Ok(match path {
            "/status" => Question::Status,
            "/peers" => Question::Peers,
            "/head" => Question::Head,
            "/release" => Question::Release,
            "/modules" => Question::Modules,
            "/cluster" => Question::Cluster,
            "/impact" => Question::Impact(number(params, "seq")?),
            "/chain" => {
                let limit = number(params, "limit")?.unwrap_or(50);
                if limit == 0 || limit > MAX_PAGE {
                    return Err(BadQuestion::Invalid(format!(
                        "limit={limit}: a page holds 1 to {MAX_PAGE} events"
                    )));
                }
                let kind = params.get("kind").cloned();
                if let Some(k) = kind.as_deref().filter(|k| !valid_kind(k)) {
                    return Err(BadQuestion::Invalid(format!(
                        "kind={k:?}: not an event kind or source"
                    )));
                }
                Question::Chain {
                    from: number(params, "from")?.unwrap_or(0),
                    limit,
                    kind,
                }
            }
            _ => match path.strip_prefix("/proof/") {
                Some(seq) => Question::Proof(seq.parse().map_err(|_| {
                    BadQuestion::Invalid(format!("/proof/{seq}: not an event sequence"))
                })?),
                None => return Err(BadQuestion::NotFound(format!("/api{path}"))),
            },
        })
    }

    /// The command line (without the program name) that answers it.
    pub fn args(&self) -> Vec<String> {
        let mut args: Vec<String> = match self {
            Question::Status => vec!["status".into()],
            Question::Peers => vec!["peers".into()],
            Question::Head => vec!["chain".into(), "head".into()],
            Question::Release => vec!["coordinate".into(), "status".into()],
            Question::Modules => vec!["modules".into()],
            Question::Cluster => vec!["cluster".into(), "status".into()],
            Question::Proof(seq) => vec!["chain".into(), "proof".into(), seq.to_string()],
            Question::Impact(seq) => {
                let mut a = vec!["coordinate".into(), "report".into()];
                a.extend(seq.map(|s| s.to_string()));
                a
            }
            Question::Chain { from, limit, kind } => {
                let mut a = vec![
                    "chain".into(),
                    "log".into(),
                    "--from".into(),
                    from.to_string(),
                    "--limit".into(),
                    limit.to_string(),
                ];
                if let Some(k) = kind {
                    a.extend(["--kind".into(), k.clone()]);
                }
                a
            }
        };
        args.push("--json".into());
        args
    }

    /// The request path the page asks it by, canonical (parameters in a fixed order,
    /// defaults written out): the key of its answer in a static export.
    pub fn key(&self) -> String {
        match self {
            Question::Status => "/api/status".into(),
            Question::Peers => "/api/peers".into(),
            Question::Head => "/api/head".into(),
            Question::Release => "/api/release".into(),
            Question::Modules => "/api/modules".into(),
            Question::Cluster => "/api/cluster".into(),
            Question::Proof(seq) => format!("/api/proof/{seq}"),
            Question::Impact(None) => "/api/impact".into(),
            Question::Impact(Some(seq)) => format!("/api/impact?seq={seq}"),
            Question::Chain { from, limit, kind } => match kind {
                Some(k) => format!("/api/chain?from={from}&limit={limit}&kind={k}"),
                None => format!("/api/chain?from={from}&limit={limit}"),
            },
        }
    }

    /// Whether the command prints JSON lines (one value per line) rather than one value.
    pub fn prints_lines(&self) -> bool {
        matches!(self, Question::Chain { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn each_endpoint_is_one_fixed_command_line() {
        let chain = Question::parse("/chain", &params(&[("kind", "coordinate"), ("from", "5")]));
        assert_eq!(
            chain.as_ref().map(Question::args),
            Ok([
                "chain",
                "log",
                "--from",
                "5",
                "--limit",
                "50",
                "--kind",
                "coordinate",
                "--json"
            ]
            .map(String::from)
            .to_vec())
        );
        assert_eq!(
            chain.map(|q| q.key()),
            Ok("/api/chain?from=5&limit=50&kind=coordinate".to_string())
        );
        assert_eq!(
            Question::parse("/proof/7", &params(&[])).map(|q| q.args()),
            Ok(["chain", "proof", "7", "--json"].map(String::from).to_vec())
        );
        assert_eq!(
            Question::parse("/impact", &params(&[("seq", "3")])).map(|q| q.key()),
            Ok("/api/impact?seq=3".to_string())
        );
    }

    #[test]
    fn parameters_that_could_smuggle_arguments_are_refused() {
        for (path, ps) in [
            ("/chain", params(&[("kind", "--peer")])),
            ("/chain", params(&[("kind", "a b")])),
            ("/chain", params(&[("from", "-1")])),
            ("/chain", params(&[("limit", "0")])),
            ("/chain", params(&[("limit", "201")])),
            ("/chain", params(&[("peer", "x")])),
            ("/status", params(&[("x", "1")])),
            ("/proof/--json", params(&[])),
            ("/proof/", params(&[])),
        ] {
            assert!(
                matches!(Question::parse(path, &ps), Err(BadQuestion::Invalid(_))),
                "{path} {ps:?}"
            );
        }
        assert!(matches!(
            Question::parse("/chain/../status", &params(&[])),
            Err(BadQuestion::NotFound(_))
        ));
    }
}
