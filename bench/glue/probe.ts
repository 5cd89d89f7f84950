// A tiny AssemblyScript module used only by bench/glue.ts to price the JS <-> wasm boundary:
// the same byte-sum over a message, reached once through raw (ptr, len) exports and once
// through @assemblyscript/loader's managed Uint8Array.

/** Raw ABI: JS copies the bytes to `ptr` itself. */
export function sumPtr(ptr: usize, len: i32): u32 {
  let acc: u32 = 0;
  for (let i = 0; i < len; i++) acc += load<u8>(ptr + <usize>i);
  return acc;
}

/** Loader ABI: a managed Uint8Array allocated by the loader's __newArray. */
export function sumArray(bytes: Uint8Array): u32 {
  let acc: u32 = 0;
  for (let i = 0; i < bytes.length; i++) acc += unchecked(bytes[i]);
  return acc;
}

export const Uint8Array_ID = idof<Uint8Array>();

export function abortTrap(message: usize, fileName: usize, line: u32, column: u32): void {
  unreachable();
}
