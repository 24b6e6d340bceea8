//! FINDING: what the whole-package models ([`super::rust`], [`super::typescript`]) share
//! between classifying a change and reporting it: the classified change before it is an
//! [`ApiChange`], and the parts of a surface item a report shows.

use super::rules::Rule;
use super::{ApiChange, ChangeKind};
use crate::facts::SymbolKind;

/// One classified change, before it becomes an [`ApiChange`].
pub(crate) struct Found {
    /// What happened.
    pub change: ChangeKind,
    /// The rule that decided it.
    pub rule: &'static Rule,
    /// Why, where the rule needs saying.
    pub note: Option<String>,
}

/// A change without a note.
pub(crate) fn found(change: ChangeKind, rule: &'static Rule) -> Found {
    Found {
        change,
        rule,
        note: None,
    }
}

/// A change with a note (an empty one is none).
pub(crate) fn noted(change: ChangeKind, rule: &'static Rule, note: impl Into<String>) -> Found {
    let note = note.into();
    Found {
        change,
        rule,
        note: (!note.is_empty()).then_some(note),
    }
}

/// What a report shows of a surface item.
pub(crate) struct Shown<'i> {
    /// Kind of symbol.
    pub kind: SymbolKind,
    /// Bare name.
    pub name: &'i str,
    /// The item it belongs to.
    pub owner: Option<&'i str>,
    /// The file that declares it.
    pub file: &'i str,
    /// 1-based line there.
    pub line: u32,
    /// Its declaration.
    pub signature: &'i str,
}

/// The change to the item named `key`, present before (`old`), after (`new`) or both.
pub(crate) fn to_change(
    key: &str,
    f: Found,
    old: Option<Shown<'_>>,
    new: Option<Shown<'_>>,
) -> ApiChange {
    let (file, kind, name, owner) = {
        let named = old
            .as_ref()
            .or(new.as_ref())
            .expect("a change has an item on one side");
        let at = new.as_ref().unwrap_or(named);
        (
            at.file.to_string(),
            named.kind,
            named.name.to_string(),
            named.owner.map(str::to_string),
        )
    };
    ApiChange {
        change: f.change,
        class: f.rule.class,
        path: file,
        kind,
        qualified: key.to_string(),
        name,
        owner,
        public: true,
        before: old.as_ref().map(|o| o.signature.to_string()),
        after: new.as_ref().map(|n| n.signature.to_string()),
        renamed_to: None,
        line: new.as_ref().map(|n| n.line),
        rule: f.rule.id.to_string(),
        note: f.note,
    }
}
