// Runs code with globalThis.crypto.getRandomValues replaced: the batch tests' broken or
// deterministic random sources (test/node/batch-broken-rng.test.ts, batch-sparse-coefficients.test.ts).

/** Runs fn with globalThis.crypto.getRandomValues replaced by `shim`, restoring it after. */
export function withRandomSource<T>(shim: (a: Uint8Array) => Uint8Array, fn: () => T): T {
  const crypto = globalThis.crypto as { getRandomValues: (a: Uint8Array) => Uint8Array };
  const original = crypto.getRandomValues;
  crypto.getRandomValues = shim;
  try {
    return fn();
  } finally {
    crypto.getRandomValues = original;
  }
}
