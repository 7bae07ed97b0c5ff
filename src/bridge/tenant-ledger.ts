// What each tenant keeps in the engine host between calls, and the bounds on it: the specs it
// sent (kept so later runs send only a key) and the graphs compiled for it (ONNX Runtime
// sessions). Each is an LRU per tenant, so one tenant filling its share evicts only its own
// least recently used entries, never another tenant's.

export interface TenantLimits {
  /** Specs kept per tenant, and the characters of their JSON together. */
  specs: number;
  specChars: number;
  /** Compiled graphs kept per tenant, and their estimated bytes together. */
  sessions: number;
  sessionBytes: number;
}

export const DEFAULT_TENANT_LIMITS: Readonly<TenantLimits> = {
  specs: 512,
  specChars: 64 * 2 ** 20,
  sessions: 128,
  sessionBytes: 1024 * 2 ** 20,
};

const NONE_EVICTED: readonly string[] = Object.freeze([]);

class Lru {
  readonly entries = new Map<string, number>();
  total = 0;
  /** The most recently used key (last in `entries`), while it is there. */
  #last?: string;

  /** Insert or touch `key`; returns the keys evicted to keep within `count` and `size`. */
  use(key: string, size: number, count: number, limit: number): readonly string[] {
    // The same key again at the same size (a model called over and over) changes nothing.
    if (key === this.#last && this.entries.get(key) === size && this.entries.size <= count && this.total <= limit) return NONE_EVICTED;
    this.#last = key;
    const had = this.entries.get(key);
    if (had !== undefined) {
      this.entries.delete(key);
      this.total -= had;
    }
    this.entries.set(key, size);
    this.total += size;
    const evicted: string[] = [];
    for (const [k, s] of this.entries) {
      if ((this.entries.size <= count && this.total <= limit) || k === key) break;
      this.entries.delete(k);
      this.total -= s;
      evicted.push(k);
    }
    return evicted;
  }

  drop(key: string): void {
    const s = this.entries.get(key);
    if (s === undefined) return;
    if (key === this.#last) this.#last = undefined;
    this.entries.delete(key);
    this.total -= s;
  }
}

interface Usage {
  specs: Lru;
  sessions: Lru;
}

export class TenantLedger {
  readonly #tenants = new Map<string, Usage>();

  constructor(readonly limits: TenantLimits = DEFAULT_TENANT_LIMITS) {}

  #usage(tenant: string): Usage {
    let u = this.#tenants.get(tenant);
    if (!u) this.#tenants.set(tenant, (u = { specs: new Lru(), sessions: new Lru() }));
    return u;
  }

  /** A spec the tenant sent is kept under `cacheKey`; returns the tenant's cache keys to forget. */
  useSpec(tenant: string, cacheKey: string, chars: number): readonly string[] {
    return this.#usage(tenant).specs.use(cacheKey, chars, this.limits.specs, this.limits.specChars);
  }

  dropSpec(tenant: string, cacheKey: string): void {
    this.#tenants.get(tenant)?.specs.drop(cacheKey);
  }

  /** The tenant ran the graph `key`; returns the graph keys of its own to evict from the engine. */
  useSession(tenant: string, key: string, bytes: number): readonly string[] {
    return this.#usage(tenant).sessions.use(key, bytes, this.limits.sessions, this.limits.sessionBytes);
  }

  /** Distinct compiled graphs over all tenants, and their estimated bytes (a shared graph once). */
  sessionTotals(): { compiledGraphs: number; compiledGraphBytes: number } {
    const seen = new Map<string, number>();
    for (const u of this.#tenants.values()) for (const [k, b] of u.sessions.entries) seen.set(k, b);
    let bytes = 0;
    for (const b of seen.values()) bytes += b;
    return { compiledGraphs: seen.size, compiledGraphBytes: bytes };
  }

  /** Forget a graph for every tenant (its weights were released). */
  dropSession(key: string): void {
    for (const u of this.#tenants.values()) u.sessions.drop(key);
  }

  /** What a tenant holds (stats and tests). */
  usage(tenant: string): { specs: number; specChars: number; sessions: number; sessionBytes: number } {
    const u = this.#tenants.get(tenant);
    return {
      specs: u?.specs.entries.size ?? 0,
      specChars: u?.specs.total ?? 0,
      sessions: u?.sessions.entries.size ?? 0,
      sessionBytes: u?.sessions.total ?? 0,
    };
  }

  clear(): void {
    this.#tenants.clear();
  }
}
