//! Report renderings: table, JSON, GitHub workflow annotations, SARIF 2.1.0.

pub mod annotations;
pub mod sarif;
pub mod table;
