//! JS/TS module wiring: ES `import` and `export ... from`, CommonJS `require`, dynamic
//! `import()`, the names `export` lists make public, and which local names reach the
//! shell-running functions of `child_process`.

use super::super::shared::{walk, Ctx, Event, Step};
use crate::facts::Renamed;
use std::collections::HashSet;
use tree_sitter::Node;

/// The module whose `exec`/`execSync` run a shell.
const CHILD_PROCESS: [&str; 2] = ["child_process", "node:child_process"];

/// What the file's imports and exports bind.
pub(super) struct Modules {
    /// Names made public by `export { a, b }` or `export default a`.
    pub(super) exported: HashSet<String>,
    /// Local names bound to the `child_process` module.
    child_process: HashSet<String>,
    /// Local names bound to `child_process.exec`/`execSync` themselves.
    shell_fns: HashSet<String>,
}

impl Modules {
    pub(super) fn new(cx: &Ctx<'_>, root: Node<'_>) -> Self {
        Modules {
            exported: export_lists(cx, root),
            child_process: CHILD_PROCESS.iter().map(|s| s.to_string()).collect(),
            shell_fns: HashSet::new(),
        }
    }

    /// Records the import an `import` or `export ... from` statement makes.
    pub(super) fn statement(&mut self, cx: &mut Ctx<'_>, node: Node<'_>) {
        let source = node.child_by_field_name("source").or_else(|| {
            let mut cursor = node.walk();
            let clause = node
                .named_children(&mut cursor)
                .find(|c| c.kind() == "import_require_clause");
            clause.and_then(|c| c.child_by_field_name("source"))
        });
        let Some(source) = source else { return };
        let module = unquote(cx.text(source));
        let mut names = Vec::new();
        let mut renamed = Vec::new();
        let mut binds_module = Vec::new();
        walk(node, |n, event| {
            if event == Event::Leave || n.id() == source.id() {
                return Step::Over;
            }
            match n.kind() {
                "import_clause" => {
                    if let Some(default) = n.named_child(0).filter(|c| c.kind() == "identifier") {
                        names.push("default".to_string());
                        binds_module.push(cx.text(default).to_string());
                        renamed.push(Renamed {
                            name: "default".to_string(),
                            local: cx.text(default).to_string(),
                        });
                    }
                }
                "namespace_import" | "namespace_export" => {
                    names.push("*".to_string());
                    if let Some(local) = n.named_child(0) {
                        binds_module.push(cx.text(local).to_string());
                        // `export * as ns from` binds nothing in this file.
                        if n.kind() == "namespace_import" {
                            renamed.push(Renamed {
                                name: "*".to_string(),
                                local: cx.text(local).to_string(),
                            });
                        }
                    }
                }
                "import_specifier" | "export_specifier" => {
                    let name = cx.field_text(n, "name").map(unquote).unwrap_or_default();
                    let local = cx.field_text(n, "alias").map(unquote);
                    if matches!(name.as_str(), "exec" | "execSync")
                        && CHILD_PROCESS.contains(&module.as_str())
                    {
                        self.shell_fns
                            .insert(local.clone().unwrap_or_else(|| name.clone()));
                    }
                    // `export { f as g } from 'm'` binds nothing in this file.
                    if let Some(local) = local.filter(|_| n.kind() == "import_specifier") {
                        renamed.push(Renamed {
                            name: name.clone(),
                            local,
                        });
                    }
                    names.push(name);
                }
                "import_require_clause" => {
                    if let Some(local) = n.named_child(0) {
                        binds_module.push(cx.text(local).to_string());
                    }
                }
                // `export * from 'm'`: the star sits directly in the statement.
                "*" if n.parent().map(|p| p.id()) == Some(node.id()) => {
                    names.push("*".to_string());
                }
                _ => {}
            }
            Step::Into
        });
        if CHILD_PROCESS.contains(&module.as_str()) {
            self.child_process.extend(binds_module);
        }
        cx.import(node, &module, names).renamed = renamed;
    }

    /// Records `require('m')` and `import('m')` with a literal as whole-module imports;
    /// returns whether `call` was one.
    pub(super) fn call_import(&mut self, cx: &mut Ctx<'_>, call: Node<'_>) -> bool {
        let function = call.child_by_field_name("function");
        let argument = call
            .child_by_field_name("arguments")
            .and_then(|a| a.named_child(0))
            .filter(|a| a.kind() == "string");
        let (Some(function), Some(argument)) = (function, argument) else {
            return false;
        };
        let is_require = function.kind() == "identifier" && cx.text(function) == "require";
        if function.kind() != "import" && !is_require {
            return false;
        }
        let module = unquote(cx.text(argument));
        if is_require && CHILD_PROCESS.contains(&module.as_str()) {
            self.bind_require(cx, call);
        }
        cx.import(call, &module, Vec::new());
        true
    }

    /// Whether calling `function` (whose last name is `name`) runs `child_process.exec`
    /// or `execSync`, under whatever local name the file gave them.
    pub(super) fn runs_shell(&self, cx: &Ctx<'_>, function: Node<'_>, name: &str) -> bool {
        match function.kind() {
            "identifier" => self.shell_fns.contains(name),
            "member_expression" => {
                matches!(name, "exec" | "execSync")
                    && cx
                        .field_text(function, "object")
                        .is_some_and(|o| self.child_process.contains(o))
            }
            _ => false,
        }
    }

    /// `const cp = require('child_process')` or `const { exec } = require(...)`.
    fn bind_require(&mut self, cx: &Ctx<'_>, call: Node<'_>) {
        let Some(declarator) = call.parent().filter(|p| p.kind() == "variable_declarator") else {
            return;
        };
        let Some(pattern) = declarator.child_by_field_name("name") else {
            return;
        };
        if pattern.kind() == "identifier" {
            self.child_process.insert(cx.text(pattern).to_string());
            return;
        }
        let mut locals = Vec::new();
        let mut cursor = pattern.walk();
        for property in pattern.named_children(&mut cursor) {
            let (key, local) = match property.kind() {
                "shorthand_property_identifier_pattern" => (property, property),
                "pair_pattern" => match (
                    property.child_by_field_name("key"),
                    property.child_by_field_name("value"),
                ) {
                    (Some(key), Some(value)) => (key, value),
                    _ => continue,
                },
                _ => continue,
            };
            if matches!(cx.text(key), "exec" | "execSync") {
                locals.push(cx.text(local).to_string());
            }
        }
        self.shell_fns.extend(locals);
    }
}

/// A string literal's value, or a name, without its quotes.
pub(super) fn unquote(text: &str) -> String {
    let quotes: &[char] = &['"', '\'', '`'];
    text.trim_matches(quotes).to_string()
}

/// Names exported by `export { a, b as c }` (without `from`) and `export default a`.
fn export_lists(cx: &Ctx<'_>, root: Node<'_>) -> HashSet<String> {
    let mut names = HashSet::new();
    let mut cursor = root.walk();
    for statement in root.named_children(&mut cursor) {
        if statement.kind() != "export_statement"
            || statement.child_by_field_name("source").is_some()
        {
            continue;
        }
        if let Some(value) = statement
            .child_by_field_name("value")
            .filter(|v| v.kind() == "identifier")
        {
            names.insert(cx.text(value).to_string());
        }
        let mut inner = statement.walk();
        for clause in statement
            .named_children(&mut inner)
            .filter(|c| c.kind() == "export_clause")
        {
            let mut specifiers = clause.walk();
            for specifier in clause.named_children(&mut specifiers) {
                if let Some(name) = cx.field_text(specifier, "name") {
                    names.insert(unquote(name));
                }
            }
        }
    }
    names
}
