// The page's proof check against weft's known-answer vectors (made by an independent
// Python implementation, kernel/tests/vectors/crosscheck.py), a real proof from `weft
// chain proof`, and tampered variants of it that must each fail at their own check.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { encode } from "../src/cbor";
import { domainHash, headMessage, leafHash, nodeHash, rootFromPath, verifyProof, type Proof } from "../src/verify";

const root = new URL("../../../", import.meta.url).pathname;
const vectors = JSON.parse(readFileSync(`${root}kernel/tests/vectors/vectors.json`, "utf8"));
const realProof: Proof = JSON.parse(readFileSync(`${root}node/ui/tests/fixtures/proof-real.json`, "utf8"));

test("event hashes match the known answers", () => {
  for (const n of [0, 1]) {
    const hash = domainHash("weft/exochain/event/v1", hexToBytes(vectors[`event${n}_cbor`]));
    assert.equal(bytesToHex(hash), vectors[`event${n}_hash`]);
  }
});

test("Merkle roots and an audit path match the known answers", () => {
  const leaves = vectors.merkle_leaf_data.map((d: string) => leafHash(hexToBytes(d)));
  const mth = (l: Uint8Array[]): Uint8Array => {
    if (l.length === 1) return l[0];
    let k = 1;
    while (k * 2 < l.length) k *= 2;
    return nodeHash(mth(l.slice(0, k)), mth(l.slice(k)));
  };
  for (let n = 1; n <= leaves.length; n++) assert.equal(bytesToHex(mth(leaves.slice(0, n))), vectors.merkle_roots[n]);
  const index = vectors.merkle_path_index;
  const size = vectors.merkle_path_size;
  const path = vectors.merkle_path.map(hexToBytes);
  const got = rootFromPath(index, size, leaves[index], path);
  assert.equal(got && bytesToHex(got), vectors.merkle_roots[size]);
  const elsewhere = rootFromPath(index + 1, size, leaves[index], path);
  assert.notEqual(elsewhere && bytesToHex(elsewhere), vectors.merkle_roots[size], "a path proves one position only");
  assert.equal(rootFromPath(size, size, leaves[0], path), null);
});

test("the signed head's message matches the known answer", () => {
  const h1 = vectors.event1_hash;
  const message = headMessage({
    chain_id: vectors.chain_id,
    seq: 1,
    head_hash: h1,
    merkle_root: vectors.head_merkle_root,
    time_ns: String(BigInt(vectors.genesis_time_ns) + 2000n),
    signer: vectors.public_key,
    signature: vectors.head_signature,
  });
  assert.equal(bytesToHex(message), vectors.head_message);
});

test("canonical CBOR uses the shortest heads", () => {
  assert.equal(bytesToHex(encode(23)), "17");
  assert.equal(bytesToHex(encode(24)), "1818");
  assert.equal(bytesToHex(encode(256)), "190100");
  assert.equal(bytesToHex(encode(2n ** 32n)), "1b0000000100000000");
  assert.equal(bytesToHex(encode([1, Uint8Array.of(1, 2)])), "82014201" + "02");
  assert.throws(() => encode(2n ** 64n));
});

test("a real proof verifies", () => {
  assert.deepEqual(verifyProof(realProof), { ok: true, note: undefined });
});

function tampered(change: (p: Proof) => void): Proof {
  const p: Proof = structuredClone(realProof);
  change(p);
  return p;
}

const flip = (hex: string, at = hex.length - 1): string => hex.slice(0, at) + (hex[at] === "0" ? "1" : "0") + hex.slice(at + 1);

test("each tampering fails at its own check", () => {
  const cases: [string, (p: Proof) => void][] = [
    ["hash to its event hash", (p) => (p.event_cbor = flip(p.event_cbor))],
    ["audit path", (p) => (p.audit_path[0] = flip(p.audit_path[0]))],
    ["audit path", (p) => p.audit_path.pop()],
    ["Merkle root", (p) => (p.signed_head.merkle_root = flip(p.signed_head.merkle_root))],
    ["signature", (p) => (p.signed_head.signature = flip(p.signed_head.signature))],
    ["signature", (p) => (p.signed_head.time_ns = String(BigInt(p.signed_head.time_ns) + 1n))],
    ["proven leaf", (p) => (p.event.seq = p.leaf_index + 1)],
    ["another chain", (p) => (p.signed_head.chain_id = flip(p.signed_head.chain_id))],
    ["signed head's", (p) => (p.tree_size += 1)],
    ["malformed", (p) => (p.event_cbor = "zz")],
    ["not the head's event", (p) => {
      p.signed_head.seq = p.leaf_index;
      p.tree_size = p.leaf_index + 1;
    }],
  ];
  for (const [reason, change] of cases) {
    const verdict = verifyProof(tampered(change));
    assert.equal(verdict.ok, false, reason);
    if (!verdict.ok) assert.match(verdict.reason, new RegExp(reason), reason);
  }
});
