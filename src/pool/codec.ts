// The wire format between the pool (src/pool/index.ts) and its workers (src/pool/worker.ts).
//
// A task carries one chunk of work as ONE ArrayBuffer, transferred (not cloned), so a chunk of
// 64 items costs one postMessage of one buffer instead of a structured clone of 192 small
// Uint8Arrays. The result comes back the same way: one Uint8Array of verdicts, transferred.
//
// Signature chunk (SIGNATURE_CHUNK):
//   u32 count, then u32 × (count + 1) message offsets (relative to the message area),
//   then count × 64 signature bytes, count × 32 public-key bytes, then the messages end to end.
//   Result: count bytes, 1 = valid, 0 = invalid.
// Envelope chunk (ENVELOPE_CHUNK):
//   u32 count, then count × (u32 start, u32 byteLength, u32 isString), then the inputs. A string
//   is sent as its UTF-16 code units (2-byte aligned), so the worker rebuilds exactly the string
//   the caller passed, lone surrogates included, and its verdict (offsets, LONE_SURROGATE) is the
//   one verifyEnvelopeBytes gives the caller's string.
//   Result: the verdicts, serialised by writeVerdicts below.
//
// Every u32 is little-endian (DataView), independent of the host's byte order.
import type { VerifyOptions } from "../ed25519.js";
import type { EnvelopeFailureCode, EnvelopeFieldPath, EnvelopeProblem, EnvelopeVerdict, VerifiedEnvelope, VerifyEnvelopeOptions } from "../handshake/verify-envelope.js";

export const TASK_SIGNATURES = 0;
export const TASK_ENVELOPES = 1;

/** Test-only crash modes (see VerifierPoolOptions.crashWorkersForTesting). */
export const CRASH_NONE = 0;
export const CRASH_EXIT = 1; //      process.exit(1) in the worker thread
export const CRASH_UNCAUGHT = 2; //  an uncaught exception thrown outside the task
export const CRASH_OOM = 3; //       allocate until the worker's heap limit ends it

export interface PoolTask {
  kind: typeof TASK_SIGNATURES | typeof TASK_ENVELOPES;
  /** The chunk (codec.ts), transferred. */
  buffer: ArrayBuffer;
  /** Signature chunks: the options of ed25519.verify, normalised. */
  verify?: VerifyOptions;
  /** Envelope chunks: the options of verifyEnvelopeBytes, normalised. */
  envelope?: VerifyEnvelopeOptions;
  /** Test-only: crash after verifying half the chunk. */
  crash: number;
}

/** What a task returns when verification itself threw (not a crash: the worker lives on). */
export interface TaskFailure {
  failed: true;
  name: string;
  code: string | undefined;
  message: string;
}


export const SIGNATURE_BYTES = 64;
export const PUBLIC_KEY_BYTES = 32;

/** A chunk of signature checks as the worker reads it (views into the transferred buffer). */
export interface SignatureChunkItem {
  signature: Uint8Array;
  message: Uint8Array;
  publicKey: Uint8Array;
}

// ---- Signature chunks ---------------------------------------------------------------------

/** Byte size of a signature chunk with `count` items and `messageBytes` bytes of messages in all. */
export function signatureChunkSize(count: number, messageBytes: number): number {
  return 4 + 4 * (count + 1) + count * (SIGNATURE_BYTES + PUBLIC_KEY_BYTES) + messageBytes;
}

/**
 * Packs already validated items into one fresh ArrayBuffer. `set` from a typed array copies
 * through internal slots and runs no caller code, so this is the defensive copy of every input.
 */
export function packSignatureChunk(
  signatures: readonly Uint8Array[],
  messages: readonly Uint8Array[],
  publicKeys: readonly Uint8Array[],
  start: number,
  end: number,
): ArrayBuffer {
  const count = end - start;
  let messageBytes = 0;
  for (let i = start; i < end; i++) messageBytes += messages[i].length;
  const buffer = new ArrayBuffer(signatureChunkSize(count, messageBytes));
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  view.setUint32(0, count, true);
  const signatureArea = 4 + 4 * (count + 1);
  const keyArea = signatureArea + count * SIGNATURE_BYTES;
  const messageArea = keyArea + count * PUBLIC_KEY_BYTES;
  let offset = 0;
  for (let k = 0; k < count; k++) {
    const i = start + k;
    view.setUint32(4 + 4 * k, offset, true);
    bytes.set(signatures[i], signatureArea + k * SIGNATURE_BYTES);
    bytes.set(publicKeys[i], keyArea + k * PUBLIC_KEY_BYTES);
    bytes.set(messages[i], messageArea + offset);
    offset += messages[i].length;
  }
  view.setUint32(4 + 4 * count, offset, true);
  return buffer;
}

/** The items of a signature chunk, as views of `buffer` (no copies). */
export function unpackSignatureChunk(buffer: ArrayBuffer): SignatureChunkItem[] {
  const view = new DataView(buffer);
  const count = view.getUint32(0, true);
  const signatureArea = 4 + 4 * (count + 1);
  const keyArea = signatureArea + count * SIGNATURE_BYTES;
  const messageArea = keyArea + count * PUBLIC_KEY_BYTES;
  const items: SignatureChunkItem[] = new Array(count);
  for (let k = 0; k < count; k++) {
    const from = view.getUint32(4 + 4 * k, true);
    const to = view.getUint32(8 + 4 * k, true);
    items[k] = {
      signature: new Uint8Array(buffer, signatureArea + k * SIGNATURE_BYTES, SIGNATURE_BYTES),
      publicKey: new Uint8Array(buffer, keyArea + k * PUBLIC_KEY_BYTES, PUBLIC_KEY_BYTES),
      message: new Uint8Array(buffer, messageArea + from, to - from),
    };
  }
  return items;
}

// ---- Envelope chunks ----------------------------------------------------------------------

/** Packs already validated envelope inputs (strings or readable Uint8Arrays) into one fresh ArrayBuffer. */
export function packEnvelopeChunk(inputs: readonly (Uint8Array | string)[], start: number, end: number): ArrayBuffer {
  const count = end - start;
  const tableEnd = 4 + 12 * count;
  let size = tableEnd;
  for (let i = start; i < end; i++) {
    const input = inputs[i];
    size += typeof input === "string" ? 2 * input.length + 1 : input.length; // + 1: room to align a string
  }
  const buffer = new ArrayBuffer(size);
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  view.setUint32(0, count, true);
  let at = tableEnd;
  for (let k = 0; k < count; k++) {
    const input = inputs[start + k];
    const row = 4 + 12 * k;
    if (typeof input === "string") {
      at += at & 1;
      const units = new Uint16Array(input.length);
      for (let u = 0; u < input.length; u++) units[u] = input.charCodeAt(u);
      bytes.set(new Uint8Array(units.buffer), at);
      // Uint16Array uses the host's byte order; the worker reads it back with the same order (same process).
      view.setUint32(row, at, true);
      view.setUint32(row + 4, 2 * input.length, true);
      view.setUint32(row + 8, 1, true);
      at += 2 * input.length;
    } else {
      bytes.set(input, at);
      view.setUint32(row, at, true);
      view.setUint32(row + 4, input.length, true);
      view.setUint32(row + 8, 0, true);
      at += input.length;
    }
  }
  return buffer;
}

/** The inputs of an envelope chunk: byte inputs as views of `buffer`, strings rebuilt unit for unit. */
export function unpackEnvelopeChunk(buffer: ArrayBuffer): (Uint8Array | string)[] {
  const view = new DataView(buffer);
  const count = view.getUint32(0, true);
  const inputs: (Uint8Array | string)[] = new Array(count);
  for (let k = 0; k < count; k++) {
    const row = 4 + 12 * k;
    const start = view.getUint32(row, true);
    const length = view.getUint32(row + 4, true);
    if (view.getUint32(row + 8, true) === 1) {
      const units = new Uint16Array(buffer, start, length / 2);
      let text = "";
      // fromCharCode takes the units as arguments: go in slices that stay far below the engine's argument limit.
      for (let u = 0; u < units.length; u += 4096) {
        text += String.fromCharCode.apply(null, units.subarray(u, u + 4096) as unknown as number[]);
      }
      inputs[k] = text;
    } else {
      inputs[k] = new Uint8Array(buffer, start, length);
    }
  }
  return inputs;
}

// ---- Envelope verdicts --------------------------------------------------------------------
//
// One record per verdict. ok: u8 1, timestamp (u8 0 + f64, or u8 1 + decimal digits), the four
// challenge strings, 32 key bytes, 64 signature bytes, the canonical challenge. Failure: u8 0,
// u8 code, the message, a u8 mask of the optional members present, then each present member in
// the order the in-thread verdict builds them (offset as f64, the others as strings). Strings
// are UTF-8: every string of a verdict is either ASCII text of ours or was decoded from UTF-8
// that the wasm parser validated, so the round trip is exact.

const CODES: readonly EnvelopeFailureCode[] = ["MALFORMED_ENVELOPE", "UNSUPPORTED_SCHEMA", "WEAK_PUBLIC_KEY", "INVALID_SIGNATURE"];
const OPTIONAL = ["offset", "problem", "field", "detail", "schema", "declaredPublicKeyHex"] as const;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A growable byte buffer (worker side). */
class Writer {
  private bytes = new Uint8Array(4096);
  private view = new DataView(this.bytes.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }
  u8(x: number): void {
    this.room(1);
    this.bytes[this.length++] = x;
  }
  f64(x: number): void {
    this.room(8);
    this.view.setFloat64(this.length, x, true);
    this.length += 8;
  }
  raw(b: Uint8Array): void {
    this.room(b.length);
    this.bytes.set(b, this.length);
    this.length += b.length;
  }
  sized(b: Uint8Array): void {
    this.room(4);
    this.view.setUint32(this.length, b.length, true);
    this.length += 4;
    this.raw(b);
  }
  text(s: string): void {
    this.sized(utf8.encode(s));
  }
  /** The written bytes in an ArrayBuffer of their own, ready to transfer. */
  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

/** Serialises verdicts (worker side). */
export function writeVerdicts(verdicts: readonly EnvelopeVerdict[]): Uint8Array {
  const w = new Writer();
  for (const v of verdicts) {
    if (v.ok) {
      const e = v.envelope;
      w.u8(1);
      if (typeof e.challenge.timestamp === "number") {
        w.u8(0);
        w.f64(e.challenge.timestamp);
      } else {
        w.u8(1);
        w.text(e.challenge.timestamp.toString());
      }
      w.text(e.challenge.schema);
      w.text(e.challenge.localKernelId);
      w.text(e.challenge.remoteKernelId);
      w.text(e.challenge.nonce);
      w.raw(e.declaredPublicKey);
      w.raw(e.signature);
      w.sized(e.canonicalChallenge);
    } else {
      w.u8(0);
      w.u8(CODES.indexOf(v.code));
      w.text(v.message);
      let mask = 0;
      OPTIONAL.forEach((name, bit) => {
        if (v[name] !== undefined) mask |= 1 << bit;
      });
      w.u8(mask);
      if (v.offset !== undefined) w.f64(v.offset);
      OPTIONAL.forEach((name, bit) => {
        if (bit > 0 && mask & (1 << bit)) w.text(v[name] as string);
      });
    }
  }
  return w.finish();
}

/** Reads `count` verdicts back (calling thread), as plain objects equal to verifyEnvelopeBytes's. */
export function readVerdicts(bytes: Uint8Array, count: number): EnvelopeVerdict[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const slice = (n: number): Uint8Array => bytes.slice(at, (at += n));
  const sized = (): Uint8Array => {
    const n = view.getUint32(at, true);
    at += 4;
    return slice(n);
  };
  const text = (): string => {
    const n = view.getUint32(at, true);
    at += 4;
    const s = fromUtf8.decode(bytes.subarray(at, at + n));
    at += n;
    return s;
  };
  const f64 = (): number => {
    const x = view.getFloat64(at, true);
    at += 8;
    return x;
  };
  const out: EnvelopeVerdict[] = new Array(count);
  for (let k = 0; k < count; k++) {
    if (bytes[at++] === 1) {
      const timestamp: number | bigint = bytes[at++] === 0 ? f64() : BigInt(text());
      const challenge: VerifiedEnvelope["challenge"] = { schema: text(), localKernelId: text(), remoteKernelId: text(), nonce: text(), timestamp };
      const declaredPublicKey = slice(PUBLIC_KEY_BYTES);
      const signature = slice(SIGNATURE_BYTES);
      out[k] = { ok: true, envelope: { challenge, declaredPublicKey, signature, canonicalChallenge: sized() } };
    } else {
      const code = CODES[bytes[at++]];
      const verdict: Extract<EnvelopeVerdict, { ok: false }> = { ok: false, code, message: text() };
      const mask = bytes[at++];
      if (mask & 1) verdict.offset = f64();
      if (mask & 2) verdict.problem = text() as EnvelopeProblem;
      if (mask & 4) verdict.field = text() as EnvelopeFieldPath;
      if (mask & 8) verdict.detail = text();
      if (mask & 16) verdict.schema = text();
      if (mask & 32) verdict.declaredPublicKeyHex = text();
      out[k] = verdict;
    }
  }
  if (at !== bytes.length) throw new RangeError(`envelope verdicts: ${bytes.length - at} bytes left over`);
  return out;
}
