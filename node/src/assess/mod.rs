//! Assessments as the node runs them (SOP 2 and 4): what triggers one ([`hooks`],
//! [`watch`], [`schedule`]; the CLI and CI choose a scope too) and the COMMIT step that
//! records a report on the chain ([`commit`]). SCOPE to REPORT is weft-graph's
//! (`crate::graph::assess`). Before the first assessment, [`init`] builds the whole
//! knowledge graph in one go.

pub mod commit;
pub mod hooks;
pub mod init;
pub mod schedule;
pub mod watch;
