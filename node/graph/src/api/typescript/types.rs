//! TYPES: a type as written, compared as text. Whitespace, comments and the order of a
//! union's members never count; a *plain* union (members that are literals, predefined
//! types or names, possibly generic) is compared as a set of members, so a member added
//! or removed is recognised as widening or narrowing. Anything else is only equal or not.

use tree_sitter::Node;

/// One member of a plain union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Atom {
    /// Its text, normalised.
    pub text: String,
    /// What it is.
    pub kind: AtomKind,
}

/// What a member of a plain union is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AtomKind {
    /// A literal type (`'a'`, `1`, `true`) with the predefined type it belongs to.
    Literal(&'static str),
    /// A predefined type (`string`, `number`, `null`, `undefined`, `any`…).
    Predefined,
    /// A named type (`Foo`, `a.B`, `Array<T>`): it may be an alias of anything.
    Named,
}

/// A type as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Ty {
    /// Normalised text.
    pub text: String,
    /// Its members when it is a plain union (a single member is a union of one).
    pub atoms: Option<Vec<Atom>>,
}

/// How a type changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    /// Same type (maybe spelt or ordered otherwise).
    Same,
    /// Every old member is still there, and more.
    Wider,
    /// Some members are gone, none is new.
    Narrower,
    /// Members both gone and new, all of them literals or predefined types: the types
    /// are really different.
    Different,
    /// The text changed in a way the text cannot decide (names that may be aliases,
    /// object or function types, generics).
    Unknown,
}

/// Most union members read (a hostile type cannot make this quadratic without bound).
const MAX_ATOMS: usize = 256;

/// `text` with whitespace only where two words meet, no `;`/`,` before a `}` and no
/// trailing `,` before `)`, `>` or `]`.
pub(crate) fn tight(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    for c in text.chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && out.chars().last().is_some_and(word) && word(c) {
            out.push(' ');
        }
        pending_space = false;
        if c == '}' && (out.ends_with(';') || out.ends_with(',')) {
            out.pop();
        }
        // A trailing comma in a parameter or type-argument list is layout.
        if matches!(c, ')' | '>' | ']') && out.ends_with(',') {
            out.pop();
        }
        out.push(c);
    }
    out
}

/// The type written at `node` (a type node, or a `type_annotation` around one).
pub(crate) fn read(src: &str, node: Node<'_>) -> Ty {
    let node = if node.kind() == "type_annotation" || node.kind() == "opting_type_annotation" {
        node.named_child(0).unwrap_or(node)
    } else {
        node
    };
    let text = tight(&crate::lang::shared::code_between(
        src,
        node,
        node.start_byte(),
        node.end_byte(),
    ));
    let mut atoms = Vec::new();
    let atoms = flatten(src, node, &mut atoms).then_some(atoms);
    Ty { text, atoms }
}

fn flatten(src: &str, node: Node<'_>, out: &mut Vec<Atom>) -> bool {
    let mut pending = vec![node];
    while let Some(n) = pending.pop() {
        if out.len() >= MAX_ATOMS {
            return false;
        }
        let text = || tight(src.get(n.byte_range()).unwrap_or(""));
        match n.kind() {
            "union_type" | "parenthesized_type" => {
                let mut cursor = n.walk();
                let children: Vec<Node<'_>> = n
                    .named_children(&mut cursor)
                    .filter(|c| !c.kind().contains("comment"))
                    .collect();
                pending.extend(children.into_iter().rev());
            }
            "literal_type" => {
                let base = match n.named_child(0).map(|c| c.kind()) {
                    Some("string" | "template_string") => "string",
                    Some("number" | "unary_expression") => "number",
                    Some("true" | "false") => "boolean",
                    Some("null") => {
                        out.push(predefined("null"));
                        continue;
                    }
                    Some("undefined") => {
                        out.push(predefined("undefined"));
                        continue;
                    }
                    _ => return false,
                };
                out.push(Atom {
                    text: text(),
                    kind: AtomKind::Literal(base),
                });
            }
            "predefined_type" | "undefined" | "null" => out.push(Atom {
                text: text(),
                kind: AtomKind::Predefined,
            }),
            "type_identifier" | "nested_type_identifier" | "generic_type" => out.push(Atom {
                text: text(),
                kind: AtomKind::Named,
            }),
            _ => return false,
        }
    }
    !out.is_empty()
}

fn predefined(text: &str) -> Atom {
    Atom {
        text: text.to_string(),
        kind: AtomKind::Predefined,
    }
}

/// Whether `atom` is among `set`: itself, its literal's predefined type, or `any` /
/// `unknown`.
fn covered(atom: &Atom, set: &[Atom]) -> bool {
    set.iter().any(|a| {
        a.text == atom.text
            || matches!(atom.kind, AtomKind::Literal(base) if a.text == base)
            || (a.kind == AtomKind::Predefined && (a.text == "any" || a.text == "unknown"))
    })
}

/// How `old` became `new`.
pub(crate) fn compare(old: &Ty, new: &Ty) -> Cmp {
    if old.text == new.text {
        return Cmp::Same;
    }
    let (Some(o), Some(n)) = (&old.atoms, &new.atoms) else {
        return Cmp::Unknown;
    };
    let old_in_new = o.iter().all(|a| covered(a, n));
    let new_in_old = n.iter().all(|a| covered(a, o));
    match (old_in_new, new_in_old) {
        (true, true) => Cmp::Same,
        (true, false) => Cmp::Wider,
        (false, true) => Cmp::Narrower,
        (false, false) => {
            let decidable = o.iter().chain(n).all(|a| a.kind != AtomKind::Named);
            if decidable {
                Cmp::Different
            } else {
                Cmp::Unknown
            }
        }
    }
}

/// Members of `a` not among `b`'s, for notes.
pub(crate) fn missing(a: &Ty, b: &Ty) -> Vec<String> {
    match (&a.atoms, &b.atoms) {
        (Some(a), Some(b)) => a
            .iter()
            .filter(|x| !covered(x, b))
            .map(|x| x.text.clone())
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::{self, Language};

    fn ty(text: &str) -> Ty {
        let src = format!("type X = {text};");
        let tree = lang::parse(Language::TypeScript, &src).expect("parses");
        let alias = tree.root_node().named_child(0).expect("alias");
        read(&src, alias.child_by_field_name("value").expect("value"))
    }

    #[test]
    fn unions_compare_as_sets_of_members() {
        assert_eq!(compare(&ty("'a' | 'b'"), &ty("'b' | 'a'")), Cmp::Same);
        assert_eq!(
            compare(&ty("'a' | 'b'"), &ty("'a' | 'b' | 'c'")),
            Cmp::Wider
        );
        assert_eq!(compare(&ty("'a' | 'b'"), &ty("'a'")), Cmp::Narrower);
        assert_eq!(compare(&ty("'a'"), &ty("string")), Cmp::Wider);
        assert_eq!(compare(&ty("string"), &ty("number")), Cmp::Different);
        assert_eq!(compare(&ty("Foo"), &ty("Bar")), Cmp::Unknown);
        assert_eq!(compare(&ty("Foo | null"), &ty("Foo")), Cmp::Narrower);
        assert_eq!(compare(&ty("string"), &ty("unknown")), Cmp::Wider);
        assert_eq!(
            compare(&ty("{ a: string }"), &ty("{ a: number }")),
            Cmp::Unknown
        );
        assert_eq!(
            compare(&ty("{ a: string; }"), &ty("{a:string}")),
            Cmp::Same,
            "formatting"
        );
        assert_eq!(
            compare(&ty("Foo /* why */ | Bar"), &ty("Foo|Bar")),
            Cmp::Same,
            "comments"
        );
        assert_eq!(compare(&ty("(A | B) | C"), &ty("A | C")), Cmp::Narrower);
    }

    #[test]
    fn tight_keeps_spaces_between_words_only() {
        assert_eq!(tight("keyof  T | { a : b ; }"), "keyof T|{a:b}");
        assert_eq!(tight("readonly string[]"), "readonly string[]");
    }
}
