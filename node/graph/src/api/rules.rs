//! RULES: every compatibility rule the API diff applies, each with an id the report
//! carries, the class it gives a change and where the rule is published. A change's
//! class is always its rule's class, so a report never says "breaking" without saying
//! which rule made it so (docs/coordination.md lists them all).

use super::Class;

/// One compatibility rule.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable id, `language/name` (Rust's names are the Cargo book's anchors).
    pub id: &'static str,
    /// The class a change it matches gets.
    pub class: Class,
    /// What it says, in a line.
    pub summary: &'static str,
}

macro_rules! rules {
    ($list:ident: $($name:ident = $id:literal, $class:ident, $summary:literal;)*) => {
        $(
            #[doc = $summary]
            pub const $name: &Rule = &Rule { id: $id, class: $crate::api::Class::$class, summary: $summary };
        )*
        /// Every rule of this group, in declaration order.
        pub const $list: &[&Rule] = &[$($name),*];
    };
}
pub(crate) use rules;

rules! {
    GENERIC:
    REMOVED = "generic/removed", Breaking, "A public symbol is gone.";
    RENAMED = "generic/renamed", Breaking, "A public symbol is gone and one of the same kind and shape took its place.";
    SIGNATURE = "generic/signature", Breaking, "A public declaration's text changed (no finer rule of its language applies).";
    VISIBILITY = "generic/visibility", Breaking, "A public symbol is no longer public.";
    ADDED = "generic/added", Additive, "A public symbol is new or newly public.";
    BODY = "generic/body", Internal, "A body changed behind the same declaration, or a private symbol changed.";
    MOVED = "generic/moved", Internal, "A symbol moved to another file unchanged.";
    MANIFEST_NAME = "manifest/name", Breaking, "The package's name changed: dependents name it.";
    MANIFEST_VERSION = "manifest/version", Internal, "The version changed (what dependents' requirements are checked against).";
    MANIFEST_FLOOR_RAISED = "manifest/toolchain-floor-raised", Breaking, "The minimum toolchain went up (rust-version, go, requires-python, engines): users on older toolchains break.";
    MANIFEST_FLOOR_LOWERED = "manifest/toolchain-floor-lowered", Additive, "The minimum toolchain went down.";
    MANIFEST_FIELD_REMOVED = "manifest/field-removed", Breaking, "A feature, extra or export users may select is gone.";
    MANIFEST_FIELD_ADDED = "manifest/field-added", Additive, "A feature, extra or export is new.";
    MANIFEST_FIELD_CHANGED = "manifest/field-changed", Undetermined, "An export or extra points elsewhere than before: whether users break needs a build.";
}

/// Every rule of every language, for the docs and the corpus test.
pub fn all() -> Vec<&'static Rule> {
    let mut out: Vec<&'static Rule> = GENERIC.to_vec();
    out.extend_from_slice(super::rust::RULES);
    out.extend_from_slice(super::go::RULES);
    out.extend_from_slice(super::python::RULES);
    out.extend_from_slice(super::typescript::RULES);
    out.extend_from_slice(super::config::RULES);
    out
}

/// The rule with this id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    all().into_iter().find(|r| r.id == id)
}
