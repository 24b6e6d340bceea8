#!/usr/bin/env python3
"""Independent encoder of weft's mesh messages, used to produce the known-answer vectors
in vectors.json (re-run it to check them): a signed head in its canonical kernel form,
conflict evidence, a signed capability advert (without and with a calibration), a sync
request and its two kinds of response, and a query request with its two kinds of response. CBOR is written here by
hand (the signed payloads, head and advert, in canonical order: keys sorted by their
encoded bytes; the unsigned containers in field order, as serde writes structs),
signatures with Python `cryptography`. It shares no code with the Rust implementation;
the Rust test `net/tests/vectors.rs` checks both agree. Run: python3 crosscheck.py > vectors.json
"""
import json, struct
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization


def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for extra, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | extra]) + struct.pack(fmt, n)


def enc(v, canonical=False):
    if v is None:
        return b"\xf6"
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return head(0, v)
    if isinstance(v, bytes):
        return head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return head(3, len(b)) + b
    if isinstance(v, list):
        return head(4, len(v)) + b"".join(enc(x, canonical) for x in v)
    if isinstance(v, dict):
        items = [(enc(k), enc(x, canonical)) for k, x in v.items()]
        if canonical:
            items.sort()
        return head(5, len(items)) + b"".join(k + x for k, x in items)
    raise TypeError(v)


seed = bytes([7] * 32)
sk = Ed25519PrivateKey.from_private_bytes(seed)
pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
chain_id = bytes([3] * 16)


def signed_head(seq, head_hash, root, time_ns):
    body = enc([1, chain_id, seq, head_hash, root, time_ns, pk])
    signature = sk.sign(b"weft/exochain/head/v1\x00" + body)
    return enc({"chain_id": chain_id, "seq": seq, "head_hash": head_hash,
                "merkle_root": root, "time_ns": time_ns, "signer": pk,
                "signature": signature}, canonical=True)


first = signed_head(5, bytes([0xaa] * 32), bytes([0xbb] * 32), 1000)
second = signed_head(5, bytes([0xcc] * 32), bytes([0xdd] * 32), 2000)
evidence = enc({"first": first, "second": second, "fork": None})

advert = {
    "version": "0.1.0", "project": "upstream", "chain_id": chain_id.hex(), "head_seq": 42,
    "languages": ["rust", "python"], "symbols": 1699, "vectors": 1699,
    "model": "all-MiniLM-L6-v2/int8/mean/l2", "dims": 384, "hnsw": True,
    "services": ["sync"], "p95_us": 850, "time_ns": 1700000000000000000, "signer": pk,
}
advert_signature = sk.sign(b"weft/net/advert/v1\x00" + enc(advert, canonical=True))
signed_advert = enc({"advert": advert, "signature": advert_signature}, canonical=True)


def signed_with(advert):
    signature = sk.sign(b"weft/net/advert/v1\x00" + enc(advert, canonical=True))
    return enc({"advert": advert, "signature": signature}, canonical=True)


# The same advert with a calibration: all three figures, then without a model (the two
# figures that need one are left out of the map, not written as zero or null).
calibrated = dict(advert, calibration={
    "embed_per_s": 180, "search_us": 4200, "verify_per_s": 250000,
    "time_ns": 1699999999000000000})
signed_advert_calibrated = signed_with(calibrated)
no_model = dict(advert, calibration={"verify_per_s": 250000, "time_ns": 1699999999000000000})
signed_advert_calibrated_no_model = signed_with(no_model)

sync_request = enc({"chain_id": chain_id, "from": 7, "max_count": 1024, "max_bytes": 8 << 20})
# A range's container: the event encodings and hashes here are placeholders, what is
# pinned is how the response wraps them (its own checks are the replica's).
sync_range = enc({"Range": {"events": [bytes([0x81, 0x01]), bytes([0x81, 0x02])],
                            "head": first, "consistency": [bytes([0x11] * 32)],
                            "first_path": [bytes([0x22] * 32), bytes([0x33] * 32)]}})
sync_refused = enc({"Refused": {"reason": "unknown chain"}})

query_request = enc({"kind": "usage", "body": enc({"packages": [], "symbols": []})})
query_answer = enc({"Answer": {"body": bytes([0xa0])}})
query_refused = enc({"Refused": {"reason": "busy: 4 queries in flight"}})

print(json.dumps({
    "key_seed": seed.hex(),
    "public_key": pk.hex(),
    "head_first": first.hex(),
    "head_second": second.hex(),
    "evidence_conflict": evidence.hex(),
    "signed_advert": signed_advert.hex(),
    "signed_advert_calibrated": signed_advert_calibrated.hex(),
    "signed_advert_calibrated_no_model": signed_advert_calibrated_no_model.hex(),
    "sync_request": sync_request.hex(),
    "sync_range": sync_range.hex(),
    "sync_refused": sync_refused.hex(),
    "query_request": query_request.hex(),
    "query_answer": query_answer.hex(),
    "query_refused": query_refused.hex(),
}, indent=2))
