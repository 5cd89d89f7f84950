// Run by test/node/canonical-value-audit.test.ts in a child process of its own, once per lie: after
// chio-trust has loaded, it replaces the %TypedArray%.prototype.length getter with one that answers
// wrongly (argv[2]: "zero" answers 0, "huge" answers 2^30, "short" answers one less than the real
// length for arrays of 1 to 1023 elements), and with it in place writes canonicalBytes of a value
// whose output outgrows the writer's first 1,024-byte buffer and of one with the old chio escapes
// (escapeDelAndC1). Expected bytes are computed before the replacement, by the npm `canonicalize`
// package (with DEL and C1 escaped by hand for the old form). It prints one JSON line: whether the
// replacement ran, and which results differed. A lie that makes a call loop forever leaves the
// parent's timeout to report it.
import canonicalizeNpm from "canonicalize";
import { createLies } from "./lies.js";
import { canonicalBytes } from "../../src/canonical/value.js";

const TYPED_ARRAY_PROTOTYPE = Object.getPrototypeOf(Uint8Array.prototype) as object;
const utf8 = new TextEncoder();
const text = new TextDecoder();

const ran: Record<string, true> = Object.create(null) as Record<string, true>;
const lies = createLies((name) => {
  ran[name] = true;
});

const big = { b: "x".repeat(3000), a: [1, 2.5, "é\u2028"], c: { "\u0085": null } };
const legacy = { b: "x\u0085y", a: "z\u007f" };
const escapeDelAndC1 = (canonical: string) => canonical.replace(/[\u007f-\u009f]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
const cases: { name: string; run: () => Uint8Array; expected: string }[] = [
  { name: "canonicalBytes of 3 KB", run: () => canonicalBytes(big), expected: canonicalizeNpm(big)! },
  { name: "canonicalBytes of 3 KB, escapeDelAndC1", run: () => canonicalBytes(big, { escapeDelAndC1: true }), expected: escapeDelAndC1(canonicalizeNpm(big)!) },
  { name: "canonicalBytes of a short value, escapeDelAndC1", run: () => canonicalBytes(legacy, { escapeDelAndC1: true }), expected: escapeDelAndC1(canonicalizeNpm(legacy)!) },
];
// Warm up: the writer's buffer and the module state are what a caller's later calls meet.
for (const c of cases) c.run();

const realLength = Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTOTYPE, "length")!.get!;
const lie = process.argv[2];
lies.replace(TYPED_ARRAY_PROTOTYPE, "length", "%TypedArray%.prototype.length", () =>
  function (this: Uint8Array) {
    if (lie === "zero") return 0;
    if (lie === "huge") return 1 << 30;
    const n = Reflect.apply(realLength, this, []) as number;
    return n > 0 && n < 1024 ? n - 1 : n;
  },
);

const outcomes: (Uint8Array | Error)[] = [];
for (const c of cases) {
  lies.watching = true;
  try {
    outcomes[outcomes.length] = c.run();
  } catch (error) {
    outcomes[outcomes.length] = error as Error;
  } finally {
    lies.watching = false;
  }
}
lies.restoreAll();

const differed: string[] = [];
cases.forEach((c, i) => {
  const outcome = outcomes[i]!;
  if (outcome instanceof Error) differed.push(`${c.name}: threw ${outcome.name}: ${outcome.message}`);
  else if (text.decode(outcome) !== c.expected || outcome.length !== utf8.encode(c.expected).length) differed.push(`${c.name}: ${JSON.stringify(text.decode(outcome).slice(-40))}`);
});
console.log(JSON.stringify({ ran: Object.keys(ran), differed }));
