// Many handshake envelopes in one wasm call (verifyEnvelopeBatch; docs/protocol.md §2–§4): each is
// parsed and checked by envelope.ts exactly as envelope_verify does, stopping before the
// signature (ENVELOPE_FLAG_DEFER_SIGNATURE); the signatures of those that get that far are then
// checked together by the exact batch verifier (assembly/ed25519/batch.ts), whose answer for
// each equals the single verifier's. So every verdict equals envelope_verify's for that envelope.
//
// Memory, from ioBase() (offsets in abi.ts):
//   [entries: count × ENVELOPE_BATCH_ENTRY_BYTES][the envelopes]          written by JS (inputBytes)
//   [batch item records: count × BATCH_ITEM_BYTES][owners: count × u32]   (record -> envelope)
//   [batch scratch: BATCH_SCRATCH_BYTES]
//   [result blocks: count × ENVELOPE_RESULT_BYTES][verdicts: count × i32]
//   [work areas of the envelopes, one after another]
// Every span of a result block points into the work areas (envelope.ts copies the timestamp
// digits there too), so the verdicts need exactly the bytes from the result blocks to
// ENVELOPE_BATCH_OUT_END: JS reads them in place, or the worker pool copies that one range.
//
// Variable time: envelopes are public.
import { ADDRESS_CEILING, ARGS, ARG_RESULT, ioBase, ioHolds, ensureIoCapacity } from "../memory";
import {
  BATCH_MAX_ITEMS, BATCH_ITEM_BYTES, BATCH_ITEM_PUBLIC_KEY, BATCH_ITEM_SIGNATURE, BATCH_ITEM_MESSAGE_OFFSET,
  BATCH_ITEM_MESSAGE_LENGTH, BATCH_ITEM_RANDOM, BATCH_ITEM_RESULT, BATCH_DONE, BATCH_OUT_OF_MEMORY, BATCH_BAD_LAYOUT,
  ENVELOPE_BATCH_ENTRY_BYTES, ENVELOPE_BATCH_ENTRY_OFFSET, ENVELOPE_BATCH_ENTRY_LENGTH, ENVELOPE_BATCH_ENTRY_RANDOM,
  ENVELOPE_RESULT_BYTES, ENVELOPE_BATCH_OUT_RESULTS, ENVELOPE_BATCH_OUT_VERDICTS, ENVELOPE_BATCH_OUT_END,
  ENVELOPE_OK, ENVELOPE_INVALID_SIGNATURE, ENVELOPE_SIGNATURE_DEFERRED, ENVELOPE_FLAG_DEFER_SIGNATURE, ENVELOPE_FLAG_ZIP215,
  ENVELOPE_RESULT_CANONICAL, ENVELOPE_RESULT_PUBLIC_KEY, ENVELOPE_RESULT_SIGNATURE,
  ENVELOPE_MALFORMED, ENVELOPE_RESULT_REASON, STATUS_TOO_LARGE,
} from "../abi";
import { BATCH_SCRATCH_BYTES, batch_begin_vartime, batch_add_vartime, batch_settle_vartime } from "../ed25519/batch";
import { verifyEnvelopeText, envelopeWorkEnd, DEFERRED_KEY_POINT } from "./envelope";

// @ts-ignore: decorator
@inline function align16(x: usize): usize {
  return (x + 15) & ~(<usize>15);
}

/**
 * Verifies the `count` envelopes described by the entries at ioBase() (inputBytes = bytes of
 * entries and envelopes) with the envelope_verify flags `flags` (DEFER_SIGNATURE is implied).
 * Writes the output words at ARGS + ARG_RESULT. Returns BATCH_DONE, BATCH_OUT_OF_MEMORY (also
 * when an envelope found no work memory) or BATCH_BAD_LAYOUT; on either of the
 * last two the verdicts are not to be read.
 */
export function verify_envelope_batch_vartime(count: usize, inputBytes: usize, flags: u32): i32 {
  if (count > <usize>BATCH_MAX_ITEMS || inputBytes < count * ENVELOPE_BATCH_ENTRY_BYTES || !ioHolds(inputBytes)) return BATCH_BAD_LAYOUT;
  const io = ioBase();
  for (let e: usize = 0; e < count; e++) {
    const entry = io + e * ENVELOPE_BATCH_ENTRY_BYTES;
    const offset = <u64>load<u32>(entry + ENVELOPE_BATCH_ENTRY_OFFSET);
    const length = <u64>load<u32>(entry + ENVELOPE_BATCH_ENTRY_LENGTH);
    if (offset < <u64>(count * ENVELOPE_BATCH_ENTRY_BYTES) || offset + length > <u64>inputBytes) return BATCH_BAD_LAYOUT;
  }
  const recordsAt = align16(inputBytes);
  const ownersAt = recordsAt + count * BATCH_ITEM_BYTES;
  const scratchAt = align16(ownersAt + count * 4);
  const resultsAt = scratchAt + BATCH_SCRATCH_BYTES;
  const verdictsAt = resultsAt + count * ENVELOPE_RESULT_BYTES;
  const workAt = align16(verdictsAt + count * 4);
  // Everything past the input is below 1 MiB (count <= BATCH_MAX_ITEMS), so only the ceiling can fail here.
  if (<u64>io + <u64>workAt + 256 > ADDRESS_CEILING || !ensureIoCapacity(workAt + 256)) return BATCH_OUT_OF_MEMORY;

  const records = io + recordsAt;
  batch_begin_vartime(records, io + scratchAt, (flags & ENVELOPE_FLAG_ZIP215) != 0);
  let work = io + workAt;
  let pending: usize = 0;
  for (let e: usize = 0; e < count; e++) {
    const entry = io + e * ENVELOPE_BATCH_ENTRY_BYTES;
    const result = io + resultsAt + e * ENVELOPE_RESULT_BYTES;
    const envelope = io + <usize>load<u32>(entry + ENVELOPE_BATCH_ENTRY_OFFSET);
    const length = <usize>load<u32>(entry + ENVELOPE_BATCH_ENTRY_LENGTH);
    const verdict = verifyEnvelopeText(envelope, length, flags | ENVELOPE_FLAG_DEFER_SIGNATURE, result, work);
    work = envelopeWorkEnd();
    // An envelope that found no work memory might fit in a smaller call, or in envelope_verify's
    // call alone (no records, scratch or results): the whole call is out of memory, also for one
    // envelope, and JS retries with fewer envelopes, then with envelope_verify, whose verdict is
    // the one verifyEnvelopeBytes gives.
    if (verdict == ENVELOPE_MALFORMED && load<u32>(result + ENVELOPE_RESULT_REASON) == <u32>STATUS_TOO_LARGE) return BATCH_OUT_OF_MEMORY;
    store<i32>(io + verdictsAt + (e << 2), verdict);
    if (verdict != ENVELOPE_SIGNATURE_DEFERRED) continue;
    // A batch item over the canonical challenge (in this envelope's work area, past the records).
    const r = records + pending * BATCH_ITEM_BYTES;
    memory.copy(r + BATCH_ITEM_PUBLIC_KEY, result + ENVELOPE_RESULT_PUBLIC_KEY, 32);
    memory.copy(r + BATCH_ITEM_SIGNATURE, result + ENVELOPE_RESULT_SIGNATURE, 64);
    store<u32>(r + BATCH_ITEM_MESSAGE_OFFSET, load<u32>(result + ENVELOPE_RESULT_CANONICAL) - <u32>records);
    store<u32>(r + BATCH_ITEM_MESSAGE_LENGTH, load<u32>(result + ENVELOPE_RESULT_CANONICAL + 4));
    memory.copy(r + BATCH_ITEM_RANDOM, entry + ENVELOPE_BATCH_ENTRY_RANDOM, 16);
    store<u32>(io + ownersAt + (pending << 2), <u32>e);
    // The parse just decoded the key (DEFERRED_KEY_POINT): the batch takes it from there.
    batch_add_vartime(pending, DEFERRED_KEY_POINT);
    pending++;
  }
  batch_settle_vartime();
  for (let t: usize = 0; t < pending; t++) {
    const e = <usize>load<u32>(io + ownersAt + (t << 2));
    const valid = load<u8>(records + t * BATCH_ITEM_BYTES + BATCH_ITEM_RESULT) != 0;
    store<i32>(io + verdictsAt + (e << 2), valid ? ENVELOPE_OK : ENVELOPE_INVALID_SIGNATURE);
  }
  store<u32>(ARGS + ARG_RESULT + ENVELOPE_BATCH_OUT_RESULTS, <u32>resultsAt);
  store<u32>(ARGS + ARG_RESULT + ENVELOPE_BATCH_OUT_VERDICTS, <u32>verdictsAt);
  store<u32>(ARGS + ARG_RESULT + ENVELOPE_BATCH_OUT_END, <u32>(work - io));
  return BATCH_DONE;
}
