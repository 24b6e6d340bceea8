//! Assessments (SOP 2) from SCOPE to REPORT; the node triggers them and COMMITs reports.
//! [`run`] is the pipeline, [`scope`] picks files, [`rules`] makes findings, [`report`]
//! is the versioned document, [`format`] renders it and [`diff`] compares two. The
//! architecture and documentation-gap rules live apart from [`rules`] in `architecture`
//! and `doc_gap`; [`layers`] is the `[architecture] layers` order they check.

mod architecture;
pub mod diff;
mod doc_gap;
pub mod format;
pub mod layers;
pub mod report;
pub mod rules;
pub mod run;
pub mod scope;
