// The little canonical CBOR (RFC 8949 §4.2.1) the page needs to check a signed head:
// the head's message is an array of unsigned integers and byte strings, encoded with
// the shortest heads. Independent of weft's Rust encoder on purpose.

export type Item = bigint | number | Uint8Array | Item[];

function head(major: number, value: bigint): number[] {
  const m = major << 5;
  if (value < 24n) return [m | Number(value)];
  const widths: [number, number][] = [
    [24, 1],
    [25, 2],
    [26, 4],
    [27, 8],
  ];
  for (const [info, bytes] of widths) {
    if (value < 1n << BigInt(8 * bytes)) {
      const out = [m | info];
      for (let i = bytes - 1; i >= 0; i--) out.push(Number((value >> BigInt(8 * i)) & 0xffn));
      return out;
    }
  }
  throw new RangeError("an unsigned integer of more than 64 bits");
}

/** The canonical encoding of `item`. */
export function encode(item: Item): Uint8Array {
  const out: number[] = [];
  const put = (x: Item): void => {
    if (typeof x === "number" || typeof x === "bigint") {
      const v = BigInt(x);
      if (v < 0n) throw new RangeError("negative integers are not used here");
      out.push(...head(0, v));
    } else if (x instanceof Uint8Array) {
      out.push(...head(2, BigInt(x.length)));
      for (const b of x) out.push(b);
    } else {
      out.push(...head(4, BigInt(x.length)));
      x.forEach(put);
    }
  };
  put(item);
  return Uint8Array.from(out);
}

/** Reads one unsigned-integer or byte-string item at `at`: [value, next offset]. */
export function readItem(bytes: Uint8Array, at: number): [bigint | Uint8Array | number, number] {
  if (at >= bytes.length) throw new RangeError("truncated CBOR");
  const major = bytes[at] >> 5;
  const info = bytes[at] & 31;
  let value: bigint;
  let next = at + 1;
  if (info < 24) value = BigInt(info);
  else if (info <= 27) {
    const n = 1 << (info - 24);
    if (next + n > bytes.length) throw new RangeError("truncated CBOR");
    value = 0n;
    for (let i = 0; i < n; i++) value = (value << 8n) | BigInt(bytes[next + i]);
    next += n;
  } else throw new RangeError("an indefinite or reserved CBOR head");
  if (major === 0) return [value, next];
  if (major === 2) {
    const end = next + Number(value);
    if (end > bytes.length) throw new RangeError("truncated CBOR");
    return [bytes.slice(next, end), end];
  }
  if (major === 4) return [Number(value), next];
  throw new RangeError(`CBOR major type ${major} is not read here`);
}
