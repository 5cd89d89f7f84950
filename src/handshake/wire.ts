// The JSON text a Rust kernel writes for handshake structs (docs/protocol.md §2): serde_json's compact formatter,
// fields in struct declaration order (serde derive order), no whitespace.
//
// String escaping: serde_json (ser.rs, the `ESCAPE` table and `CharEscape::AsciiControl`)
// escapes `"` and `\`, writes \b \t \n \f \r in short form, other U+0000–U+001F as \u00xx with
// lowercase hex digits, and writes everything else raw, including DEL, C1 controls, U+2028/2029
// and astral characters. ECMAScript's JSON.stringify (QuoteJSONString, ES2019 "well-formed
// JSON.stringify") does exactly the same for every well-formed string; the two differ only for
// lone surrogates, which JSON.stringify writes as \udxxx and which Rust strings cannot hold.
// Handshake values never contain lone surrogates: the parsers refuse them (MALFORMED_ENVELOPE)
// and signing refuses them (CANONICAL_JSON), so JSON.stringify is serde_json here.
// test/node/handshake-wire.test.ts checks this against a transcription of serde_json's table for
// every BMP code point.
import { describeConfigValue, InvalidTypeError } from "../errors.js";
import { booleanOption } from "../canonical/limits.js";
import { isSafeInteger, loneSurrogateIndex, quoteJsonString, readOptions, toText } from "../bytes.js";
import { DEFAULT_MAX_ENVELOPE_BYTES, MAX_ENVELOPE_BYTES_LIMIT } from "./constants.js";
import { InvalidConfigError } from "./errors.js";

/** True if `text` holds an unpaired UTF-16 surrogate (not representable in UTF-8 or Rust). */
export function hasLoneSurrogate(text: string): boolean {
  return loneSurrogateIndex(text) >= 0;
}

/**
 * serde_json's compact form of a string that has no lone surrogate (see above). JSON.stringify
 * and String as captured at load (src/bytes.ts): the wire text this kernel sends must not change
 * with a replacement made later.
 */
export function serdeString(text: string): string {
  return quoteJsonString(text);
}

/** serde_json's form of a u64: exact decimal digits, whether the value is a number or a bigint. */
export function serdeU64(value: number | bigint): string {
  return toText(value);
}

/**
 * The DEL/C1 escaping switch of an options object (docs/protocol.md §3): `escapeDelAndC1`, the
 * one name every layer uses, or its deprecated alias `legacyControlEscapes`. Undefined when
 * neither is set. @throws InvalidTypeError when a value is not a boolean or the two disagree.
 */
export function readEscapeDelAndC1(options: { escapeDelAndC1?: unknown; legacyControlEscapes?: unknown }): boolean | undefined {
  const value = options.escapeDelAndC1;
  const alias = options.legacyControlEscapes;
  if (value !== undefined && typeof value !== "boolean") throw new InvalidTypeError("escapeDelAndC1 must be a boolean");
  if (alias !== undefined && typeof alias !== "boolean") throw new InvalidTypeError("legacyControlEscapes must be a boolean");
  if (value !== undefined && alias !== undefined && value !== alias) {
    throw new InvalidTypeError("escapeDelAndC1 and its deprecated alias legacyControlEscapes disagree");
  }
  return value ?? alias;
}

/**
 * An envelope size limit in 1 … MAX_ENVELOPE_BYTES_LIMIT: the one rule for every envelope size
 * option (fromJSON's and verifyEnvelopeBytes/verifyEnvelopeBatch's `maxBytes`, the pool's, and
 * `maxEnvelopeBytes`). The wasm verifier could not honour more, and a limit the caller asked for
 * is refused rather than silently changed.
 * @throws InvalidConfigError naming `name`.
 */
export function expectMaxEnvelopeBytes(value: unknown, name: string): number {
  if (typeof value !== "number" || !isSafeInteger(value) || value < 1 || value > MAX_ENVELOPE_BYTES_LIMIT) {
    throw new InvalidConfigError(`${name} must be an integer in 1..${MAX_ENVELOPE_BYTES_LIMIT} (16 MiB), got ${describeConfigValue(value)}`);
  }
  return value;
}

/** The members of the handshake's options objects (EnvelopeParseOptions; the other calls take subsets of it). */
const ENVELOPE_OPTION_KEYS = ["maxBytes", "rejectWeakKeys", "escapeDelAndC1", "legacyControlEscapes"] as const;

/** What the options of fromJSON, verifySignature, sign and canonicalBytes say, defaults filled in. */
export interface EnvelopeSettings {
  readonly maxBytes: number;
  readonly rejectWeakKeys: boolean;
  readonly escapeDelAndC1: boolean;
}

/**
 * The options of PeerHandshakeEnvelope.fromJSON, verifySignature, sign and
 * HandshakeChallenge.canonicalBytes, read once each and checked. Each call takes every member of
 * EnvelopeParseOptions and uses those it needs, so one options object serves the object path's
 * two steps (`fromJSON(o, opts).verifySignature(opts)`); a member outside it (a misspelt
 * `maxByte` would leave the default in force unnoticed), a throwing read or a wrong type is
 * InvalidTypeError (InvalidConfigError for a maxBytes out of range), as for the other options
 * objects read through readSettings (review 57).
 */
export function readEnvelopeSettings(options: unknown): EnvelopeSettings {
  const read = readOptions(options, ENVELOPE_OPTION_KEYS);
  return {
    maxBytes: read.maxBytes === undefined ? DEFAULT_MAX_ENVELOPE_BYTES : expectMaxEnvelopeBytes(read.maxBytes, "maxBytes"),
    rejectWeakKeys: booleanOption(read.rejectWeakKeys, "rejectWeakKeys", true),
    escapeDelAndC1: readEscapeDelAndC1(read) === true,
  };
}
