import { type KubeConfig, Watch } from '@kubernetes/client-node';
import type { Logger } from '@floe/telemetry';
import { kubeGetJson } from './http.js';
import { keyOf, type KubeObject } from './objects.js';

/** What a reflector calls for each change; `now` is the wall time (ms) the event arrived. */
export interface ReflectorHandler<T extends KubeObject> {
  upsert(obj: T, now: number, initial: boolean): void;
  remove(obj: T, now: number): void;
}

/** Options of one reflector. */
export interface ReflectorOptions<T extends KubeObject> {
  /** Resource name for logs and metrics (`pods`). */
  resource: string;
  /** Collection path (`/api/v1/pods`, `/apis/networking.k8s.io/v1/networkpolicies`). */
  path: string;
  handler: ReflectorHandler<T>;
  logger: Logger;
  now?: () => number;
  /** Called on every event (for metrics): type add, update, delete; `listed` when it came from a (re)list, not from the watch. */
  onEvent?: (type: 'add' | 'update' | 'delete', obj: T, now: number, listed: boolean) => void;
  onError?: (err: unknown) => void;
  /** Keeps only what the handler reads (drops managedFields and the like before anything holds the object). */
  trim?: (obj: T) => T;
}

/** The identity of an object (name, namespace, uid, resourceVersion): what the reflector keeps of it. */
function stub<T extends KubeObject>(o: T): T {
  const m = o.metadata;
  return { metadata: { name: m?.name, namespace: m?.namespace, uid: m?.uid, resourceVersion: m?.resourceVersion } } as T;
}

/**
 * List then watch one resource, like client-go's reflector: a full list (the handler gets every
 * object, and a delete for each one no longer there after a relist), then a watch from the list's
 * resourceVersion with bookmarks; the watch resumes from the last version seen, and relists when
 * the server says the version is gone (410 Expired). Only each object's identity is kept here
 * (a relist's delete of a vanished object hands the handler that stub): the handler keeps what it
 * needs, so memory is the handler's.
 */
export class Reflector<T extends KubeObject> {
  /** What a relist needs to tell deletions: each object's key, uid and resourceVersion only. */
  private readonly known = new Map<string, T>();
  private rv = '';
  private stopped = true;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private synced: Promise<void>;
  private resolveSynced!: () => void;
  private backoffMs = 500;

  constructor(
    private readonly kc: KubeConfig,
    private readonly o: ReflectorOptions<T>,
  ) {
    this.synced = new Promise((r) => {
      this.resolveSynced = r;
    });
  }

  /** Resolves once the first list was applied. */
  hasSynced(): Promise<void> {
    return this.synced;
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private trim(o: T): T {
    return this.o.trim ? this.o.trim(o) : o;
  }

  /** Starts listing and watching; never rejects (errors retry with backoff). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.controller?.abort();
    this.controller = undefined;
  }

  private retry(fn: () => void): void {
    if (this.stopped) return;
    const ms = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
    this.timer = setTimeout(fn, ms);
    this.timer.unref?.();
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    try {
      const list = await kubeGetJson<{ metadata?: { resourceVersion?: string }; items?: T[] }>(this.kc, this.o.path);
      if (this.stopped) return;
      const now = this.now();
      const seen = new Set<string>();
      for (const raw of list?.items ?? []) {
        const obj = this.trim(raw);
        const k = keyOf(obj);
        seen.add(k);
        const old = this.known.get(k);
        this.known.set(k, stub(obj));
        if (old?.metadata?.resourceVersion !== obj.metadata?.resourceVersion || !old) {
          this.o.handler.upsert(obj, now, true);
          this.o.onEvent?.(old ? 'update' : 'add', obj, now, true);
        }
      }
      for (const [k, old] of this.known) {
        if (seen.has(k)) continue;
        this.known.delete(k);
        this.o.handler.remove(old, now);
        this.o.onEvent?.('delete', old, now, true);
      }
      this.rv = list?.metadata?.resourceVersion ?? '';
      this.resolveSynced();
      this.backoffMs = 500;
      await this.watch();
    } catch (err) {
      this.o.onError?.(err);
      this.o.logger.warn({ resource: this.o.resource, err: err instanceof Error ? err.message : String(err) }, 'kube list failed; retrying');
      this.retry(() => void this.relist());
    }
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    let expired = false;
    const w = new Watch(this.kc);
    this.controller = await w.watch(
      this.o.path,
      { allowWatchBookmarks: true, resourceVersion: this.rv },
      (type: string, raw: T & { code?: number; metadata?: { resourceVersion?: string } }) => {
        const now = this.now();
        if (type === 'ERROR') {
          if ((raw as { code?: number }).code === 410) expired = true;
          return;
        }
        const rv = raw.metadata?.resourceVersion;
        if (rv) this.rv = rv;
        if (type === 'BOOKMARK') return;
        const obj = this.trim(raw);
        const k = keyOf(obj);
        if (type === 'DELETED') {
          this.known.delete(k);
          this.o.handler.remove(obj, now);
          this.o.onEvent?.('delete', obj, now, false);
        } else if (type === 'ADDED' || type === 'MODIFIED') {
          const had = this.known.has(k);
          this.known.set(k, stub(obj));
          this.o.handler.upsert(obj, now, false);
          this.o.onEvent?.(had ? 'update' : 'add', obj, now, false);
        }
      },
      (err: unknown) => {
        if (this.stopped) return;
        if (err) {
          this.o.onError?.(err);
          this.o.logger.warn({ resource: this.o.resource, err: err instanceof Error ? err.message : String(err) }, 'kube watch ended; resuming');
        }
        if (expired || !this.rv) this.retry(() => void this.relist());
        else this.retry(() => void this.watch().catch(() => this.retry(() => void this.relist())));
      },
    );
    this.backoffMs = 500;
  }
}
