// SHA-512 (FIPS 180-4) of the wasm core (assembly/sha512.ts, export `sha512(len)`: input in the
// I/O arena, digest at ARGS + ARG_DIGEST). Used where a 64-byte digest is needed in JS: the
// extended secret key of RFC 8032 §5.1.5 and the `hash` / `hashes` members of the
// @noble/ed25519-compatible entry. The input may be a secret (a seed), so the input bytes and the
// digest are zeroed in wasm memory before returning, also when the call fails; the hash context
// (chaining value and last block, which the export leaves behind) is overwritten by hashing the
// empty message, whose state is public.
import { copyInto, copyOfRange, typedArrayFill, viewLength } from "./bytes.js";
import { argsBase, coreCallInterrupted, coreExports, contained, heapU8, ioArenaBase, reserveIo, secretCall, type CoreExports } from "./wasm/instance.js";
import { ARG_DIGEST } from "./wasm/abi.js";

interface Sha512Exports extends CoreExports {
  sha512(len: number): void;
}

/** @internal SHA-512 of `data` (already validated as a readable Uint8Array by the caller). */
export function sha512Digest(data: Uint8Array): Uint8Array {
  try {
    const x = coreExports<Sha512Exports>();
    const len = viewLength(data); // the internal slot: copyInto below copies that many bytes
    if (len > 0) reserveIo(len);
    const input = ioArenaBase();
    copyInto(heapU8(), data, input, len);
    secretCall(x.sha512, len); // on failure all memory is zeroed and the instance dropped
    const heap = heapU8();
    const at = argsBase() + ARG_DIGEST;
    const digest = copyOfRange(heap, at, at + 64);
    typedArrayFill(heap, 0, at, at + 64);
    typedArrayFill(heap, 0, input, input + len);
    x.sha512(0); // overwrite the context left by the secret input with that of the empty message
    typedArrayFill(heap, 0, at, at + 64);
    return digest;
  } catch (cause) {
    coreCallInterrupted.set = true; // first, with no call (src/wasm/instance.ts)
    throw contained(cause); // guarded()'s handling, without a closure per call
  }
}
