// The calling thread's reading of a worker's answer (src/pool/worker.ts, format in codec.ts):
// the chunk's verdicts, or VerifierPoolError TASK_FAILED. The workers are this package's own
// code, but an answer is still checked before it is used, so that an answer of the wrong kind,
// count or shape rejects its call instead of resolving it with missing verdicts (or leaving
// single verify() calls pending for want of their bit).
import { readPackedEnvelopeVerdicts, type EnvelopeVerdict, type VerifyEnvelopeOptions } from "../handshake/verify-envelope.js";
import { SIGNATURE_ITEM_FAILED, type SignatureItemFailures, type TaskFailure } from "./codec.js";
import { VerifierPoolError } from "./errors.js";
// Uint8Arrays recognised by their internal slot (isUint8Array), not `instanceof`, whose
// Symbol.hasInstance and global Uint8Array caller code can replace (review 101).
import { isUint8Array, viewLength } from "../bytes.js";

/** A TaskFailure: what a live worker returns when verification threw. */
function isTaskFailure(answer: unknown): answer is TaskFailure {
  return typeof answer === "object" && answer !== null && !Array.isArray(answer) && !isUint8Array(answer) && (answer as TaskFailure).failed === true;
}

/**
 * VerifierPoolError TASK_FAILED for what a worker reported. Its `cause` is an Error with the
 * worker's error's name, code and message (review 48: the code was only in the message text), so
 * a caller tells WASM_OUT_OF_MEMORY from a trap by `error.cause.code`.
 */
function taskFailed(failure: TaskFailure): VerifierPoolError {
  const name = String(failure.name);
  const code = failure.code === undefined ? undefined : String(failure.code);
  const message = String(failure.message);
  const cause = Object.assign(new Error(message), { name, code });
  return new VerifierPoolError("TASK_FAILED", `verification failed in a worker: ${name}${code ? ` ${code}` : ""}: ${message}`, { cause });
}

/**
 * VerifierPoolError TASK_FAILED when `answer` is a worker's report that verification threw (a
 * TaskFailure), else undefined: the pool ends the chunk's call with it as soon as the answer is in
 * (PoolCall.fail), before the chunk's place goes to the next chunk.
 */
export function answerFailure(answer: unknown): VerifierPoolError | undefined {
  return isTaskFailure(answer) ? taskFailed(answer) : undefined;
}

/**
 * Whether a signature chunk's answer is verdict bytes (a Uint8Array), the answer of a chunk whose
 * every item has a verdict; readSignatureAnswer checks it further. Anything else is a failure: of
 * the whole chunk, of some of its items, or an answer of the wrong shape.
 */
export function isVerdictBytes(answer: unknown): boolean {
  return isUint8Array(answer);
}

/**
 * A signature chunk's verdicts: `bits` one byte per item (1 valid, 0 invalid,
 * SIGNATURE_ITEM_FAILED for an item that threw in the worker, whose error is in `failed` under its
 * index). VerifierPoolError TASK_FAILED for a failure of the whole chunk or any other answer.
 */
export interface SignatureVerdicts {
  bits: Uint8Array;
  failed?: Map<number, VerifierPoolError>;
}

export function readSignatureAnswer(answer: unknown, count: number): SignatureVerdicts {
  if (isTaskFailure(answer)) throw taskFailed(answer);
  if (isUint8Array(answer)) {
    // Its length by the internal slot (viewLength): %TypedArray%.prototype's getter can be
    // redefined, and a getter that told this check the truth and the reading 0 shifted the verdicts (review 99).
    if (viewLength(answer) !== count) throw notSignatureVerdicts(count);
    for (let i = 0; i < count; i++) if (answer[i] > 1) throw notSignatureVerdicts(count); // not `some`: caller code can replace it
    return { bits: answer };
  }
  const { verdicts, failures } = (typeof answer === "object" && answer !== null ? answer : {}) as Partial<SignatureItemFailures>;
  if (!isUint8Array(verdicts) || viewLength(verdicts) !== count || !Array.isArray(failures) || failures.length === 0) throw notSignatureVerdicts(count);
  const failed = new Map<number, VerifierPoolError>();
  for (const failure of failures) {
    const index = (failure as { index?: unknown })?.index;
    if (!isTaskFailure(failure) || typeof index !== "number" || verdicts[index] !== SIGNATURE_ITEM_FAILED || failed.has(index)) throw notSignatureVerdicts(count);
    failed.set(index, taskFailed(failure));
  }
  // Every failed byte has its error, and every other byte is a verdict.
  for (let i = 0; i < count; i++) if (verdicts[i] > 1 && !failed.has(i)) throw notSignatureVerdicts(count);
  return { bits: verdicts, failed };
}

const notSignatureVerdicts = (count: number) => new VerifierPoolError("TASK_FAILED", `a worker's answer is not ${count} signature verdicts`);

/**
 * The `count` verdicts of an envelope chunk: read from the packed bytes, or the verdict objects a
 * worker short of memory sent; VerifierPoolError TASK_FAILED for a failure or any other answer.
 */
export function readEnvelopeAnswer(answer: unknown, options: Required<VerifyEnvelopeOptions>, count: number): EnvelopeVerdict[] {
  if (isTaskFailure(answer)) throw taskFailed(answer);
  let verdicts: EnvelopeVerdict[];
  if (isUint8Array(answer)) {
    try {
      verdicts = readPackedEnvelopeVerdicts(answer, options);
    } catch (cause) {
      throw new VerifierPoolError("TASK_FAILED", `a worker's envelope verdicts are unreadable: ${String(cause)}`, { cause });
    }
  } else if (Array.isArray(answer)) {
    verdicts = answer;
    // Index by index: a hole (which `every` would skip, and `flat()` would drop) is refused too.
    for (let i = 0; i < verdicts.length; i++) {
      if (!(i in verdicts) || !isVerdictShaped(verdicts[i])) {
        throw new VerifierPoolError("TASK_FAILED", `a worker's envelope verdict ${i} is not a verdict object`);
      }
    }
  } else {
    throw new VerifierPoolError("TASK_FAILED", "a worker's answer is not envelope verdicts");
  }
  if (verdicts.length !== count) throw new VerifierPoolError("TASK_FAILED", `a worker returned ${verdicts.length} verdicts for ${count} envelopes`);
  return verdicts;
}

/**
 * The shape of an EnvelopeVerdict as a structured clone delivers it: `ok: true` with the whole
 * verified envelope, or `ok: false` with a string code and message. (Packed answers are checked
 * by readPackedEnvelopeVerdicts as they are read.)
 */
function isVerdictShaped(value: unknown): value is EnvelopeVerdict {
  if (typeof value !== "object" || value === null) return false;
  const verdict = value as { ok?: unknown; code?: unknown; message?: unknown; envelope?: unknown };
  if (verdict.ok === false) return typeof verdict.code === "string" && typeof verdict.message === "string";
  if (verdict.ok !== true || typeof verdict.envelope !== "object" || verdict.envelope === null) return false;
  const { challenge, declaredPublicKey, signature, canonicalChallenge } = verdict.envelope as Record<string, unknown>;
  if (typeof challenge !== "object" || challenge === null) return false;
  const fields = challenge as Record<string, unknown>;
  return (
    // Field by field, not with Array.prototype.every, which caller code can replace.
    typeof fields.schema === "string" &&
    typeof fields.localKernelId === "string" &&
    typeof fields.remoteKernelId === "string" &&
    typeof fields.nonce === "string" &&
    (typeof fields.timestamp === "number" || typeof fields.timestamp === "bigint") &&
    isUint8Array(declaredPublicKey) &&
    viewLength(declaredPublicKey) === 32 &&
    isUint8Array(signature) &&
    viewLength(signature) === 64 &&
    isUint8Array(canonicalChallenge)
  );
}
