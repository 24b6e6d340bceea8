//! VERSION REQUIREMENTS: whether a peer's declared requirement admits a version, read in
//! its ecosystem's syntax (Cargo, npm ranges, PEP 440 specifiers, Go's exact `require`)
//! and matched with the `semver` crate.

use crate::deps::Ecosystem;
use semver::{Version, VersionReq};

/// Whether a requirement admits a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admits {
    /// The requirement takes this version.
    Yes,
    /// It pins something else: the peer is not on this version until it changes it.
    No,
    /// The requirement or the version could not be read; treated as admitting it.
    Unknown,
}

/// A version in any of the ecosystems' spellings, as semver: `v1.2` and `1.2` are
/// `1.2.0`; PEP 440 suffixes (`.post1`, `rc1`) are dropped.
pub fn parse_version(text: &str) -> Option<Version> {
    let text = text.trim().trim_start_matches(['v', 'V', '=']);
    if let Ok(v) = Version::parse(text) {
        return Some(v);
    }
    let numeric: Vec<&str> = text
        .split('.')
        .take_while(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        .take(3)
        .collect();
    if numeric.is_empty() {
        return None;
    }
    let mut parts: Vec<u64> = numeric.iter().filter_map(|p| p.parse().ok()).collect();
    parts.resize(3, 0);
    Some(Version::new(parts[0], parts[1], parts[2]))
}

/// Whether `requirement` (as written in a manifest of `ecosystem`) admits `version`.
pub fn admits(ecosystem: Ecosystem, requirement: &str, version: &str) -> Admits {
    let Some(version) = parse_version(version) else {
        return Admits::Unknown;
    };
    let answer = match ecosystem {
        Ecosystem::Cargo => VersionReq::parse(requirement.trim())
            .ok()
            .map(|r| r.matches(&version)),
        Ecosystem::Npm => npm(requirement, &version),
        Ecosystem::Python => python(requirement, &version),
        // `require m v1.2.3` builds with exactly that version until the peer bumps it.
        Ecosystem::Go => parse_version(requirement).map(|r| r == version),
    };
    match answer {
        Some(true) => Admits::Yes,
        Some(false) => Admits::No,
        None => Admits::Unknown,
    }
}

/// npm ranges: `a || b` alternatives of space-separated comparators, `a - b` hyphen
/// ranges, and a bare version meaning exactly that version.
fn npm(range: &str, version: &Version) -> Option<bool> {
    let mut any = false;
    for alternative in range.split("||") {
        let words: Vec<&str> = alternative.split_whitespace().collect();
        let comparators: Vec<String> = match words.as_slice() {
            [] => vec!["*".into()],
            [low, "-", high] => vec![format!(">={low}"), format!("<={high}")],
            _ => glue_operators(&words)
                .into_iter()
                .map(|w| match w.chars().next() {
                    Some(c) if c.is_ascii_digit() && !w.contains(['x', 'X', '*']) => {
                        format!("={w}")
                    }
                    _ if w == "latest" => "*".into(),
                    _ => w,
                })
                .collect(),
        };
        any |= VersionReq::parse(&comparators.join(", "))
            .ok()?
            .matches(version);
    }
    Some(any)
}

/// `>= 1.2` written with a space is one comparator.
fn glue_operators(words: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending = String::new();
    for w in words {
        if w.chars().all(|c| "<>=~^".contains(c)) {
            pending.push_str(w);
        } else {
            out.push(format!("{pending}{w}"));
            pending.clear();
        }
    }
    out
}

/// PEP 440 specifiers: comma-separated `==`, `!=`, `>=`, `<=`, `>`, `<`, `~=`, `===`,
/// with `.*` prefixes on `==` and `!=`.
fn python(spec: &str, version: &Version) -> Option<bool> {
    for clause in spec.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let op_len = clause
            .find(|c: char| !"<>=!~".contains(c))
            .unwrap_or(clause.len());
        let (op, operand) = (&clause[..op_len], clause[op_len..].trim());
        let holds = match op {
            "==" | "===" | "!=" => {
                let equal = match operand.strip_suffix(".*") {
                    Some(prefix) => VersionReq::parse(&format!("={prefix}"))
                        .ok()?
                        .matches(version),
                    None => parse_version(operand)? == *version,
                };
                equal == (op != "!=")
            }
            "~=" => {
                // ~=1.4.2 is >=1.4.2, ==1.4.*; ~=1.4 is >=1.4, ==1.*.
                let parts: Vec<&str> = operand.split('.').collect();
                if parts.len() < 2 {
                    return None;
                }
                let prefix = parts[..parts.len() - 1].join(".");
                *version >= parse_version(operand)?
                    && VersionReq::parse(&format!("={prefix}"))
                        .ok()?
                        .matches(version)
            }
            ">=" | "<=" | ">" | "<" => {
                let bound = parse_version(operand)?;
                match op {
                    ">=" => *version >= bound,
                    "<=" => *version <= bound,
                    ">" => *version > bound,
                    _ => *version < bound,
                }
            }
            _ => return None,
        };
        if !holds {
            return Some(false);
        }
    }
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Admits::*;

    #[test]
    fn each_ecosystem_reads_its_own_syntax() {
        let cases = [
            (Ecosystem::Cargo, "1.2", "1.9.0", Yes),
            (Ecosystem::Cargo, "1.2", "2.0.0", No),
            (Ecosystem::Cargo, "=1.0.0", "1.0.1", No),
            (Ecosystem::Cargo, ">=1, <3", "2.5.0", Yes),
            (Ecosystem::Npm, "1.0.0", "1.0.1", No),
            (Ecosystem::Npm, "^1.0.0", "1.4.0", Yes),
            (Ecosystem::Npm, "~1.0.0", "1.1.0", No),
            (Ecosystem::Npm, ">= 1.0.0 < 2", "1.5.0", Yes),
            (Ecosystem::Npm, "1.x || 3.x", "3.1.0", Yes),
            (Ecosystem::Npm, "1.0.0 - 1.2.0", "1.3.0", No),
            (Ecosystem::Npm, "*", "9.0.0", Yes),
            (Ecosystem::Python, "==1.0", "1.0.0", Yes),
            (Ecosystem::Python, "==1.0", "2.0.0", No),
            (Ecosystem::Python, ">=1,<2", "1.7", Yes),
            (Ecosystem::Python, "~=1.4", "1.9", Yes),
            (Ecosystem::Python, "~=1.4.2", "1.5.0", No),
            (Ecosystem::Python, "==1.*", "1.3", Yes),
            (Ecosystem::Python, "!=1.3", "1.3", No),
            (Ecosystem::Go, "v1.0.0", "v1.0.0", Yes),
            (Ecosystem::Go, "v1.0.0", "1.1.0", No),
            (Ecosystem::Cargo, "not a range", "1.0.0", Unknown),
            (Ecosystem::Npm, "^1", "banana", Unknown),
        ];
        for (eco, req, version, expected) in cases {
            assert_eq!(
                admits(eco, req, version),
                expected,
                "{eco:?} {req} {version}"
            );
        }
    }
}
