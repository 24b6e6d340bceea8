#!/usr/bin/env python3
"""Independent re-implementation of weft's hashed formats, used once to produce the
known-answer vectors in vectors.json (and re-runnable to check them): canonical CBOR,
SHAKE-256 event hashes, the chain id, the signed head message and its Ed25519 signature
(Python `cryptography`), and RFC 6962 Merkle roots and an audit path over SHAKE-256.

It shares no code with the Rust implementation; the Rust test `vectors.rs` checks that
both agree. Run: python3 crosscheck.py > vectors.json
"""
import hashlib, json, struct
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization


def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for extra, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | extra]) + struct.pack(fmt, n)


def enc(v):
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, float):
        for tag, fmt in ((0xF9, ">e"), (0xFA, ">f"), (0xFB, ">d")):
            try:
                packed = struct.pack(fmt, v)
            except OverflowError:
                continue
            if struct.unpack(fmt, packed)[0] == v:
                return bytes([tag]) + packed
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(enc(x) for x in v)
    if isinstance(v, dict):
        items = sorted((enc(k), enc(x)) for k, x in v.items())
        return head(5, len(items)) + b"".join(k + x for k, x in items)
    raise TypeError(v)


def shake(data):
    return hashlib.shake_256(data).digest(32)


def dom(domain, data):
    return shake(domain.encode() + b"\x00" + data)


def leaf(d):
    return shake(b"\x00" + d)


def node(l, r):
    return shake(b"\x01" + l + r)


def mth(leaves):
    if not leaves:
        return shake(b"")
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):
    if len(leaves) <= 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


seed = bytes(range(32))
sk = Ed25519PrivateKey.from_private_bytes(seed)
pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
t0 = 1_700_000_000_000_000_000
chain_id = dom("weft/exochain/chain-id/v1", pk + struct.pack(">Q", t0))[:16]

e0 = enc([1, chain_id, 0, bytes(32), t0, "chain", "chain.genesis",
          {"format": 1, "public_key": pk, "project": "vectors"}])
h0 = dom("weft/exochain/event/v1", e0)
e1 = enc([1, chain_id, 1, h0, t0 + 1000, "test", "test.vector",
          {"n": -7, "s": "h\u00e9llo", "f": 1.5, "b": bytes([1, 2, 3]), "l": [True, None], "big": 2**40}])
h1 = dom("weft/exochain/event/v1", e1)
root = mth([leaf(h0), leaf(h1)])
head_body = enc([1, chain_id, 1, h1, root, t0 + 2000, pk])
message = b"weft/exochain/head/v1\x00" + head_body
sig = sk.sign(message)

merkle_leaves = [leaf(bytes([i])) for i in range(7)]
out = {
    "key_seed": seed.hex(),
    "public_key": pk.hex(),
    "genesis_time_ns": t0,
    "chain_id": chain_id.hex(),
    "event0_cbor": e0.hex(),
    "event0_hash": h0.hex(),
    "event1_cbor": e1.hex(),
    "event1_hash": h1.hex(),
    "head_merkle_root": root.hex(),
    "head_message": message.hex(),
    "head_signature": sig.hex(),
    "merkle_leaf_data": [bytes([i]).hex() for i in range(7)],
    "merkle_roots": [mth(merkle_leaves[:n]).hex() for n in range(0, 8)],
    "merkle_path_index": 2,
    "merkle_path_size": 7,
    "merkle_path": [h.hex() for h in path(2, merkle_leaves)],
}
print(json.dumps(out, indent=2))
