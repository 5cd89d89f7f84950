// Child process of test/node/compat-audit.test.ts: the tweetnacl drop-in's randomBytes at its
// largest documented n, 2^31 - 1, and one past it, under a generator that writes nothing (the
// 2 GiB array is allocated but never touched). A process of its own: setPRNG cannot put the
// built-in default generator back, and the default tier runs every suite in one process, where
// compat-tweetnacl tests that default. Prints one JSON line: the length taken, what 2^31 gave, and
// the sizes the generator was asked for.
//
// Not a suite (no test registered, no test.run()).
import nacl from "../../src/compat/tweetnacl.js";

const requests: number[] = [];
nacl.setPRNG((_x, n) => {
  requests.push(n);
});
const length = nacl.randomBytes(2 ** 31 - 1).length;
let refused = "nothing";
try {
  nacl.randomBytes(2 ** 31);
} catch (error) {
  refused = error instanceof RangeError ? "RangeError" : String(error);
}
console.log(JSON.stringify({ length, refused, requests }));
