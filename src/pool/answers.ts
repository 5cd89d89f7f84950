// The calling thread's reading of a worker's answer (src/pool/worker.ts, format in codec.ts):
// the chunk's verdicts, or VerifierPoolError TASK_FAILED. The workers are this package's own
// code, but an answer is still checked before it is used, so that an answer of the wrong kind,
// count or shape rejects its call instead of resolving it with missing verdicts (or leaving
// single verify() calls pending for want of their bit).
import { readPackedEnvelopeVerdicts, type EnvelopeVerdict, type VerifyEnvelopeOptions } from "../handshake/verify-envelope.js";
import type { TaskFailure } from "./codec.js";
import { VerifierPoolError } from "./errors.js";

/** A TaskFailure: what a live worker returns when verification threw. */
function isTaskFailure(answer: unknown): answer is TaskFailure {
  return typeof answer === "object" && answer !== null && !Array.isArray(answer) && !(answer instanceof Uint8Array) && (answer as TaskFailure).failed === true;
}

function taskFailed(failure: TaskFailure): VerifierPoolError {
  const { name, code, message } = failure;
  return new VerifierPoolError("TASK_FAILED", `verification failed in a worker: ${String(name)}${code ? ` ${String(code)}` : ""}: ${String(message)}`);
}

/** The `count` verdicts of a signature chunk (1 = valid); VerifierPoolError TASK_FAILED for a failure or any other answer. */
export function readSignatureAnswer(answer: unknown, count: number): Uint8Array {
  if (isTaskFailure(answer)) throw taskFailed(answer);
  if (!(answer instanceof Uint8Array) || answer.length !== count || answer.some((bit) => bit > 1)) {
    throw new VerifierPoolError("TASK_FAILED", `a worker's answer is not ${count} signature verdicts`);
  }
  return answer;
}

/**
 * The `count` verdicts of an envelope chunk: read from the packed bytes, or the verdict objects a
 * worker short of memory sent; VerifierPoolError TASK_FAILED for a failure or any other answer.
 */
export function readEnvelopeAnswer(answer: unknown, options: Required<VerifyEnvelopeOptions>, count: number): EnvelopeVerdict[] {
  if (isTaskFailure(answer)) throw taskFailed(answer);
  let verdicts: EnvelopeVerdict[];
  if (answer instanceof Uint8Array) {
    try {
      verdicts = readPackedEnvelopeVerdicts(answer, options);
    } catch (cause) {
      throw new VerifierPoolError("TASK_FAILED", `a worker's envelope verdicts are unreadable: ${String(cause)}`, { cause });
    }
  } else if (Array.isArray(answer)) {
    verdicts = answer;
    // Index by index: a hole (which `every` would skip, and `flat()` would drop) is refused too.
    for (let i = 0; i < verdicts.length; i++) {
      const verdict: unknown = verdicts[i];
      if (!(i in verdicts) || typeof verdict !== "object" || verdict === null || typeof (verdict as { ok?: unknown }).ok !== "boolean") {
        throw new VerifierPoolError("TASK_FAILED", `a worker's envelope verdict ${i} is not a verdict object`);
      }
    }
  } else {
    throw new VerifierPoolError("TASK_FAILED", "a worker's answer is not envelope verdicts");
  }
  if (verdicts.length !== count) throw new VerifierPoolError("TASK_FAILED", `a worker returned ${verdicts.length} verdicts for ${count} envelopes`);
  return verdicts;
}
