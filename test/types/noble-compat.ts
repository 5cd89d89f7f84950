// Type-level checks, compiled with tsc (never run) by test/node/compat-noble-types.test.ts:
// `chio-trust/ed25519` declares what @noble/ed25519 3.x declares, so TypeScript code written
// against noble compiles unchanged after the import is swapped. Each check is a compile error
// when the two types differ. The oracle is noble's own index.d.ts.
import * as ours from "../../src/compat/noble-ed25519.js";
import * as noble from "@noble/ed25519";

/** true exactly when A and B are the same type (not merely assignable either way). */
type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
function expectTrue<T extends true>(): T | void {}

// The helper types noble exports give noble's results.
type Shapes = [
  Uint8Array,
  Buffer,
  Float64Array,
  Uint8ClampedArray,
  BigInt64Array,
  string,
  { secretKey: Uint8Array; publicKey: Uint8Array },
  { nested: { key: Uint8Array; n: bigint }; list: Uint8Array[]; pair: [Uint8Array, number]; frozen: readonly Uint8Array[] },
  Promise<Uint8Array>,
  Promise<{ a: Uint8Array }>,
  (message: Uint8Array) => Uint8Array,
  Uint8Array | undefined,
];
type Index = keyof Shapes & `${number}`;
/** The union of the checks over every shape: `true` only when each one is. */
type EachEqual<F extends "TArg" | "TRet" | "TypedArg" | "TypedRet"> = {
  [K in Index]: F extends "TArg"
    ? Equal<ours.TArg<Shapes[K]>, noble.TArg<Shapes[K]>>
    : F extends "TRet"
      ? Equal<ours.TRet<Shapes[K]>, noble.TRet<Shapes[K]>>
      : F extends "TypedArg"
        ? Equal<ours.TypedArg<Shapes[K]>, noble.TypedArg<Shapes[K]>>
        : Equal<ours.TypedRet<Shapes[K]>, noble.TypedRet<Shapes[K]>>;
}[Index];
expectTrue<EachEqual<"TArg">>();
expectTrue<EachEqual<"TRet">>();
expectTrue<EachEqual<"TypedArg">>();
expectTrue<EachEqual<"TypedRet">>();

// The same names, and every export has noble's type: whole objects first (readonly-ness counts),
// then each function.
expectTrue<Equal<keyof typeof ours, keyof typeof noble>>();
expectTrue<Equal<typeof ours.etc, typeof noble.etc>>();
expectTrue<Equal<typeof ours.utils, typeof noble.utils>>();
expectTrue<Equal<typeof ours.hashes, typeof noble.hashes>>();
expectTrue<Equal<ours.EdDSAVerifyOpts, noble.EdDSAVerifyOpts>>();
expectTrue<Equal<ours.AffinePoint, noble.AffinePoint>>();
expectTrue<Equal<ours.EdwardsOpts, noble.EdwardsOpts>>();
expectTrue<Equal<typeof ours.getPublicKey, typeof noble.getPublicKey>>();
expectTrue<Equal<typeof ours.getPublicKeyAsync, typeof noble.getPublicKeyAsync>>();
expectTrue<Equal<typeof ours.sign, typeof noble.sign>>();
expectTrue<Equal<typeof ours.signAsync, typeof noble.signAsync>>();
expectTrue<Equal<typeof ours.verify, typeof noble.verify>>();
expectTrue<Equal<typeof ours.verifyAsync, typeof noble.verifyAsync>>();
expectTrue<Equal<typeof ours.hash, typeof noble.hash>>();
expectTrue<Equal<typeof ours.keygen, typeof noble.keygen>>();
expectTrue<Equal<typeof ours.keygenAsync, typeof noble.keygenAsync>>();
expectTrue<Equal<typeof ours.utils.randomSecretKey, typeof noble.utils.randomSecretKey>>();
expectTrue<Equal<typeof ours.etc.hexToBytes, typeof noble.etc.hexToBytes>>();
expectTrue<Equal<typeof ours.etc.concatBytes, typeof noble.etc.concatBytes>>();
expectTrue<Equal<typeof ours.etc.randomBytes, typeof noble.etc.randomBytes>>();
expectTrue<Equal<typeof ours.etc.bytesToHex, typeof noble.etc.bytesToHex>>();
expectTrue<Equal<typeof ours.hashes.sha512, typeof noble.hashes.sha512>>();
expectTrue<Equal<typeof ours.hashes.sha512Async, typeof noble.hashes.sha512Async>>();
expectTrue<Equal<ReturnType<ours.Point["toBytes"]>, ReturnType<noble.Point["toBytes"]>>>();
expectTrue<Equal<Parameters<typeof ours.Point.fromBytes>, Parameters<typeof noble.Point.fromBytes>>>();
expectTrue<Equal<Awaited<ReturnType<typeof ours.utils.getExtendedPublicKeyAsync>>["pointBytes"], Awaited<ReturnType<typeof noble.utils.getExtendedPublicKeyAsync>>["pointBytes"]>>();

// What the swap is for: outputs go where TypeScript ≥ 5.7 wants an ArrayBuffer-backed array.
export async function consumer(secretKey: Uint8Array, message: Uint8Array): Promise<boolean> {
  const publicKey: Uint8Array<ArrayBuffer> = ours.getPublicKey(secretKey);
  const signature: Uint8Array<ArrayBuffer> = await ours.signAsync(message, secretKey);
  const { secretKey: sk2, publicKey: pk2 }: { secretKey: Uint8Array<ArrayBuffer>; publicKey: Uint8Array<ArrayBuffer> } = ours.keygen();
  await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, true, ["verify"]);
  hashInto(ours.hash(message));
  ours.hashes.sha512 = (m) => ours.hash(m); // a provider of noble's type is assignable
  return ours.verify(signature, message, publicKey, { zip215: false }) && sk2.length === pk2.length;
}
function hashInto(digest: Uint8Array<ArrayBuffer>): number {
  return digest.byteLength;
}
