//! Walking and bookkeeping every language module shares: an iterative tree walk, the
//! per-line code map behind `loc`, TODO scanning of comments, and builders for the
//! [`FileFacts`] records so that language modules only decide *what* a node means.

use crate::facts::{
    FileFacts, Import, Marker, MarkerKind, Reference, ReferenceKind, SecurityFact, SecurityKind,
    Symbol, SymbolKind,
};
use tree_sitter::Node;

/// The words that make a comment a TODO marker.
const TODO_WORDS: [&str; 4] = ["TODO", "FIXME", "XXX", "HACK"];

/// Longest marker text kept.
const MARKER_TEXT_MAX: usize = 200;

/// At most this many security facts per file: a generated or hostile file of a million
/// `unsafe` blocks does not make a million findings.
const SECURITY_FACTS_MAX: usize = 1_000;

/// Whether the walk enters a node's children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    /// Visit the children.
    Into,
    /// Skip the subtree.
    Over,
}

/// What the walk reports about a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Event {
    /// Before the node's children.
    Enter,
    /// After the node's children (also after a skipped subtree).
    Leave,
}

/// An item enclosing the walk's current node (a module, class, impl, function...), for
/// qualified names; language modules keep a stack of them, innermost last.
pub(super) struct Scope<K> {
    /// Id of the node that opened it.
    pub(super) node: usize,
    /// Its qualified name.
    pub(super) path: String,
    /// What the language needs to know of it.
    pub(super) kind: K,
}

/// Closes the scopes opened at `node`, which the walk is leaving.
pub(super) fn leave_scopes<K>(scopes: &mut Vec<Scope<K>>, node: Node<'_>) {
    while scopes.last().is_some_and(|s| s.node == node.id()) {
        scopes.pop();
    }
}

/// Pre-order walk of `root` calling `visit` on entering and leaving each node. Iterative
/// rather than recursive: a left-deep expression of a few thousand terms (or hostile
/// input) would otherwise overflow the stack.
pub(super) fn walk<'t>(root: Node<'t>, mut visit: impl FnMut(Node<'t>, Event) -> Step) {
    let mut cursor = root.walk();
    'outer: loop {
        let node = cursor.node();
        if visit(node, Event::Enter) == Step::Into && cursor.goto_first_child() {
            continue;
        }
        visit(node, Event::Leave);
        loop {
            if cursor.goto_next_sibling() {
                continue 'outer;
            }
            if !cursor.goto_parent() {
                return;
            }
            visit(cursor.node(), Event::Leave);
        }
    }
}

/// Whether `node`'s `operator` field is one of `operators` (a binary `&&`, `||`...).
/// Asked of the binary node rather than of the operator token: a token would need its
/// parent, which tree-sitter finds by descending from the root.
pub(super) fn has_operator(node: Node<'_>, operators: &[&str]) -> bool {
    node.child_by_field_name("operator")
        .is_some_and(|op| operators.contains(&op.kind()))
}

/// Collapses runs of whitespace into single spaces and trims.
pub(crate) fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A path or dotted name without the whitespace a multi-line statement may put in it.
pub(super) fn compact(text: &str) -> String {
    text.split_whitespace().collect()
}

/// Longest qualifier kept on a reference; longer receivers are expressions, not paths.
const QUALIFIER_MAX: usize = 256;

/// `text` as a reference's qualifier when it is a plain path of names (`up::client`,
/// `self.conn`, `ns`), whitespace dropped; None for calls, indexing, literals and the like.
pub(super) fn path_qualifier(text: &str) -> Option<String> {
    let path = compact(text);
    let plain = !path.is_empty()
        && path.len() <= QUALIFIER_MAX
        && path
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '$' | ':' | '.'));
    plain.then_some(path)
}

/// Cleans comment or docstring text: each line trimmed, a leading `*` (block comment
/// gutter) dropped, blank lines at either end removed.
pub(super) fn tidy_doc(raw: &str) -> String {
    let lines: Vec<&str> = raw
        .lines()
        .map(|line| {
            let line = line.trim();
            match line.strip_prefix('*') {
                Some(rest) if !rest.starts_with('/') => rest.trim(),
                _ => line,
            }
        })
        .collect();
    lines.join("\n").trim().to_string()
}

/// Whether the first character of `name` is upper case (Go's export rule).
pub(super) fn starts_upper(name: &str) -> bool {
    name.chars().next().is_some_and(char::is_uppercase)
}

/// How a language scores a node for cyclomatic complexity: `Some(points)` for a node
/// inside a callable's body, `None` for a nested named callable or class, whose subtree
/// is measured as its own symbols (or not at all) rather than counted for the enclosing
/// callable.
pub(super) type Decision = fn(Node<'_>, &str) -> Option<u32>;

/// A grammar's node kind names by kind id. `Node::kind` converts a C string on every
/// call (a length scan and a UTF-8 check), a few times per node; this is an index.
pub(super) struct KindNames {
    names: Vec<Box<str>>,
}

impl KindNames {
    /// The names of `language`'s node kinds.
    pub(super) fn of(language: &tree_sitter::Language) -> KindNames {
        let count = u16::try_from(language.node_kind_count()).unwrap_or(u16::MAX);
        let names = (0..count)
            .map(|id| language.node_kind_for_id(id).unwrap_or("").into())
            .collect();
        KindNames { names }
    }

    /// The kind of `node`, as `Node::kind` names it. Ids past the table are tree-sitter's
    /// built-in error symbols.
    pub(super) fn kind(&self, node: Node<'_>) -> &str {
        self.names
            .get(usize::from(node.kind_id()))
            .map_or("ERROR", |name| name)
    }
}

/// A subtree the walk is inside whose decision points go to one place.
struct Counter {
    /// Id of the node that opened it; closed when the walk leaves that node.
    node: usize,
    /// Index of the symbol whose complexity grows, or None for a nested callable's
    /// subtree, whose points count for nobody until its own body opens a counter.
    symbol: Option<usize>,
}

/// The file being analysed and the facts gathered so far.
pub(super) struct Ctx<'s> {
    src: &'s str,
    kinds: &'static KindNames,
    lines: Vec<&'s str>,
    is_comment: fn(&str) -> bool,
    decision: Decision,
    /// Bodies registered by [`Ctx::measure`] that the walk has not reached yet:
    /// (body node id, symbol index).
    pending_bodies: Vec<(usize, usize)>,
    /// Counters of the bodies the walk is inside, innermost last. Complexity is counted
    /// during the one walk of the file rather than by walking each body again.
    counters: Vec<Counter>,
    /// Byte ranges of the comments, in source order (the walk is pre-order). Turned
    /// into line counts when the walk is done.
    comments: Vec<(usize, usize)>,
    facts: FileFacts,
}

impl<'s> Ctx<'s> {
    /// A context for `src`, whose comment nodes are the kinds `is_comment` accepts
    /// (strings never are comments, so TODO in a literal is not found) and whose
    /// complexity points are what `decision` scores.
    pub(super) fn new(
        src: &'s str,
        kinds: &'static KindNames,
        is_comment: fn(&str) -> bool,
        decision: Decision,
    ) -> Self {
        Ctx {
            src,
            kinds,
            lines: src.lines().collect(),
            is_comment,
            decision,
            pending_bodies: Vec::new(),
            counters: Vec::new(),
            comments: Vec::new(),
            facts: FileFacts::default(),
        }
    }

    /// Walks the file once: each node is noted (comments for line counts and TODO
    /// markers, decision points for complexity) and handed to `visit`, which the
    /// language module owns.
    pub(super) fn walk<'t, V>(
        root: Node<'t>,
        visitor: &mut V,
        cx: impl Fn(&mut V) -> &mut Ctx<'s>,
        mut visit: impl FnMut(&mut V, Node<'t>, Event) -> Step,
    ) {
        walk(root, |node, event| {
            match event {
                Event::Enter => {
                    let cx = cx(visitor);
                    let kind = cx.kind(node);
                    cx.note(node, kind);
                    cx.score(node, kind);
                }
                Event::Leave => {
                    let cx = cx(visitor);
                    while cx.counters.last().is_some_and(|c| c.node == node.id()) {
                        cx.counters.pop();
                    }
                }
            }
            visit(visitor, node, event)
        });
    }

    /// Counts the complexity of the symbol added last over `body` (1 with no body):
    /// the walk adds the decision points it meets inside `body`.
    pub(super) fn measure(&mut self, body: Option<Node<'_>>) {
        let Some(last) = self.facts.symbols.len().checked_sub(1) else {
            return;
        };
        self.facts.symbols[last].complexity = 1;
        if let Some(body) = body {
            self.pending_bodies.push((body.id(), last));
        }
    }

    /// Opens a counter at a registered body, and adds `node`'s decision points to the
    /// innermost open one (a body is scored too: an arrow function's body may be the
    /// `a && b` itself).
    fn score(&mut self, node: Node<'_>, kind: &str) {
        let id = node.id();
        if let Some(i) = self.pending_bodies.iter().position(|&(body, _)| body == id) {
            let (_, symbol) = self.pending_bodies.swap_remove(i);
            self.counters.push(Counter {
                node: id,
                symbol: Some(symbol),
            });
        }
        let Some(counter) = self.counters.last() else {
            return;
        };
        match ((self.decision)(node, kind), counter.symbol) {
            (Some(points), Some(symbol)) => {
                let complexity = &mut self.facts.symbols[symbol].complexity;
                *complexity = complexity.saturating_add(points);
            }
            (Some(_), None) => {}
            (None, _) => self.counters.push(Counter {
                node: id,
                symbol: None,
            }),
        }
    }

    /// The kind of `node` (what `Node::kind` says, faster).
    pub(super) fn kind(&self, node: Node<'_>) -> &'static str {
        self.kinds.kind(node)
    }

    fn note(&mut self, node: Node<'_>, kind: &str) {
        if !(self.is_comment)(kind) {
            return;
        }
        let end = node.end_byte().min(self.src.len());
        let start = node.start_byte().min(end);
        self.comments.push((start, end));
        self.todo_markers(node);
    }

    /// The source text of `node` ("" if the range is somehow not on char boundaries).
    pub(super) fn text(&self, node: Node<'_>) -> &'s str {
        self.src
            .get(node.start_byte()..node.end_byte())
            .unwrap_or("")
    }

    /// Text of the named field of `node`, if present.
    pub(super) fn field_text(&self, node: Node<'_>, field: &str) -> Option<&'s str> {
        node.child_by_field_name(field).map(|n| self.text(n))
    }

    /// Declaration text from `node`'s start up to `body` (or the first line of `node`
    /// when there is no body), whitespace collapsed.
    pub(super) fn header(&self, node: Node<'_>, body: Option<Node<'_>>) -> String {
        let start = node.start_byte();
        let end = match body {
            Some(body) if body.start_byte() > start => body.start_byte(),
            _ => {
                let text = self.text(node);
                start + text.find('\n').unwrap_or(text.len())
            }
        };
        self.code_between(node, start, end)
    }

    /// The whole text of `node` without its comments, whitespace collapsed.
    pub(super) fn code(&self, node: Node<'_>) -> String {
        self.code_between(node, node.start_byte(), node.end_byte())
    }

    fn code_between(&self, node: Node<'_>, start: usize, end: usize) -> String {
        code_between(self.src, node, start, end)
    }

    /// Adds a symbol spanning `node` and returns it so the caller can fill visibility,
    /// signature, doc and complexity.
    pub(super) fn symbol(
        &mut self,
        node: Node<'_>,
        kind: SymbolKind,
        name: &str,
        qualified: String,
    ) -> &mut Symbol {
        let (start, end) = (node.start_position().row, node.end_position().row);
        self.facts.symbols.push(Symbol {
            kind,
            name: name.to_string(),
            qualified,
            start_line: line_no(start),
            end_line: line_no(end),
            public: false,
            signature: String::new(),
            doc: String::new(),
            // Counted in `finish`, once every comment is known.
            loc: 0,
            complexity: 0,
        });
        let last = self.facts.symbols.len() - 1;
        &mut self.facts.symbols[last]
    }

    /// Records an import at `node`'s line and returns it, for the caller to add the
    /// names it binds under other local names.
    pub(super) fn import(
        &mut self,
        node: Node<'_>,
        module: &str,
        names: Vec<String>,
    ) -> &mut Import {
        self.facts.imports.push(Import {
            module: module.to_string(),
            names,
            renamed: Vec::new(),
            line: line_no(node.start_position().row),
        });
        let last = self.facts.imports.len() - 1;
        &mut self.facts.imports[last]
    }

    /// Records a reference by bare name at `node`'s line; empty names are dropped.
    pub(super) fn reference(&mut self, kind: ReferenceKind, node: Node<'_>, name: &str) {
        self.qualified_reference(kind, node, None, name);
    }

    /// Records a reference at `node`'s line with the path written before the name, kept
    /// only when it is a plain path (see [`path_qualifier`]); empty names are dropped.
    pub(super) fn qualified_reference(
        &mut self,
        kind: ReferenceKind,
        node: Node<'_>,
        qualifier: Option<&str>,
        name: &str,
    ) {
        if name.is_empty() {
            return;
        }
        self.facts.references.push(Reference {
            kind,
            name: name.to_string(),
            qualifier: qualifier.and_then(path_qualifier),
            line: line_no(node.start_position().row),
        });
    }

    /// The imports recorded so far (those above the node being visited).
    pub(super) fn imports(&self) -> &[Import] {
        &self.facts.imports
    }

    /// Records a risky construct at `node`'s first line.
    pub(super) fn risky(&mut self, node: Node<'_>, label: &str) {
        self.marker(MarkerKind::Risky, label, node.start_position().row);
    }

    /// Records a construct with security implications at `node`'s first line; false
    /// when the file has too many already.
    pub(super) fn security(
        &mut self,
        node: Node<'_>,
        kind: SecurityKind,
        construct: &str,
        reason: String,
    ) -> bool {
        self.security_at(node.start_position().row, kind, construct, reason)
    }

    /// Records a construct with security implications at the 0-based `row`; false when
    /// the file has too many already.
    pub(super) fn security_at(
        &mut self,
        row: usize,
        kind: SecurityKind,
        construct: &str,
        reason: String,
    ) -> bool {
        let room = self.facts.security.len() < SECURITY_FACTS_MAX;
        if room {
            self.facts.security.push(SecurityFact {
                kind,
                line: line_no(row),
                construct: construct.to_string(),
                reason,
                heuristic: false,
            });
        }
        room
    }

    /// Marks the security fact recorded last as found by a heuristic.
    pub(super) fn heuristic(&mut self) {
        if let Some(last) = self.facts.security.last_mut() {
            last.heuristic = true;
        }
    }

    /// The facts: line counts filled in, markers in line order (a TODO before a risky
    /// construct on the same line).
    pub(super) fn finish(mut self) -> FileFacts {
        let code = self.code_lines();
        let count = |start: u32, end: u32| -> u32 {
            let (start, end) = (
                start.saturating_sub(1) as usize,
                end.saturating_sub(1) as usize,
            );
            let end = end.min(code.len().saturating_sub(1));
            let lines = code.get(start..=end).unwrap_or(&[]);
            u32::try_from(lines.iter().filter(|&&c| c).count()).unwrap_or(u32::MAX)
        };
        for symbol in &mut self.facts.symbols {
            symbol.loc = count(symbol.start_line, symbol.end_line);
        }
        self.facts.loc = count(1, u32::try_from(code.len()).unwrap_or(u32::MAX));
        self.facts.markers.sort_by_key(|m| (m.line, m.kind));
        self.facts.security.sort_by_key(|f| (f.line, f.kind));
        self.facts
    }

    /// Per 0-based row: whether the line holds something besides whitespace and comments.
    fn code_lines(&self) -> Vec<bool> {
        let mut code = vec![false; self.lines.len() + 1];
        let mut row = 0;
        let mut comments = self.comments.iter().peekable();
        for (i, byte) in self.src.bytes().enumerate() {
            while comments.peek().is_some_and(|&&(_, end)| end <= i) {
                comments.next();
            }
            let in_comment = comments.peek().is_some_and(|&&(start, _)| start <= i);
            if byte == b'\n' {
                row += 1;
            } else if !byte.is_ascii_whitespace() && !in_comment {
                if let Some(slot) = code.get_mut(row) {
                    *slot = true;
                }
            }
        }
        code
    }

    fn todo_markers(&mut self, comment: Node<'_>) {
        let first_row = comment.start_position().row;
        for (offset, line) in self.text(comment).lines().enumerate() {
            if let Some(word) = todo_word(line) {
                self.marker(MarkerKind::Todo, word, first_row + offset);
            }
        }
    }

    fn marker(&mut self, kind: MarkerKind, label: &str, row: usize) {
        let line = self.lines.get(row).copied().unwrap_or("").trim();
        self.facts.markers.push(Marker {
            kind,
            label: label.to_string(),
            line: line_no(row),
            text: line.chars().take(MARKER_TEXT_MAX).collect(),
        });
    }
}

/// The first TODO word standing alone (not part of a longer identifier) in `line`.
fn todo_word(line: &str) -> Option<&'static str> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    line.split(|c: char| !is_word(c))
        .find_map(|token| TODO_WORDS.iter().find(|w| **w == token).copied())
}

fn line_no(row: usize) -> u32 {
    u32::try_from(row + 1).unwrap_or(u32::MAX)
}

/// Byte ranges of the comment nodes under `node` that overlap `start..end`, in order;
/// only the children overlapping the range are searched, with a stack of its own (a
/// hostile file can nest deeper than the thread's stack).
fn comments_within(node: Node<'_>, start: usize, end: usize, out: &mut Vec<(usize, usize)>) {
    let mut pending = vec![node];
    while let Some(at) = pending.pop() {
        let mut cursor = at.walk();
        let children: Vec<Node<'_>> = at
            .children(&mut cursor)
            .filter(|c| c.end_byte() > start && c.start_byte() < end)
            .collect();
        // Reversed onto the stack, so they come off in source order.
        for child in children.into_iter().rev() {
            if child.kind().contains("comment") {
                out.push((child.start_byte(), child.end_byte().min(end)));
            } else {
                pending.push(child);
            }
        }
    }
    out.sort_unstable();
}

/// The text of `start..end` of `src` under `node`, comments left out (they are not the
/// declaration: `const X = 1 // why` is `const X = 1`), whitespace collapsed.
pub(crate) fn code_between(src: &str, node: Node<'_>, start: usize, end: usize) -> String {
    let mut comments = Vec::new();
    comments_within(node, start, end, &mut comments);
    let mut text = String::new();
    let mut at = start;
    for (from, to) in comments {
        text.push_str(src.get(at..from.max(at)).unwrap_or(""));
        at = at.max(to);
    }
    text.push_str(src.get(at.min(end)..end).unwrap_or(""));
    let collapsed = collapse(&text);
    if at == start {
        return collapsed;
    }
    // Where a comment stood before `,` or `)` it leaves a space behind.
    collapsed.replace(" ,", ",").replace(" )", ")")
}
