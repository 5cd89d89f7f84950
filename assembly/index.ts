// The release wasm module's export list. Everything here is a plain function over linear
// memory; see memory.ts and abi.ts for the layout and src/wasm/ for the JS side. Test-only
// hooks are not here: they live in testing.ts, which builds build/chio.test.wasm.
import { ARGS, ioBase, ensureIoCapacity } from "./memory";

/** Replaces AssemblyScript's imported `abort` so the module has no imports; traps instead. */
export function abortTrap(message: usize, fileName: usize, line: u32, column: u32): void {
  unreachable();
}

/** Address of the fixed argument block. */
export function args_ptr(): usize {
  return ARGS;
}

/** Address of the I/O arena. */
export function io_base(): usize {
  return ioBase();
}

/** Grows memory so the I/O arena holds `bytes`; 1 on success, 0 if memory cannot grow. */
export function io_reserve(bytes: u32): i32 {
  return ensureIoCapacity(<usize>bytes) ? 1 : 0;
}

// SHA-512 of the I/O arena into ARGS + ARG_DIGEST (assembly/sha512.ts).
export { sha512 } from "./sha512";
// Ed25519: keygen, sign, verify (assembly/ed25519/).
export * from "./ed25519/exports";
// RFC 8785 canonical JSON (assembly/json/).
export * from "./json/exports";
// One-call verification of a chio handshake envelope (assembly/handshake/).
export * from "./handshake/exports";
