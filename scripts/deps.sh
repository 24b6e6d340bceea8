#!/usr/bin/env bash
# Installs the system packages weft's build needs (clang/libclang for RocksDB's bindgen,
# a C++ compiler, git; unzip for the model wheels; Go for the Go build check's test) when
# they are missing. Safe to run
# repeatedly. Python 3 with pip and npm (for the model packages and the SARIF schema)
# come with the machine.
set -euo pipefail

need=()
command -v clang >/dev/null 2>&1 || need+=(clang)
ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 || need+=(libclang-dev)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v git >/dev/null 2>&1 || need+=(git)
command -v make >/dev/null 2>&1 || need+=(make)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
command -v go >/dev/null 2>&1 || need+=(golang-go)
if [ "${#need[@]}" -gt 0 ]; then
    echo "installing: ${need[*]}" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "${need[@]}"
fi
command -v cargo >/dev/null 2>&1 || { echo "cargo is missing: install a Rust toolchain (rustup)" >&2; exit 1; }
