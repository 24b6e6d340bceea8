//! Cross-crate and multi-node tests, one binary with a module per topic. They drive the
//! `weft` binary (built by `cargo test --workspace`, or `cargo build --bin weft` first)
//! as real processes on 127.0.0.1.

mod check;
mod cluster;
mod coordinate;
mod crash;
mod linearizable;
mod mesh;
mod powercut;
mod testnet;
mod ui;
mod ui_browser;
mod vectors;
