// The TEST build of the core: build/chio.test.wasm (assembly/testing.ts, asconfig target "test",
// built by scripts/build-wasm.mjs with the release flags, and memory capped at 32 MiB so that
// test/node/batch-memory.test.ts can make growth fail) = every release export plus the
// test-only hooks (test_fe_*, test_sc_*, format_f64, parse_f64), which the release module does
// not contain (test/node/wasm.test.ts checks). Its own instance, separate from the library's.
//
// Not a suite: uvu imports every file under test/, this one included, but it registers no
// tests and never calls test.run() (see assert-codes.ts).
import { readFileSync } from "node:fs";

export const TEST_WASM_PATH = new URL("../../build/chio.test.wasm", import.meta.url);

export interface TestCoreExports {
  readonly memory: WebAssembly.Memory;
  args_ptr(): number;
  io_base(): number;
  io_reserve(bytes: number): number;
  test_fe_mul(): void;
  test_fe_sq(mode: number): void;
  test_fe_invert(): void;
  test_fe_pow22523(): void;
  test_fe_roundtrip(): void;
  test_sc_reduce(): void;
  test_sc_muladd(): void;
  test_sc_half_size(): number;
  test_sign_unwiped(msgLen: number): void;
  test_fixed_base_table(): number;
  format_f64(value: number): number;
  parse_f64(length: number): number;
}

/** The compiled test build (e.g. for initSync of src/wasm/instance.ts, to run the library itself on it). */
export function testModule(): WebAssembly.Module {
  compiledTest ??= new WebAssembly.Module(readFileSync(TEST_WASM_PATH));
  return compiledTest;
}

let compiledTest: WebAssembly.Module | undefined;
let instance: TestCoreExports | undefined;
let view = new Uint8Array(0);

/** The test build's exports (instantiated on first use). */
export function coreExports(): TestCoreExports {
  instance ??= new WebAssembly.Instance(testModule(), {}).exports as unknown as TestCoreExports;
  return instance;
}

/** A byte view of the test instance's memory (re-created after the memory grew). */
export function heapU8(): Uint8Array {
  const buffer = coreExports().memory.buffer;
  if (view.buffer !== buffer) view = new Uint8Array(buffer);
  return view;
}

/** Address of the ARGS block in the test instance. */
export function argsBase(): number {
  return coreExports().args_ptr();
}

/** Address of the test instance's I/O arena. */
export function ioArenaBase(): number {
  return coreExports().io_base();
}

/** Grows the test instance's I/O arena to hold `bytes`. */
export function reserveIo(bytes: number): void {
  if (coreExports().io_reserve(bytes >>> 0) !== 1) throw new Error(`test core cannot reserve ${bytes} bytes`);
}
