// The proof that the batch verifier's subgroup test is exact (docs/subgroup-test.md), checked
// fact by fact in BigInt arithmetic independent of the core: every algebraic identity the proof
// derives by hand (at random points of every torsion class and with every 4th root), every finite
// fact it computes once (the constants, the kernel of the 4-isogeny, the character on it), and,
// end to end, that the proof's own verdict (the isogeny walk) equals [L]P = O and the core's.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { randomBytes } from "node:crypto";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { argsBase, coreExports, heapU8 } from "../helpers/test-core.js";
import { ARG_RESULT, TEST_HOOK_INPUT, TEST_HOOK_OUTPUT } from "../../src/wasm/abi.js";
import { L, P as p, fromLE, le, mulL, powModP, torsionPoints, type NPoint } from "../helpers/ed25519-oracles.js";
import { D as d, SQRT_M1 as I, inv as invModP, mod, sqrt } from "../../scripts/gen-tables.js";
import { scaled } from "../helpers/scale.js";

interface Hooks {
  ge_is_torsion_free_vartime(): number;
  test_torsion_constants(): void;
}
const hooks = (): Hooks => coreExports() as unknown as Hooks;
const Point = noble.Point;

const inv = (a: bigint): bigint => {
  assert.ok(mod(a) !== 0n, "division by zero");
  return invModP(a);
};
const div = (a: bigint, b: bigint): bigint => mod(a * inv(b));
/** Legendre symbol: 1, -1, or 0. */
const chi2 = (a: bigint): number => {
  const e = powModP(mod(a), (p - 1n) / 2n);
  return e === 0n ? 0 : e === 1n ? 1 : -1;
};
const sqrtOf = (a: bigint): bigint => {
  const r = sqrt(mod(a));
  assert.ok(r !== undefined, "not a square");
  return r;
};

// Constants, named as in docs/subgroup-test.md.
// d and i (FE_SQRTM1) are the table generator's, from their definitions (scripts/gen-tables.ts).
/** The quartic residue symbol of a != 0 as k in 0..3 with a^((p-1)/4) = i^k. */
const chi4 = (a: bigint): number => {
  const e = powModP(mod(a), (p - 1n) / 4n);
  const k = [1n, I, p - 1n, p - I].indexOf(e);
  assert.ok(k >= 0);
  return k;
};
const A = div(2n * (1n - d), 1n + d); // Montgomery: B v^2 = u^3 + A u^2 + u
const B = div(-4n, 1n + d);
const b = ((): bigint => {
  const r = sqrtOf(16n * (1n + d));
  return r % 2n === 0n ? r : p - r; // the even root, FE_QUARTIC_B
})();
// E0: Y^2 = X (X^2 + a0 X + b0), X = B u, Y = B^2 v.
const a0 = mod(A * B), b0 = mod(B * B);
// E1 = E0 / <(0, 0)>: Y^2 = X (X - e2)(X - e3).
const e2 = mod(a0 + 2n * B), e3 = mod(a0 - 2n * B);
// E1 with X' = X - e2: Y^2 = X'(X'^2 + a1 X' + b1); E2 = E1 / <(e2, 0)>: Y^2 = X (X^2 - 2 a1 X + a1^2 - 4 b1).
const a1 = mod(2n * e2 - e3), b1 = mod(e2 * (e2 - e3));
const f2 = mod(a1 + mod(b * B * B) * inv(2n)); // the 2-torsion abscissa of E2 whose character has kernel Phi^-1(8G)

const onE0 = (X: bigint, Y: bigint): boolean => mod(Y * Y - X * (X * X + a0 * X + b0)) === 0n;
const onE1 = (X: bigint, Y: bigint): boolean => mod(Y * Y - X * (X * X - 2n * a0 * X + a0 * a0 - 4n * b0)) === 0n;
const onE2 = (X: bigint, Y: bigint): boolean => mod(Y * Y - X * (X * X - 2n * a1 * X + a1 * a1 - 4n * b1)) === 0n;
/** The dual of the 2-isogeny with kernel <(0, 0)> from Y^2 = X(X^2 + aX + bb) (Silverman, AEC III.4.5). */
const dual2 = (X: bigint, Y: bigint, a: bigint, bb: bigint): [bigint, bigint] =>
  [div(Y * Y, 4n * X * X), div(Y * (a * a - 4n * bb - X * X), 8n * X * X)];

interface Affine { x: bigint; y: bigint }
const affine = (P: NPoint): Affine => P.toAffine();
/** z = (1 + d)(1 + d y^2) F^2, F = 2 (i x - 1)(1 - y): step 1 of the test. */
const zOf = ({ x, y }: Affine): bigint => {
  const F = 2n * (I * x - 1n) * (1n - y);
  return mod((1n + d) * (1n + d * y * y) * F * F);
};
const montgomery = ({ x, y }: Affine): { u: bigint; v: bigint } => {
  const u = div(1n + y, 1n - y);
  return { u, v: div(u, x) };
};
/** The four 4th roots of z (z a nonzero 4th power). */
const fourthRoots = (z: bigint): bigint[] => {
  const r = powModP(z, 2n ** 251n - 1n); // the core's root, z^((p+3)/16)
  assert.is(powModP(r, 4n), z);
  return [0n, 1n, 2n, 3n].map((k) => mod(r * powModP(I, k)));
};

/** The walk of docs/subgroup-test.md §3 from P in 4G and a 4th root rho of z(P) to P2 on E2. */
function walk(P: Affine, rho: bigint) {
  const { u, v } = montgomery(P);
  const n = mod(1n - P.y);
  const X = mod(B * u), Y = mod(B * B * v);
  const rt = div(rho, 2n * n); // r~ = rho / 2n, r~^4 = (v - iu)^2 / (B u)
  const s = div(v - I * u, rt * rt);
  const X1 = mod(a0 + 2n * X + 2n * div(Y, s)), Y1 = mod(2n * s * X1);
  const s1 = mod(B * rt + div(u - 1n, rt));
  const X1s = mod(X1 - e2);
  const X2 = mod(a1 + 2n * X1s + 2n * div(Y1, s1)), Y2 = mod(2n * s1 * X2);
  return { X, Y, s, X1, Y1, s1, X1s, X2, Y2 };
}

const randomScalar = (): bigint => fromLE(randomBytes(64)) % L;
const torsion = torsionPoints();
/** [r]B + T_k with r random: class k by construction (torsion-free iff k = 0). */
const pointOfClass = (k: number): NPoint => Point.BASE.multiply(randomScalar() || 1n).add(torsion[k]);
const inE8 = ({ x, y }: Affine): boolean => x === 0n || y === 0n || mod(x - I * y) === 0n || mod(x + I * y) === 0n;

test("field and curve facts the proof uses", () => {
  assert.is(p % 8n, 5n);
  assert.is(mod(I * I), p - 1n);
  assert.is(chi2(2n), -1, "2 is not a square");
  assert.is(chi2(d), -1, "d is not a square: the Edwards addition law is complete, every point is affine");
  assert.is(mod(A + B), p - 2n, "A + B = -2");
  assert.is(mod(B * (A + 2n)), mod(-16n * inv((1n + d) * (1n + d))), "B (A + 2) = -16 / (1 + d)^2");
  assert.is(e2, mod(-B * B), "e2 = -B^2");
  assert.is(mod(b * b), mod(16n * (1n + d)));
  // The core's constants are the proof's.
  hooks().test_torsion_constants();
  const out = heapU8().slice(argsBase() + ARG_RESULT + TEST_HOOK_OUTPUT, argsBase() + ARG_RESULT + TEST_HOOK_OUTPUT + 64);
  assert.is(fromLE(out.slice(0, 32)), mod(1n + d));
  assert.is(fromLE(out.slice(32, 64)), b);
  // f2 is a 2-torsion abscissa of E2: (f2 - a1)^2 = 4 b1.
  assert.is(mod((f2 - a1) * (f2 - a1) - 4n * b1), 0n);
});

test("step 2: z = (2(1 - y))^4 (v - iu)^2 / (B u), and l = v - iu vanishes at T2 and (twice) at T4 = (1, i)", () => {
  // l = 0 on the curve: B(iu)^2 = u^3 + A u^2 + u  <=>  u (u - 1)^2 = 0 (as A + B = -2).
  assert.is(mod(B * I * I - (1n + A + 1n)), 0n, "(1, i) is on the Montgomery curve");
  const t4 = { x: p - I, y: 0n }; // (1, i) in Edwards coordinates: x = u / v = -i, y = 0
  const T4 = Point.fromAffine(t4);
  assert.ok(T4.multiply(4n).is0() && !T4.multiply(2n).is0(), "order 4");
  for (let k = 0; k < 8; k++) {
    for (let n = 0; n < scaled(40); n++) {
      const P = affine(pointOfClass(k));
      const { u, v } = montgomery(P);
      assert.is(mod(B * v * v - (u * u * u + A * u * u + u)), 0n, "on the Montgomery curve");
      const fNorm = div((v - I * u) * (v - I * u), B * u);
      assert.is(zOf(P), mod(powModP(mod(2n * (1n - P.y)), 4n) * fNorm));
    }
  }
});

test("step 2: chi4(z) is a homomorphism G -> mu4 (Weil reciprocity) and onto, so its kernel is 4G", () => {
  for (let n = 0; n < scaled(60); n++) {
    const P = pointOfClass(n % 8), Q = pointOfClass((3 * n + 1) % 8);
    const S = P.add(Q);
    if ([P, Q, S].some((R) => inE8(affine(R)))) continue;
    assert.is((chi4(zOf(affine(P))) + chi4(zOf(affine(Q)))) % 4, chi4(zOf(affine(S))));
  }
  // Onto: g0 + T8 (T8 = torsion[1], of order 8) maps to a primitive 4th root of unity.
  assert.ok(torsion[1].multiply(8n).is0() && !torsion[1].multiply(4n).is0(), "T8 has order 8");
  const k = chi4(zOf(affine(Point.BASE.add(torsion[1]))));
  assert.ok(k === 1 || k === 3, `chi4 = i^${k}`);
  // And the base point, in 8G, to 1 (as it must).
  assert.is(chi4(zOf(affine(Point.BASE))), 0);
});

test("step 4: the walk lifts P in 4G through both 2-isogenies, with any 4th root: Phi(P2) = P", () => {
  for (const k of [0, 4]) {
    for (let n = 0; n < scaled(40); n++) {
      const P = affine(pointOfClass(k));
      const z = zOf(P);
      for (const rho of fourthRoots(z)) {
        const w = walk(P, rho);
        assert.is(mod(w.s * w.s), w.X, "s^2 = X");
        assert.ok(onE0(w.X, w.Y) && onE1(w.X1, w.Y1), "P on E0, P1 on E1");
        assert.equal(dual2(w.X1, w.Y1, a0, b0), [w.X, mod(-w.Y)], "psi^(P1) = -P");
        assert.is(mod(w.s1 * w.s1), w.X1s, "s'^2 = X1 - e2");
        assert.ok(onE2(w.X2, w.Y2), "P2 on E2");
        const [Xq, Yq] = dual2(w.X2, w.Y2, a1, b1);
        assert.equal([Xq, Yq], [w.X1s, mod(-w.Y1)], "chi^(P2) = -P1 (in E1's shifted coordinates)");
        const [X0, Y0] = dual2(mod(Xq + e2), Yq, a0, b0);
        assert.equal([X0, Y0], [w.X, w.Y], "Phi(P2) = P");
      }
    }
  }
});

test("step 4: ker Phi is rational of order 4 and the character X - f2 is 1 on it and not on all of E2", () => {
  // ker chi^ = {O, (0, 0)}; chi^^-1 of E1's (0, 0), i.e. (-e2, 0) after the shift: X = -e3.
  const Xk = mod(-e3);
  const Yk2 = mod(Xk * (Xk * Xk - 2n * a1 * Xk + a1 * a1 - 4n * b1));
  const Yk = sqrtOf(Yk2); // rational (throws if not)
  assert.ok(Yk === mod(2n * B * e3) || Yk === mod(-2n * B * e3), "Y_k = +-2 B e3");
  assert.equal(dual2(Xk, Yk, a1, b1), [mod(-e2), 0n], "chi^(-e3, Y) = E1's (0, 0)");
  assert.equal(dual2(Xk, p - Yk, a1, b1), [mod(-e2), 0n]);
  // c(P2) = chi2(X - f2), with c((0, 0)) = chi2(0 - f2) (2-descent, Silverman AEC X.1.4).
  assert.is(chi2(-f2), 1, "c((0, 0)) = 1");
  assert.is(chi2(Xk - f2), 1, "c((-e3, +-Y)) = 1");
  // The other 2-torsion abscissa's character is not 1 on the kernel (so f2 is the one).
  const f1 = mod(2n * a1 - f2);
  assert.ok(chi2(-f1) === -1 || chi2(Xk - f1) === -1);
  // c is not trivial: some point of E2 has c = -1.
  let found = false;
  for (let X = 1n; X < 200n && !found; X++) {
    if (chi2(X * (X * X - 2n * a1 * X + a1 * a1 - 4n * b1)) === 1 && chi2(X - f2) === -1) found = true;
  }
  assert.ok(found);
});

test("step 4: the core's F Q G is 2 (a non-square) times a square times the walk's X2 - f2, so its symbol decides 8G", () => {
  for (let k = 0; k < 8; k++) {
    for (let n = 0; n < scaled(30); n++) {
      const P = affine(pointOfClass(k));
      const z = zOf(P);
      if (chi4(z) !== 0) {
        assert.ok(k % 2 === 1 || k % 4 === 2, "z a 4th power only on 4G"); // classes 0 and 4 are 4G
        continue;
      }
      assert.ok(k === 0 || k === 4, "z a 4th power on 4G");
      const { x, y } = P;
      const nn = mod(1n - y);
      const F = mod(2n * (I * x - 1n) * nn);
      for (const rho of fourthRoots(z)) {
        const r2 = mod(rho * rho);
        const Q = mod(r2 - 2n * (1n + d) * (y - y * y));
        const W = mod(r2 * nn * nn);
        const G = mod(F * Q * (Q * Q - b * W) - 2n * x * rho * r2 * (Q * Q - 4n * W));
        // The walk's quantity with denominators cleared: N1 = B Q, D1 = 2 n rho, N2 = -2(1 + y) F, D2 = x rho^2.
        const bracket = mod(2n * B * x * r2 * Q * (Q * Q - b * W) - 16n * (1n + y) * F * nn * rho * (Q * Q - 4n * W));
        assert.is(mod(bracket * F), mod(2n * B * x * r2 * G), "bracket' F = 2 B x rho^2 G");
        const w = walk(P, rho);
        // s'^2 (X2 - f2) D1^4 D2^2 = N1 D2 B^2 bracket'
        const D1 = mod(2n * nn * rho), D2 = mod(x * r2), N1 = mod(B * Q);
        assert.is(div(N1, D1), w.s1, "s' = B Q / (2 n rho)");
        assert.is(mod(w.s1 * w.s1 * (w.X2 - f2) * powModP(D1, 4n) * D2 * D2), mod(N1 * D2 * B * B * bracket));
        const torsionFree = k === 0;
        assert.is(chi2(w.X2 - f2), torsionFree ? 1 : -1, "the walk's character decides 8G");
        assert.is(chi2(F * Q * G), torsionFree ? -1 : 1, "the core's step 4");
        assert.ok(F !== 0n && Q !== 0n && G !== 0n, "no factor vanishes off E[8]");
      }
    }
  }
});

test("end to end: the proof's verdict (chi4(z) = 1 and chi2(X2 - f2) = 1) is [L]P = O and the core's", () => {
  const IN = argsBase() + ARG_RESULT + TEST_HOOK_INPUT;
  for (let n = 0; n < scaled(400); n++) {
    const point = n < 16 ? pointOfClass(n % 8) : (() => {
      for (;;) {
        try {
          return Point.fromBytes(randomBytes(32), true);
        } catch {
          continue;
        }
      }
    })();
    const P = affine(point);
    let proof: boolean;
    if (inE8(P)) proof = point.is0();
    else {
      const z = zOf(P);
      proof = chi4(z) === 0 && chi2(walk(P, fourthRoots(z)[0]).X2 - f2) === 1;
    }
    assert.is(proof, mulL(point).is0(), "against [L]P");
    heapU8().set(le(mod(P.y) | (P.x & 1n) << 255n), IN);
    assert.is(hooks().ge_is_torsion_free_vartime(), proof ? 1 : 0, "against the core");
  }
});

test.run();
