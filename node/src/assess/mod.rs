//! Assessments (SOP 2): TRIGGER → SCOPE → SCAN → ANALYZE → REPORT → COMMIT.
//! [`run`] is the pipeline, [`scope`] picks files, [`rules`] makes findings, [`report`]
//! is the versioned document, [`format`] renders it and [`diff`] compares two.

pub mod diff;
pub mod format;
pub mod report;
pub mod rules;
pub mod run;
pub mod scope;
