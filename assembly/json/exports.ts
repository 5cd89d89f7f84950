// Wasm exports for RFC 8785 canonical JSON.
//
// ABI (mirrored by src/canonical/json.ts):
//  * JS writes the input bytes at ioBase() and passes their length.
//  * The export returns a status code (assembly/json/status.ts; envelope codes in envelope.ts).
//  * Results go to the ARGS result block (ARGS + ARG_RESULT) as little-endian u32 words:
//      json_canonicalize:  [0] output address  [1] output length  [2] error byte offset
import { ARGS, ARG_RESULT, ioBase } from "../memory";
import { canonicalizeText, outputStart, outputLength, errorOffset } from "./transcoder";
import { errorAt } from "./status";

/**
 * Canonicalizes the `inputLength` bytes of JSON text at ioBase() (RFC 8785).
 * `flags`: bit 0 = escape U+007F–U+009F (old chio kernels). `maxOutput`: output budget in bytes.
 */
export function json_canonicalize(inputLength: u32, maxDepth: u32, flags: u32, maxOutput: u32): i32 {
  const status = canonicalizeText(ioBase(), inputLength, maxDepth, flags, maxOutput);
  const result = ARGS + ARG_RESULT;
  store<u32>(result, <u32>outputStart);
  store<u32>(result + 4, <u32>outputLength);
  store<u32>(result + 8, status == 0 ? 0 : <u32>errorOffset(errorAt));
  return status;
}
