# Sourced by the scripts: one target directory outside the clone, so a second run on the
# same machine (CI after a session, a fresh clone) reuses the RocksDB build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
