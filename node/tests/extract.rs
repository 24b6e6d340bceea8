//! Tree-sitter extraction, checked exactly against hand-written fixtures per language.

use weft_node::graph::lang::{extract, Language};

include!("/tmp/fx/fixtures.rs");

#[test]
#[ignore]
fn dump() {
    for (lang, src) in [
        (Language::Rust, RUST),
        (Language::Python, PYTHON),
        (Language::JavaScript, JAVASCRIPT),
        (Language::TypeScript, TYPESCRIPT),
        (Language::Tsx, TSX),
        (Language::Go, GO),
    ] {
        let f = extract(lang, src).expect("extract");
        println!("=== {lang:?} loc={}", f.loc);
        for s in &f.symbols {
            println!("S {:?} {} {}-{} pub={} cx={} loc={} sig={:?} doc={:?}", s.kind, s.qualified, s.start_line, s.end_line, s.public, s.complexity, s.loc, s.signature, s.doc);
        }
        for i in &f.imports { println!("I {} {:?} @{}", i.module, i.names, i.line); }
        for r in &f.references { println!("R {:?} {} @{}", r.kind, r.name, r.line); }
        for m in &f.markers { println!("M {:?} {} @{} {:?}", m.kind, m.label, m.line, m.text); }
    }
}
