// The drop-in groups' titles and the case names the README quotes (bench/compat.ts), in a module
// of their own so that the README generator (scripts/gen-bench-readme.ts) reads the same names
// without loading the built package, which bench/compat.ts does (as bench/batch-names.ts does
// for the batch group).

export const COMPAT_VERIFY_GROUP = "compat verify (169 B)";
export const COMPAT_SIGN_GROUP = "compat sign (169 B)";
export const COMPAT_KEYGEN_GROUP = "compat keygen (seed → public key)";

export const NOBLE_VERIFY = "@noble/ed25519 verify (zip215 default)";
export const CHIO_NOBLE_VERIFY = "chio-trust/ed25519 verify (zip215 default)";
export const NOBLE_VERIFY_STRICT = "@noble/ed25519 verify { zip215: false }";
export const CHIO_NOBLE_VERIFY_STRICT = "chio-trust/ed25519 verify { zip215: false }";
export const NACL_VERIFY = "tweetnacl sign.detached.verify";
export const CHIO_NACL_VERIFY = "chio-trust/tweetnacl sign.detached.verify";

export const NOBLE_SIGN = "@noble/ed25519 sign";
export const CHIO_NOBLE_SIGN = "chio-trust/ed25519 sign";
export const NACL_SIGN = "tweetnacl sign.detached";
export const CHIO_NACL_SIGN = "chio-trust/tweetnacl sign.detached (checks the public half)";

export const NOBLE_KEYGEN = "@noble/ed25519 getPublicKey";
export const CHIO_NOBLE_KEYGEN = "chio-trust/ed25519 getPublicKey";
export const NACL_KEYGEN = "tweetnacl sign.keyPair.fromSeed";
export const CHIO_NACL_KEYGEN = "chio-trust/tweetnacl sign.keyPair.fromSeed";
