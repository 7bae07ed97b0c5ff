// An LRU cache of compiled sessions keyed by structural key. Concurrent users of a key that
// is still compiling share the pending compile. An evicted session is released once its
// last in-flight run finishes, never under a running one.

export interface Releasable {
  release(): Promise<void>;
}

interface Entry<V> {
  readonly promise: Promise<V>;
  /** What the session depends on (storage ids), for evictTagged. */
  readonly tags: ReadonlySet<string>;
  value?: V;
  users: number;
  evicted: boolean;
}

export interface CacheStats {
  sessionsCompiled: number;
  cacheHits: number;
  cacheMisses: number;
  evictions: number;
}

export class SessionCache<V extends Releasable> {
  readonly #entries = new Map<string, Entry<V>>(); // iteration order = least recently used first
  readonly #stats: CacheStats = { sessionsCompiled: 0, cacheHits: 0, cacheMisses: 0, evictions: 0 };

  constructor(
    readonly capacity: number,
    /** Called with errors from releasing evicted sessions (which nobody awaits). */
    private readonly onReleaseError: (e: unknown) => void = () => {},
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`cacheEntries must be a positive integer, got ${capacity}`);
  }

  /**
   * Runs `fn` on the session for `key`, compiling it with `compile` on a miss; `tags` (also
   * called on a miss only) names what the session depends on.
   */
  async use<T>(key: string, compile: () => Promise<V>, fn: (value: V) => Promise<T>, tags?: () => Iterable<string>): Promise<T> {
    let e = this.#entries.get(key);
    if (e) {
      this.#stats.cacheHits++;
      this.#entries.delete(key); // move to most recently used
      this.#entries.set(key, e);
    } else {
      this.#stats.cacheMisses++;
      e = this.#add(key, compile, new Set(tags?.()));
    }
    e.users++;
    try {
      // Skipping the await of a settled promise saves a microtask turn on the hot path.
      return await fn(e.value ?? (await e.promise));
    } finally {
      e.users--;
      if (e.evicted && e.users === 0) this.#release(e);
    }
  }

  /** The session of `key` if it is cached and compiled. */
  peek(key: string): V | undefined {
    return this.#entries.get(key)?.value;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** Evicts the session of `key`, if cached (released once its runs finish). */
  evict(key: string): void {
    const e = this.#entries.get(key);
    if (e) this.#evict(key, e);
  }

  /** Evicts every session tagged with `tag` (e.g. those reading a released storage). */
  evictTagged(tag: string): void {
    for (const [key, e] of this.#entries) if (e.tags.has(tag)) this.#evict(key, e);
  }

  /** Evicts everything and waits for the idle sessions to be released. */
  async clear(): Promise<void> {
    const idle: Promise<void>[] = [];
    for (const [key, e] of this.#entries) {
      this.#entries.delete(key);
      e.evicted = true;
      if (e.users === 0 && e.value) idle.push(e.value.release().catch(this.onReleaseError));
    }
    await Promise.all(idle);
  }

  get size(): number {
    return this.#entries.size;
  }

  get stats(): CacheStats {
    return { ...this.#stats };
  }

  #add(key: string, compile: () => Promise<V>, tags: ReadonlySet<string>): Entry<V> {
    const e: Entry<V> = {
      tags,
      promise: compile().then(
        (v) => {
          e.value = v;
          this.#stats.sessionsCompiled++;
          return v;
        },
        (err: unknown) => {
          // Forget failures so a later run can retry.
          if (this.#entries.get(key) === e) this.#entries.delete(key);
          throw err;
        },
      ),
      users: 0,
      evicted: false,
    };
    this.#entries.set(key, e);
    for (const [k, old] of this.#entries) {
      if (this.#entries.size <= this.capacity) break;
      this.#evict(k, old);
    }
    return e;
  }

  #evict(key: string, e: Entry<V>): void {
    this.#entries.delete(key);
    e.evicted = true;
    this.#stats.evictions++;
    if (e.users === 0) this.#release(e);
  }

  #release(e: Entry<V>): void {
    // A pending compile always has a user (its creator), so value is set by the time users hit 0
    // unless the compile failed, in which case there is nothing to release.
    e.promise.then(
      (v) => v.release().catch(this.onReleaseError),
      () => {},
    );
  }
}
