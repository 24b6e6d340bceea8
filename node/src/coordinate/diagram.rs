//! An impact report as a graph for documents and pull requests (`weft coordinate impact
//! --format dot|mermaid`): this project's changed symbols on the left, each affected
//! peer's files on the right, one edge per (symbol, file) labelled with the lines that
//! use it and coloured by the worst class among them. Pinned and unreachable peers are
//! drawn dashed with their state. Every name comes from a peer or a repository, so
//! every label is escaped for its language.

use super::impact::{ImpactReport, PeerImpact, PeerState};
use crate::graph::api::Class;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Lines listed on one edge before the rest are counted.
const LINES_SHOWN: usize = 4;

/// The two diagram languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Diagram {
    /// Graphviz DOT.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
}

/// One edge: a changed symbol used by a peer's file.
struct Edge {
    symbol: usize,
    peer: usize,
    file: usize,
    lines: Vec<u32>,
    class: Class,
}

/// The graph both renderings draw.
struct Drawing<'a> {
    symbols: Vec<&'a str>,
    peers: Vec<(&'a PeerImpact, Vec<&'a str>)>,
    edges: Vec<Edge>,
}

fn worse(a: Class, b: Class) -> Class {
    let rank = |c: Class| match c {
        Class::Breaking => 0,
        Class::Undetermined => 1,
        Class::Additive => 2,
        Class::Internal => 3,
    };
    if rank(b) < rank(a) {
        b
    } else {
        a
    }
}

fn drawing(report: &ImpactReport) -> Drawing<'_> {
    let mut symbols: BTreeMap<&str, usize> = BTreeMap::new();
    let mut edges: BTreeMap<(usize, usize, usize), Edge> = BTreeMap::new();
    let mut peers = Vec::new();
    let shown = report
        .peers
        .iter()
        .filter(|p| p.state != PeerState::NotDependent);
    for (p, peer) in shown.enumerate() {
        let mut files = Vec::new();
        for (f, file) in peer.files.iter().enumerate() {
            files.push(file.path.as_str());
            for u in &file.uses {
                let next = symbols.len();
                let s = *symbols.entry(u.symbol.as_str()).or_insert(next);
                let edge = edges.entry((s, p, f)).or_insert(Edge {
                    symbol: s,
                    peer: p,
                    file: f,
                    lines: Vec::new(),
                    class: u.class,
                });
                edge.lines.push(u.line);
                edge.class = worse(edge.class, u.class);
            }
        }
        peers.push((peer, files));
    }
    let mut names: Vec<(&str, usize)> = symbols.into_iter().collect();
    names.sort_by_key(|(_, i)| *i);
    Drawing {
        symbols: names.into_iter().map(|(n, _)| n).collect(),
        peers,
        edges: edges.into_values().collect(),
    }
}

fn colour(class: Class) -> &'static str {
    match class {
        Class::Breaking => "#d62728",
        Class::Undetermined => "#ff9f0e",
        Class::Additive => "#2ca02c",
        Class::Internal => "#7f7f7f",
    }
}

fn class_name(class: Class) -> &'static str {
    match class {
        Class::Breaking => "breaking",
        Class::Undetermined => "undetermined",
        Class::Additive => "additive",
        Class::Internal => "informational",
    }
}

fn edge_label(edge: &Edge) -> String {
    let mut lines = edge.lines.clone();
    lines.sort_unstable();
    lines.dedup();
    let mut label: Vec<String> = lines
        .iter()
        .take(LINES_SHOWN)
        .map(|l| format!("L{l}"))
        .collect();
    if lines.len() > LINES_SHOWN {
        label.push(format!("+{}", lines.len() - LINES_SHOWN));
    }
    format!("{} {}", label.join(" "), class_name(edge.class))
}

fn peer_label(peer: &PeerImpact) -> String {
    match peer.state {
        PeerState::Pinned => format!("{} (pinned)", peer.name),
        PeerState::Unreachable => format!("{} (unreachable)", peer.name),
        _ => peer.name.clone(),
    }
}

fn dashed(peer: &PeerImpact) -> bool {
    matches!(peer.state, PeerState::Pinned | PeerState::Unreachable)
}

/// Renders `report` in `diagram`'s language.
pub fn render(report: &ImpactReport, diagram: Diagram) -> String {
    let drawing = drawing(report);
    match diagram {
        Diagram::Dot => dot(report, &drawing),
        Diagram::Mermaid => mermaid(report, &drawing),
    }
}

/// `text` with each character `replace` names replaced, line breaks as spaces and other
/// control characters dropped.
fn escape(text: &str, replace: fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match (replace(c), c) {
            (Some(with), _) => out.push_str(with),
            (None, '\n' | '\r') => out.push(' '),
            (None, c) if c.is_control() => {}
            (None, c) => out.push(c),
        }
    }
    out
}

/// A DOT string literal's content.
fn dot_escape(text: &str) -> String {
    escape(text, |c| match c {
        '"' => Some("\\\""),
        '\\' => Some("\\\\"),
        _ => None,
    })
}

fn dot(report: &ImpactReport, d: &Drawing<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph impact {{");
    let _ = writeln!(out, "  rankdir=LR;");
    let _ = writeln!(out, "  node [shape=box, fontname=\"monospace\"];");
    let _ = writeln!(
        out,
        "  subgraph cluster_project {{\n    label=\"{}\";",
        dot_escape(&report.project)
    );
    for (i, s) in d.symbols.iter().enumerate() {
        let _ = writeln!(out, "    s{i} [label=\"{}\"];", dot_escape(s));
    }
    let _ = writeln!(out, "  }}");
    for (p, (peer, files)) in d.peers.iter().enumerate() {
        let style = if dashed(peer) { "dashed" } else { "solid" };
        let _ = writeln!(
            out,
            "  subgraph cluster_peer{p} {{\n    label=\"{}\";\n    style={style};",
            dot_escape(&peer_label(peer))
        );
        if files.is_empty() {
            let _ = writeln!(
                out,
                "    p{p} [label=\"{}\", style={style}];",
                dot_escape(&peer_label(peer))
            );
        }
        for (f, file) in files.iter().enumerate() {
            let _ = writeln!(
                out,
                "    p{p}f{f} [label=\"{}\", style={style}];",
                dot_escape(file)
            );
        }
        let _ = writeln!(out, "  }}");
    }
    for e in &d.edges {
        let _ = writeln!(
            out,
            "  s{} -> p{}f{} [label=\"{}\", color=\"{}\", fontcolor=\"{}\"];",
            e.symbol,
            e.peer,
            e.file,
            dot_escape(&edge_label(e)),
            colour(e.class),
            colour(e.class)
        );
    }
    let _ = writeln!(out, "}}");
    out
}

/// A Mermaid quoted label's content: quotes and angle brackets as entity codes.
fn mermaid_escape(text: &str) -> String {
    escape(text, |c| match c {
        '"' => Some("#quot;"),
        '<' => Some("#lt;"),
        '>' => Some("#gt;"),
        '#' => Some("#35;"),
        '|' => Some("#124;"),
        _ => None,
    })
}

fn mermaid(report: &ImpactReport, d: &Drawing<'_>) -> String {
    let mut out = String::from("flowchart LR\n");
    let _ = writeln!(
        out,
        "  subgraph project[\"{}\"]",
        mermaid_escape(&report.project)
    );
    for (i, s) in d.symbols.iter().enumerate() {
        let _ = writeln!(out, "    s{i}[\"{}\"]", mermaid_escape(s));
    }
    let _ = writeln!(out, "  end");
    let mut dashed_nodes = Vec::new();
    for (p, (peer, files)) in d.peers.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph peer{p}[\"{}\"]",
            mermaid_escape(&peer_label(peer))
        );
        if files.is_empty() {
            let _ = writeln!(out, "    p{p}[\"{}\"]", mermaid_escape(&peer_label(peer)));
            if dashed(peer) {
                dashed_nodes.push(format!("p{p}"));
            }
        }
        for (f, file) in files.iter().enumerate() {
            let _ = writeln!(out, "    p{p}f{f}[\"{}\"]", mermaid_escape(file));
            if dashed(peer) {
                dashed_nodes.push(format!("p{p}f{f}"));
            }
        }
        let _ = writeln!(out, "  end");
    }
    for (i, e) in d.edges.iter().enumerate() {
        let _ = writeln!(
            out,
            "  s{} -->|\"{}\"| p{}f{}",
            e.symbol,
            mermaid_escape(&edge_label(e)),
            e.peer,
            e.file
        );
        let _ = writeln!(out, "  linkStyle {i} stroke:{}", colour(e.class));
    }
    if !dashed_nodes.is_empty() {
        let _ = writeln!(out, "  classDef held stroke-dasharray:5 5");
        let _ = writeln!(out, "  class {} held", dashed_nodes.join(","));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_cannot_break_out_of_their_quotes() {
        assert_eq!(dot_escape("a\"b\\c\nd"), "a\\\"b\\\\c d");
        assert_eq!(
            mermaid_escape("Vec<T> \"x\" #1 | y"),
            "Vec#lt;T#gt; #quot;x#quot; #35;1 #124; y"
        );
        assert!(!dot_escape("a\u{7}b").contains('\u{7}'));
    }

    #[test]
    fn an_edge_names_its_first_lines_and_counts_the_rest() {
        let edge = Edge {
            symbol: 0,
            peer: 0,
            file: 0,
            lines: vec![9, 3, 3, 1, 7, 5, 11],
            class: Class::Breaking,
        };
        assert_eq!(edge_label(&edge), "L1 L3 L5 L7 +2 breaking");
        assert_eq!(worse(Class::Additive, Class::Breaking), Class::Breaking);
        assert_eq!(
            worse(Class::Undetermined, Class::Internal),
            Class::Undetermined
        );
    }
}
