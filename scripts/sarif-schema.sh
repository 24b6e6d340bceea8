#!/usr/bin/env bash
# Fetches the official SARIF 2.1.0 JSON schema for the report-format tests
# (node/graph/tests/report_formats.rs) and makes sure Python's `jsonschema` can validate with it.
# The schema comes from an npm package through npm's own configuration, so no registry
# host is named here. Safe to run repeatedly: each step is skipped when already done.
set -euo pipefail

PACKAGE="@microsoft/jest-sarif@1.0.0-beta.0"
MEMBER="package/lib/schemas/sarif-2.1.0-rtm.5.json"
FIXTURES="${WEFT_FIXTURES:-$HOME/.cache/weft/fixtures}"
SCHEMA="$FIXTURES/sarif-2.1.0-rtm.5.json"
# SHA-256 of the schema as published in that package: a changed file is refused.
SCHEMA_SHA256="2d99159ae54a3eea97f81781cff48780548657c35949f4b7f25e99a2ba4de4f8"
WORK=""
# Global rather than local: the EXIT trap runs after fetch_schema has returned.
trap 'if [ -n "$WORK" ]; then rm -rf "$WORK"; fi' EXIT

fetch_schema() {
    if [ -s "$SCHEMA" ]; then
        echo "sarif-schema: schema already present: $SCHEMA" >&2
        return
    fi
    command -v npm >/dev/null 2>&1 || { echo "sarif-schema: npm is missing; install Node.js" >&2; exit 1; }
    WORK="$(mktemp -d)"
    echo "sarif-schema: fetching $PACKAGE" >&2
    (cd "$WORK" && npm pack --silent "$PACKAGE" >/dev/null)
    local tarball
    tarball="$(ls "$WORK"/*.tgz)"
    tar -xzf "$tarball" -C "$WORK" "$MEMBER"
    local got
    got="$(sha256sum "$WORK/$MEMBER" | cut -d' ' -f1)"
    [ "$got" = "$SCHEMA_SHA256" ] || { echo "sarif-schema: $MEMBER has SHA-256 $got, expected $SCHEMA_SHA256" >&2; exit 1; }
    mkdir -p "$FIXTURES"
    # Write through a temporary name so an interrupted run never leaves a partial schema.
    cp "$WORK/$MEMBER" "$SCHEMA.partial"
    mv "$SCHEMA.partial" "$SCHEMA"
    echo "sarif-schema: wrote $SCHEMA" >&2
}

ensure_jsonschema() {
    if python3 -c 'import jsonschema' >/dev/null 2>&1; then
        echo "sarif-schema: python jsonschema already importable" >&2
        return
    fi
    echo "sarif-schema: installing python package jsonschema" >&2
    python3 -m pip install --quiet jsonschema
    python3 -c 'import jsonschema' || { echo "sarif-schema: jsonschema still not importable" >&2; exit 1; }
}

fetch_schema
ensure_jsonschema
echo "sarif-schema: ready (WEFT_FIXTURES=$FIXTURES)" >&2
