// Generates assembly/curve25519/tables.ts: the Ed25519 curve constants and the base-point
// tables, computed here from their definitions with BigInt (RFC 8032 §5.1):
//   p = 2^255 - 19, d = -121665/121666, B = (x, 4/5) with x even ("positive").
// Run: `node --import tsx scripts/gen-tables.ts` (writes the file); test/node/tables.test.ts calls
// generateTablesSource() and fails if the checked-in file differs.
import { writeWhenRunAsProgram } from "./generated-file.js";

export const P = 2n ** 255n - 19n;
export const L = 2n ** 252n + 27742317777372353535851937790883648493n;

export function mod(a: bigint, m: bigint = P): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

export function pow(base: bigint, exp: bigint, m: bigint = P): bigint {
  let result = 1n;
  let b = mod(base, m);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return result;
}

export const inv = (a: bigint): bigint => pow(a, P - 2n);
export const D = mod(-121665n * inv(121666n));
export const SQRT_M1 = pow(2n, (P - 1n) / 4n);

/** Square root mod p with the RFC 8032 §5.1.3 choice; undefined if none. */
export function sqrt(a: bigint): bigint | undefined {
  let x = pow(a, (P + 3n) / 8n);
  if (mod(x * x - a) !== 0n) x = mod(x * SQRT_M1);
  return mod(x * x - a) === 0n ? x : undefined;
}

export type Affine = { x: bigint; y: bigint };

/** Affine twisted Edwards addition on -x^2 + y^2 = 1 + d x^2 y^2 (complete for this curve). */
export function add(p: Affine, q: Affine): Affine {
  const t = mod(D * p.x * q.x * p.y * q.y);
  return {
    x: mod((p.x * q.y + p.y * q.x) * inv(1n + t)),
    y: mod((p.y * q.y + p.x * q.x) * inv(1n - t)),
  };
}

export function multiply(p: Affine, n: bigint): Affine {
  let r: Affine = { x: 0n, y: 1n };
  let q = p;
  while (n > 0n) {
    if (n & 1n) r = add(r, q);
    q = add(q, q);
    n >>= 1n;
  }
  return r;
}

export const BASE: Affine = (() => {
  const y = mod(4n * inv(5n));
  let x = sqrt(mod((y * y - 1n) * inv(D * y * y + 1n)))!;
  if (x & 1n) x = P - x; // B has even x (RFC 8032 §5.1)
  return { x, y };
})();

/** The 10 ref10 limbs (26/25 bits alternating) of a canonical field element. */
export function limbs(v: bigint): number[] {
  const out: number[] = [];
  let offset = 0n;
  for (let i = 0; i < 10; i++) {
    const width = i % 2 === 0 ? 26n : 25n;
    out.push(Number((v >> offset) & ((1n << width) - 1n)));
    offset += width;
  }
  return out;
}

/** Affine "niels" form (y + x, y - x, 2 d x y) used by mixed addition (ref10 ge_precomp). */
function niels(p: Affine): number[] {
  return [...limbs(mod(p.y + p.x)), ...limbs(mod(p.y - p.x)), ...limbs(mod(2n * D * p.x * p.y))];
}

function rows(values: number[], perLine: number): string {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += perLine) lines.push("  " + values.slice(i, i + perLine).join(", ") + ",");
  return lines.join("\n");
}

/** Verification window: odd multiples B, 3B, ..., (2*BASE_WNAF_ENTRIES - 1)B. */
export const BASE_WNAF_WIDTH = 8;
export const BASE_WNAF_ENTRIES = 1 << (BASE_WNAF_WIDTH - 2);

/** Niels forms of P, 3P, ..., (2 * BASE_WNAF_ENTRIES - 1)P. */
function oddMultiples(p: Affine): number[] {
  const out: number[] = [];
  const twoP = add(p, p);
  let m = p;
  for (let i = 0; i < BASE_WNAF_ENTRIES; i++) {
    out.push(...niels(m));
    m = add(m, twoP);
  }
  return out;
}

/**
 * The signing table of assembly/curve25519/scalar_mul/fixed_base.ts, which builds it in wasm
 * memory on first use rather than shipping it (176 KB): row i holds j * 64^i * B for
 * j = 1..32 in niels form, each entry padded to 128 bytes (two zero limbs) for 16-byte loads.
 * The wasm core reads the dimensions from tables.ts; test/node/tables.test.ts compares the
 * core's table with fixedBaseTable().
 */
export const FIXED_BASE_WINDOW = 6;
export const FIXED_BASE_ROWS = Math.ceil(256 / FIXED_BASE_WINDOW); // 43 signed digits cover a < 2^255
export const FIXED_BASE_ENTRIES = 1 << (FIXED_BASE_WINDOW - 1);
export const FIXED_BASE_ENTRY_BYTES = 128;

/** The i32 limbs of the whole fixed-base table, row after row (BigInt, affine arithmetic). */
export function fixedBaseTable(): Int32Array {
  const out = new Int32Array((FIXED_BASE_ROWS * FIXED_BASE_ENTRIES * FIXED_BASE_ENTRY_BYTES) / 4);
  let at = 0;
  let row = BASE;
  for (let i = 0; i < FIXED_BASE_ROWS; i++) {
    let q = row;
    for (let j = 1; j <= FIXED_BASE_ENTRIES; j++) {
      out.set(niels(q), at);
      at += FIXED_BASE_ENTRY_BYTES / 4;
      if (j === FIXED_BASE_ENTRIES) row = add(q, q); // 64^(i+1) B = 2 * (32 * 64^i B)
      else q = add(q, row);
    }
  }
  return out;
}

export function generateTablesSource(): string {
  const odd = oddMultiples(BASE);
  const odd128 = oddMultiples(multiply(BASE, 2n ** 128n));
  return `// GENERATED — do not edit. Written by scripts/gen-tables.ts (BigInt, from the curve's
// definition in RFC 8032 §5.1); test/node/tables.test.ts regenerates it and fails on any difference.
//
// Field elements are 10 ref10 limbs (see field.ts). Points are in affine "niels" form
// (y + x, y - x, 2*d*x*y): 30 i32 = 120 bytes each.

/** d = -121665/121666 mod p. */
export const FE_D: usize = memory.data<i32>([${limbs(D).join(", ")}], 16);
/** 2*d mod p. */
export const FE_D2: usize = memory.data<i32>([${limbs(mod(2n * D)).join(", ")}], 16);
/** sqrt(-1) = 2^((p-1)/4) mod p. */
export const FE_SQRTM1: usize = memory.data<i32>([${limbs(SQRT_M1).join(", ")}], 16);

/** Odd multiples (2i+1)*B for i < ${BASE_WNAF_ENTRIES}: the width-${BASE_WNAF_WIDTH} wNAF table of the verification multiplication. */
export const BASE_WNAF_WIDTH: i32 = ${BASE_WNAF_WIDTH};
export const BASE_ODD_MULTIPLES: usize = memory.data<i32>([
${rows(odd, 10)}
], 16);

/** Odd multiples (2i+1) * 2^128 * B for i < ${BASE_WNAF_ENTRIES}: for the high half of the B scalar in the half-size verification. */
export const BASE128_ODD_MULTIPLES: usize = memory.data<i32>([
${rows(odd128, 10)}
], 16);

/** The fixed-base signing table (built in wasm memory on first use, see scripts/gen-tables.ts). */
export const FIXED_BASE_WINDOW: i32 = ${FIXED_BASE_WINDOW};
export const FIXED_BASE_ROWS: i32 = ${FIXED_BASE_ROWS};
export const FIXED_BASE_ENTRIES: i32 = ${FIXED_BASE_ENTRIES};
export const FIXED_BASE_ENTRY_BYTES: usize = ${FIXED_BASE_ENTRY_BYTES};
`;
}

writeWhenRunAsProgram(import.meta.url, "assembly/curve25519/tables.ts", generateTablesSource);
