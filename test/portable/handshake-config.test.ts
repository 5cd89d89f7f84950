// Bad settings give the documented typed error, never a raw TypeError (defect 2, docs/protocol.md
// §10): withConfig, withHardening, the constructor's options and ReplayCache all refuse
// non-objects (undefined and null included), values of the wrong kind, and objects whose reading
// throws (getters, Proxy traps). A refused setting changes nothing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { InvalidConfigError, KernelTrustExchange, Keypair, ReplayCache } from "../../src/index.js";
import { throwsWith } from "../helpers/assert-codes.js";

// Getters that throw on a member each reader reads (config, hardening, options, ReplayCache limits).
const throwingGetter = () => {
  const object = {};
  for (const key of ["maxHandshakeSkewSecs", "replayCache", "config", "maxEntries"]) {
    Object.defineProperty(object, key, { get() { throw new Error("getter"); }, enumerable: true });
  }
  return object;
};
const throwingProxy = () => new Proxy({}, { get() { throw new Error("trap"); }, has() { throw new Error("trap"); } });
const revoked = () => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
};
const JUNK: [string, () => unknown][] = [
  ["undefined", () => undefined],
  ["null", () => null],
  ["number", () => 5],
  ["string", () => "config"],
  ["boolean", () => true],
  ["symbol", () => Symbol("s")],
  ["bigint", () => 1n],
  ["throwing getter", throwingGetter],
  ["throwing Proxy", throwingProxy],
  ["revoked Proxy", revoked],
];

function isConfigError(error: unknown): boolean {
  return error instanceof InvalidConfigError && error.code === "INVALID_CONFIG";
}

test("withConfig and withHardening: junk is InvalidConfigError, and the exchange is unchanged", () => {
  const exchange = new KernelTrustExchange("a", Keypair.generate()).withConfig({ maxHandshakeSkewSecs: 42 });
  for (const [name, make] of JUNK) {
    assert.throws(() => exchange.withConfig(make() as never), isConfigError, `withConfig(${name})`);
    assert.throws(() => exchange.withHardening(make() as never), isConfigError, `withHardening(${name})`);
  }
  assert.is(exchange.maxHandshakeSkewSecs, 42);
  assert.is(exchange.hardening.replayCache, true);
  // A getter that throws on a hardening member (not just the config one).
  const hardening = Object.defineProperty({}, "replayCache", { get() { throw new TypeError("nope"); }, enumerable: true });
  const error = throwsWith(() => exchange.withHardening(hardening), "INVALID_CONFIG");
  assert.instance(error.cause, TypeError);
  // A bad member after a good one: nothing is applied.
  throwsWith(() => exchange.withHardening({ rejectWeakKeys: false, maxEnvelopeBytes: 0 }), "INVALID_CONFIG");
  assert.is(exchange.hardening.rejectWeakKeys, true);
  throwsWith(() => exchange.withHardening({ rejectWeakKeys: false, replayCache: null as never }), "INVALID_CONFIG");
  assert.is(exchange.hardening.rejectWeakKeys, true);
  for (const flag of ["rejectWeakKeys", "requireSafeTimestamps", "compareAndSetPins", "escapeDelAndC1"]) {
    for (const bad of [1, "true", null, {}]) throwsWith(() => exchange.withHardening({ [flag]: bad }), "INVALID_CONFIG");
  }
  // Durations keep their documented InvalidTimeError.
  throwsWith(() => exchange.withConfig({ maxHandshakeSkewSecs: -1 }), "INVALID_TIME");
  throwsWith(() => exchange.withConfig({ rotationWindowSecs: "60" as never }), "INVALID_TIME");
  // An empty object is a valid, empty change.
  exchange.withConfig({}).withHardening({});
  assert.is(exchange.maxHandshakeSkewSecs, 42);
});

test("the constructor's options and nested settings give the same typed errors", () => {
  for (const [name, make] of JUNK) {
    if (name === "undefined") continue; // omitted options mean the defaults
    assert.throws(() => new KernelTrustExchange("a", Keypair.generate(), make() as never), isConfigError, `options ${name}`);
    if (name === "null" || name === "undefined") continue;
    assert.throws(() => new KernelTrustExchange("a", Keypair.generate(), { config: make() as never }), isConfigError, `config ${name}`);
    assert.throws(() => new KernelTrustExchange("a", Keypair.generate(), { hardening: make() as never }), isConfigError, `hardening ${name}`);
  }
  assert.is(new KernelTrustExchange("a", Keypair.generate(), undefined).maxHandshakeSkewSecs, 300);
});

test("ReplayCache: null and other junk limits are InvalidConfigError; undefined means the defaults", () => {
  for (const [name, make] of JUNK) {
    if (name === "undefined") continue;
    assert.throws(() => new ReplayCache(make() as never), isConfigError, `ReplayCache(${name})`);
  }
  assert.is(new ReplayCache(undefined).maxEntries, 10_000);
  const getter = Object.defineProperty({}, "maxEntries", { get() { throw new Error("x"); } });
  throwsWith(() => new ReplayCache(getter), "INVALID_CONFIG");
  for (const bad of [Symbol("s"), {}, [], 2n, () => 1]) throwsWith(() => new ReplayCache({ maxEntries: bad as never }), "INVALID_CONFIG");
  const exchange = new KernelTrustExchange("a", Keypair.generate());
  for (const [, make] of JUNK.slice(7)) throwsWith(() => exchange.withHardening({ replayCache: make() as never }), "INVALID_CONFIG");
});

test.run();
