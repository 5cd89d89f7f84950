// A pinned federation peer (Rust `FederationPeer`, V0 fields; docs/protocol.md §6). JSON keys in
// serde order: kernelId, publicKey (bare hex), establishedAt, rotationDue (unix seconds).
import { hardenClass, brandHasInstance, hasOwnMember, isArrayArgument, isListed, ownEnumerableKeys, parseJson, refuseSubclass, freezeAtLoad } from "../bytes.js";
import { InvalidTypeError, instanceOfOrFalse } from "../errors.js";
import { PublicKey, toPublicKey } from "./keys.js";
import { describeThrown } from "./errors.js";
import { expectUnixSeconds } from "./time.js";

/** The JSON shape of a pinned peer. */
export interface FederationPeerJson {
  kernelId: string;
  publicKey: string;
  establishedAt: number;
  rotationDue: number;
}

/** Fields for constructing a peer; the key may be given as a PublicKey or its hex. */
export interface FederationPeerFields {
  kernelId: string;
  publicKey: PublicKey | string;
  establishedAt: number;
  rotationDue: number;
}

const PEER_FIELDS = ["kernelId", "publicKey", "establishedAt", "rotationDue"];

/** An immutable pin. Times are unix seconds (safe integers). */
export class FederationPeer {
  readonly kernelId: string;
  readonly publicKey: PublicKey;
  /** When the peer was last pinned by a successful handshake. */
  readonly establishedAt: number;
  /** From this second on the pin is stale and `resolve` refuses it. */
  readonly rotationDue: number;
  /** Brand: set only by this constructor (see Symbol.hasInstance). */
  readonly #constructed = true;

  /** `instanceof FederationPeer` is a brand check on its private #constructed (brandHasInstance in src/bytes.ts). */
  static [Symbol.hasInstance](value: unknown): boolean {
    return brandHasInstance(FederationPeer, this, value, FederationPeer.#hasBrand);
  }

  /** The brand test for [Symbol.hasInstance]: one function, where an arrow in its call would be a new closure on every `instanceof`. */
  static #hasBrand(value: object): boolean {
    return #constructed in value;
  }

  /**
   * Each field is read once (a getter or Proxy trap runs once), so the value checked is the value
   * kept; a field that cannot be read is InvalidTypeError.
   * @throws InvalidTypeError, InvalidTimeError, or the PublicKey parse errors.
   */
  constructor(fields: FederationPeerFields) {
    refuseSubclass(new.target, FederationPeer, "FederationPeer");
    if (fields === null || typeof fields !== "object") throw new InvalidTypeError("peer fields must be an object");
    let kernelId: unknown, publicKey: unknown, establishedAt: unknown, rotationDue: unknown;
    try {
      ({ kernelId, publicKey, establishedAt, rotationDue } = fields);
    } catch (cause) {
      throw new InvalidTypeError(`peer fields cannot be read: ${describeThrown(cause)}`, { cause });
    }
    if (typeof kernelId !== "string") throw new InvalidTypeError("kernelId must be a string");
    this.kernelId = kernelId;
    this.publicKey = toPublicKey(publicKey);
    this.establishedAt = expectUnixSeconds(establishedAt, "establishedAt");
    this.rotationDue = expectUnixSeconds(rotationDue, "rotationDue");
    freezeAtLoad(this);
  }

  /**
   * Reads a peer from JSON text or a parsed object, refusing unknown members as serde's
   * `deny_unknown_fields` does. Accepts only the V0 fields. Text goes through JSON.parse, so it
   * is not as strict as serde (review 92 F2): a duplicated member is read as its last value, a
   * number written as `1.8e9`, `1800000000.0` or `-0` is read as the integer it equals, and a
   * kernel id may hold an unpaired surrogate (which no envelope can carry, so no accept matches
   * it). A kernel's own stores write pins through toJSON; read pins from elsewhere with that in mind.
   * @throws InvalidTypeError on bad shape, InvalidTimeError on bad times.
   */
  static fromJSON(input: string | FederationPeerJson): FederationPeer {
    let value: unknown = input;
    if (typeof input === "string") {
      try {
        value = parseJson(input);
      } catch (cause) {
        throw new InvalidTypeError(`peer JSON does not parse: ${describeThrown(cause)}`);
      }
    }
    // isArrayArgument: a revoked Proxy is no array (Array.isArray throws on one) and then fails
    // the read below, as InvalidTypeError, not the engine's TypeError (helper 144).
    if (value === null || typeof value !== "object" || isArrayArgument(value)) {
      throw new InvalidTypeError("peer must be a JSON object");
    }
    // Own members only, each read once into a record with no prototype (a Proxy's traps or a
    // throwing getter give InvalidTypeError, inherited members count as missing). Built-ins as
    // captured at load, and no Object.prototype under the record: the Redis store reads its pins
    // through here, and a `publicKey` accessor put on Object.prototype after load answered for an
    // ordinary record with a stranger's key (README "Hardening").
    const record = Object.create(null) as Record<string, unknown>;
    try {
      const keys = ownEnumerableKeys(value);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        if (!isListed(PEER_FIELDS, key)) throw new InvalidTypeError(`peer: unknown field \`${key}\``);
      }
      for (let i = 0; i < PEER_FIELDS.length; i++) {
        const key = PEER_FIELDS[i]!;
        if (!hasOwnMember(value, key)) throw new InvalidTypeError(`peer: missing field \`${key}\``);
        record[key] = (value as Record<string, unknown>)[key];
      }
    } catch (cause) {
      if (instanceOfOrFalse(InvalidTypeError, cause)) throw cause;
      throw new InvalidTypeError(`peer cannot be read: ${describeThrown(cause)}`, { cause });
    }
    return new FederationPeer(record as unknown as FederationPeerFields);
  }

  /** Rust `is_fresh`: `now < rotationDue` (strict). */
  isFresh(now: number): boolean {
    return expectUnixSeconds(now, "now") < this.rotationDue;
  }

  /** All four fields equal (Rust derives PartialEq); what compare-and-set compares. */
  equals(other: FederationPeer | undefined | null): boolean {
    return (
      other instanceof FederationPeer &&
      this.kernelId === other.kernelId &&
      this.publicKey.equals(other.publicKey) &&
      this.establishedAt === other.establishedAt &&
      this.rotationDue === other.rotationDue
    );
  }

  /** Plain object in serde field order; JSON.stringify of it is the Rust wire form. */
  toJSON(): FederationPeerJson {
    return {
      kernelId: this.kernelId,
      publicKey: this.publicKey.toHex(),
      establishedAt: this.establishedAt,
      rotationDue: this.rotationDue,
    };
  }
}
// A peer is no thenable, whatever Object.prototype holds. Resolving a promise with an object looks
// up its `then`: a store's async `get` resolves with a FederationPeer, and the exchange awaits what
// a synchronous store returns, so a `then` put on Object.prototype after load was handed every pin
// and could answer with a stranger's (its envelope was then accepted and pinned; README
// "Hardening", test/node/lying-builtins.test.ts). An own `then` of undefined on the prototype, fixed
// for good, ends the lookup there.
Object.defineProperty(FederationPeer.prototype, "then", { value: undefined, writable: false, enumerable: false, configurable: false });
hardenClass(FederationPeer); // its statics, methods and brand check stay its own, `then` included: see hardenClass
