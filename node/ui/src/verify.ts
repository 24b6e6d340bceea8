// Checks an inclusion proof (`weft chain proof SEQ --json`, docs/formats.md) in the
// page, with SHAKE-256 and Ed25519 from @noble (not from weft's server): the event's
// bytes hash to the event hash, the audit path (RFC 9162 §2.1.3.2) leads from that leaf
// to the signed head's Merkle root, the head's signature holds, and the bytes are the
// event at the proven position of the head's chain. "verified" means all of that was
// computed here.

import { ed25519 } from "@noble/curves/ed25519.js";
import { shake256 } from "@noble/hashes/sha3.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { encode, readItem } from "./cbor";

/** A signed head as weft's JSON writes it. */
export interface SignedHead {
  chain_id: string;
  seq: number;
  head_hash: string;
  merkle_root: string;
  time_ns: string | number;
  signer: string;
  signature: string;
}

/** An inclusion proof as `weft chain proof --json` writes it. */
export interface Proof {
  format: string;
  leaf_index: number;
  tree_size: number;
  event_hash: string;
  event_cbor: string;
  event: { seq: number; chain_id?: string };
  audit_path: string[];
  signed_head: SignedHead;
  signer_events?: unknown[];
}

/** The outcome: verified, or the first check that failed. */
export type Verdict = { ok: true; note?: string } | { ok: false; reason: string };

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** SHAKE-256 with 32 bytes of output. */
export function shake(data: Uint8Array): Uint8Array {
  return shake256(data, { dkLen: 32 });
}

/** weft's domain-separated hash: SHAKE-256(domain ‖ 0x00 ‖ data). */
export function domainHash(domain: string, data: Uint8Array): Uint8Array {
  return shake(concat(text(domain), Uint8Array.of(0), data));
}

/** RFC 6962 leaf and interior hashes over SHAKE-256. */
export const leafHash = (data: Uint8Array): Uint8Array => shake(concat(Uint8Array.of(0), data));
export const nodeHash = (l: Uint8Array, r: Uint8Array): Uint8Array =>
  shake(concat(Uint8Array.of(1), l, r));

/** The root an audit path leads to from `leaf` at `index` of a tree of `size`, or null. */
export function rootFromPath(
  index: number,
  size: number,
  leaf: Uint8Array,
  path: Uint8Array[],
): Uint8Array | null {
  if (index >= size) return null;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

/** The bytes a signed head's signature covers. */
export function headMessage(h: SignedHead): Uint8Array {
  const body = encode([
    1,
    hexToBytes(h.chain_id),
    BigInt(h.seq),
    hexToBytes(h.head_hash),
    hexToBytes(h.merkle_root),
    BigInt(h.time_ns),
    hexToBytes(h.signer),
  ]);
  return concat(text("weft/exochain/head/v1"), Uint8Array.of(0), body);
}

const equal = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Checks `proof`; any malformed field is a failure, never an exception. */
export function verifyProof(proof: Proof): Verdict {
  try {
    return check(proof);
  } catch (e) {
    return { ok: false, reason: `malformed proof: ${(e as Error).message}` };
  }
}

function check(p: Proof): Verdict {
  if (p.format !== "weft-inclusion-proof/1") return { ok: false, reason: `unknown format ${p.format}` };
  const head = p.signed_head;
  const bytes = hexToBytes(p.event_cbor);
  const hash = domainHash("weft/exochain/event/v1", bytes);
  if (!equal(hash, hexToBytes(p.event_hash))) {
    return { ok: false, reason: "the event's bytes do not hash to its event hash" };
  }
  // The bytes are [1, chain_id, seq, ...]: the event at the proven position of this chain.
  const [count, afterArray] = readItem(bytes, 0);
  const [version, afterVersion] = readItem(bytes, afterArray);
  const [chainId, afterChain] = readItem(bytes, afterVersion);
  const [seq] = readItem(bytes, afterChain);
  if (count !== 8 || version !== 1n) return { ok: false, reason: "the event's bytes are not a weft event" };
  if (!(chainId instanceof Uint8Array) || !equal(chainId, hexToBytes(head.chain_id))) {
    return { ok: false, reason: "the event belongs to another chain than the head" };
  }
  if (seq !== BigInt(p.leaf_index) || p.event.seq !== p.leaf_index) {
    return { ok: false, reason: "the event's sequence is not the proven leaf" };
  }
  if (p.tree_size !== head.seq + 1) {
    return { ok: false, reason: "the proof's tree is not the signed head's" };
  }
  if (p.leaf_index === head.seq && p.event_hash !== head.head_hash) {
    return { ok: false, reason: "the event is the head's position but not the head's event" };
  }
  const root = rootFromPath(p.leaf_index, p.tree_size, leafHash(hash), p.audit_path.map(hexToBytes));
  if (root === null || !equal(root, hexToBytes(head.merkle_root))) {
    return { ok: false, reason: "the audit path does not lead to the signed head's Merkle root" };
  }
  if (!ed25519.verify(hexToBytes(head.signature), headMessage(head), hexToBytes(head.signer))) {
    return { ok: false, reason: "the head's Ed25519 signature does not hold" };
  }
  const note =
    p.signer_events && p.signer_events.length > 0
      ? "cluster chain: the signer set (signer_events) is not checked in the page; `weft chain verify-proof` checks it"
      : undefined;
  return { ok: true, note };
}
