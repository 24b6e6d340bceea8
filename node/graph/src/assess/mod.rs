//! Assessments (SOP 2) from SCOPE to REPORT; the node triggers them and COMMITs reports.
//! [`run`] is the pipeline, [`scope`] picks files, [`rules`] makes findings, [`report`]
//! is the versioned document, [`format`] renders it and [`diff`] compares two.
//! [`layers`] is the `[architecture] layers` order the layer rule checks, [`modules`]
//! the module graph with the god-file ranking that rule and the UI share.

pub mod diff;
pub mod format;
pub mod layers;
pub mod modules;
pub mod report;
pub mod rules;
pub mod run;
pub mod scope;
