//! What a file binds of an upstream project: the local names its imports give the
//! upstream's items and modules, and the paths through which code reaches them. Usage
//! answers decide from these whether a reference in a peer's file is a use of a changed
//! upstream symbol.

use super::message::QuerySymbol;
use crate::deps::{self, Ecosystem};
use crate::facts::{FileFacts, Import, Reference};
use std::collections::{BTreeMap, BTreeSet};

/// What a file's imports of the upstream bring into scope.
#[derive(Default)]
pub(super) struct Bindings<'f> {
    /// Whether the file imports or names the upstream at all.
    pub(super) linked: bool,
    /// A glob (`use up::*`, `from up import *`, Go's `import . "up"`) or a module bound
    /// under no name the file shows (`require('up')`): any bare name may be upstream's.
    whole_module: bool,
    /// Local name → the upstream name it stands for, for names imported one by one.
    locals: BTreeMap<&'f str, &'f str>,
    /// (line, upstream name) of each name imported one by one.
    pub(super) imported: Vec<(u32, &'f str)>,
    /// Upstream names the file reaches: imported, on an imported module path
    /// (`client` of `use up::client::Conn`) or written through an upstream path
    /// (`Client` of `up::Client`).
    reached: BTreeSet<&'f str>,
    /// Names that stand for the upstream or a module of it at the head of a path:
    /// modules bound by `import up` / `use up as u` / `import * as ns` / Go's `import
    /// "example.com/up"`, every imported name (`client.f()` after `from up import
    /// client`), and a Rust crate name the file writes without any `use` (`up_lib::f()`).
    roots: BTreeSet<&'f str>,
}

/// The names of a qualifier (`up::client`, `ns.sub`), without a leading `::`.
fn segments(qualifier: &str) -> impl DoubleEndedIterator<Item = &str> {
    qualifier.split([':', '.']).filter(|s| !s.is_empty())
}

/// The name a Go import path binds when not renamed: its last element, without a major
/// version element (`example.com/up/v2`) or a `.vN` suffix (`gopkg.in/yaml.v3`).
fn go_package(path: &str) -> &str {
    let is_version = |s: &str| {
        s.strip_prefix('v')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let mut elements = path.rsplit('/');
    let last = elements.next().unwrap_or(path);
    let last = match elements.next() {
        Some(previous) if is_version(last) => previous,
        _ => last,
    };
    match last.rsplit_once('.') {
        Some((name, version)) if is_version(version) => name,
        _ => last,
    }
}

/// The last segment of an owner path (`outer::Client` → `Client`).
fn last_segment(path: &str) -> &str {
    segments(path).next_back().unwrap_or(path)
}

impl<'f> Bindings<'f> {
    /// What `facts` (a file of `ecosystem`) binds of the packages.
    pub(super) fn of(
        facts: &'f FileFacts,
        ecosystem: Ecosystem,
        packages: &[(Ecosystem, String)],
    ) -> Bindings<'f> {
        let upstream = |module: &str| {
            deps::imported_package(ecosystem, module, None).is_some_and(|package| {
                packages
                    .iter()
                    .any(|(e, name)| *e == ecosystem && deps::matches(ecosystem, name, &package))
            })
        };
        let mut b = Bindings::default();
        for import in facts.imports.iter().filter(|i| upstream(&i.module)) {
            b.linked = true;
            b.bind(import, ecosystem);
        }
        // A type named through an upstream path reaches its methods as an imported one
        // does; Rust names a crate by path without any `use`, which links the file too.
        for r in &facts.references {
            let Some(head) = r.qualifier.as_deref().and_then(|q| segments(q).next()) else {
                continue;
            };
            if ecosystem == Ecosystem::Cargo && !b.roots.contains(head) && upstream(head) {
                b.linked = true;
                b.roots.insert(head);
            }
            if b.roots.contains(head) {
                b.reached.insert(r.name.as_str());
            }
        }
        b
    }

    /// Adds what one import of the upstream binds.
    fn bind(&mut self, import: &'f Import, ecosystem: Ecosystem) {
        if ecosystem == Ecosystem::Go {
            match import.renamed.first() {
                _ if import.names.iter().any(|n| n == "*") => self.whole_module = true,
                Some(r) => {
                    self.roots.insert(r.local.as_str());
                }
                None => {
                    self.roots.insert(go_package(&import.module));
                }
            }
            return;
        }
        let local_of = |name: &str| {
            import
                .renamed
                .iter()
                .find(|r| r.name == name)
                .map(|r| r.local.as_str())
        };
        let head = segments(&import.module).next().unwrap_or("");
        let last = last_segment(&import.module);
        self.reached.extend(segments(&import.module).skip(1));
        if import.names.is_empty() {
            // `import up.client` binds `up`; `use up as u` and `import up.client as c`
            // their alias; `require('up')` whatever the code assigns it to.
            match import.renamed.first() {
                Some(r) => {
                    self.roots.insert(r.local.as_str());
                }
                None if ecosystem == Ecosystem::Npm => self.whole_module = true,
                None => {
                    self.roots.insert(head);
                }
            }
        }
        for name in &import.names {
            match (name.as_str(), local_of(name)) {
                // `import * as ns`, `import up from`, `use up::client::{self}`: the
                // module itself under a local name.
                ("*" | "default", Some(local)) => {
                    self.roots.insert(local);
                }
                ("self", local) => {
                    self.roots.insert(local.unwrap_or(last));
                }
                ("*", None) => self.whole_module = true,
                ("default", None) => {}
                (name, local) => {
                    let local = local.unwrap_or(name);
                    self.locals.insert(local, name);
                    self.roots.insert(local);
                    self.reached.insert(name);
                    self.imported.push((import.line, name));
                }
            }
        }
    }

    /// The upstream name a reference stands for: a bare name through the file's
    /// imports (an alias resolves to the name it renames), a path's last name as written.
    pub(super) fn resolve<'r>(&self, r: &'r Reference) -> &'r str
    where
        'f: 'r,
    {
        match r.qualifier {
            None => self.locals.get(r.name.as_str()).copied().unwrap_or(&r.name),
            Some(_) => &r.name,
        }
    }

    /// Whether reference `r` reaches symbol `s` (whose name `r` resolves to).
    pub(super) fn reaches(&self, r: &Reference, s: &QuerySymbol) -> bool {
        let owner = s.owner.as_deref().map(last_segment);
        // A method is reached wherever its type is (a call on a value of it).
        if owner.is_some_and(|o| self.reached.contains(o)) {
            return true;
        }
        match r.qualifier.as_deref() {
            None => {
                self.locals.get(r.name.as_str()) == Some(&s.name.as_str())
                    || (self.whole_module && r.name == s.name)
            }
            Some(q) => {
                let head = segments(q).next().unwrap_or("");
                let tail = last_segment(q);
                let tail = self.locals.get(tail).copied().unwrap_or(tail);
                match owner {
                    None => self.whole_module || self.roots.contains(head),
                    Some(o) => self.roots.contains(head) && tail == o,
                }
            }
        }
    }
}
