/**
 * ConfigMaps for the test API server, with the list and watch semantics informers rely on: every change gets a new
 * resourceVersion; a watch started from a resourceVersion replays what happened after it, then streams changes as
 * newline-delimited JSON events; a resourceVersion older than the retained history gets a 410 `Expired` event.
 * Tests change ConfigMaps directly, end every watch (as kube-apiserver does when a watch times out) and drop the
 * history, to prove a client resumes and relists.
 */
import type { ServerResponse } from 'node:http';
import { failureStatus, sendJson } from '../lib/http.js';

export interface ConfigMapObject {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: { name: string; namespace: string; resourceVersion: string; uid: string; creationTimestamp: string };
  data: Record<string, string>;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface StoredEvent {
  type: EventType;
  object: ConfigMapObject;
  resourceVersion: number;
}

interface Watcher {
  namespace: string;
  name?: string;
  res: ServerResponse;
}

const CONFIGMAP_PATH = /^\/api\/v1\/namespaces\/([a-z0-9.-]+)\/configmaps(?:\/([a-z0-9.-]+))?$/;

/**
 * The ConfigMaps one test API server serves.
 *
 * @example
 * ```ts
 * const api = await startTestApiServer({ authenticate });
 * api.configMaps.put('kube-system', 'aws-auth', { mapUsers: '- userarn: …' });
 * api.configMaps.endWatches(); // informers reconnect from their last resourceVersion
 * ```
 */
export class ConfigMapStore {
  private readonly objects = new Map<string, ConfigMapObject>();
  private readonly history: StoredEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private resourceVersion = 1;
  /** Watches from a resourceVersion below this get 410 Gone. */
  private oldestKept = 1;
  private watchesStarted = 0;

  /** Creates or replaces a ConfigMap's data; returns its new resourceVersion. */
  put(namespace: string, name: string, data: Record<string, string>): string {
    const key = `${namespace}/${name}`;
    const existing = this.objects.get(key);
    const rv = ++this.resourceVersion;
    const object: ConfigMapObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name, namespace, resourceVersion: String(rv),
        uid: existing?.metadata.uid ?? `00000000-0000-4000-8000-${String(rv).padStart(12, '0')}`,
        creationTimestamp: existing?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
      data: { ...data },
    };
    this.objects.set(key, object);
    this.record(existing === undefined ? 'ADDED' : 'MODIFIED', object, rv);
    return String(rv);
  }

  delete(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const existing = this.objects.get(key);
    if (existing === undefined) return;
    this.objects.delete(key);
    const rv = ++this.resourceVersion;
    this.record('DELETED', { ...existing, metadata: { ...existing.metadata, resourceVersion: String(rv) } }, rv);
  }

  get(namespace: string, name: string): ConfigMapObject | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }

  /** Ends every open watch cleanly; clients resume from the last resourceVersion they saw. */
  endWatches(): void {
    for (const watcher of this.watchers) watcher.res.end();
    this.watchers.clear();
  }

  /** Forgets the history, so that resuming from any earlier resourceVersion gets 410 and the client must relist. */
  compact(): void {
    this.history.length = 0;
    this.oldestKept = this.resourceVersion + 1;
  }

  /** Watches opened so far (a reconnecting informer opens a new one). */
  watchCount(): number {
    return this.watchesStarted;
  }

  /**
   * Answers `GET /api/v1/namespaces/<ns>/configmaps[/<name>]` (list, watch with `watch=true|1`, get) and returns the
   * status sent, or undefined when the path is not a ConfigMap path.
   */
  handle(method: string, url: URL, res: ServerResponse): number | undefined {
    const match = CONFIGMAP_PATH.exec(url.pathname);
    if (match === null) return undefined;
    const [, namespace = '', name] = match;
    if (method !== 'GET') return sendJson(res, 405, failureStatus(405, 'MethodNotAllowed', 'the test API server serves ConfigMaps read-only'));
    if (name !== undefined) {
      const object = this.get(namespace, name);
      return object === undefined
        ? sendJson(res, 404, failureStatus(404, 'NotFound', `configmaps "${name}" not found`))
        : sendJson(res, 200, object);
    }
    const selected = selectedName(url.searchParams.get('fieldSelector'));
    if (selected === null) return sendJson(res, 400, failureStatus(400, 'BadRequest', 'only the fieldSelector metadata.name=<name> is supported'));
    const watch = url.searchParams.get('watch');
    if (watch === 'true' || watch === '1') return this.startWatch({ namespace, ...(selected ? { name: selected } : {}), res }, url.searchParams.get('resourceVersion') ?? '');
    const items = [...this.objects.values()].filter((o) => matches(o, namespace, selected));
    return sendJson(res, 200, {
      kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: String(this.resourceVersion) },
      items: items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest),
    });
  }

  private startWatch(watcher: Watcher, from: string): number {
    this.watchesStarted += 1;
    const { res } = watcher;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    if (from === '' || from === '0') {
      for (const object of this.objects.values()) if (matches(object, watcher.namespace, watcher.name)) writeEvent(res, 'ADDED', object);
    } else {
      const since = Number(from);
      if (!Number.isInteger(since) || since < this.oldestKept - 1) {
        writeEvent(res, 'ERROR', failureStatus(410, 'Expired', `too old resource version: ${from} (${this.oldestKept})`));
        res.end();
        return 200;
      }
      for (const event of this.history) {
        if (event.resourceVersion > since && matches(event.object, watcher.namespace, watcher.name)) writeEvent(res, event.type, event.object);
      }
    }
    this.watchers.add(watcher);
    res.on('close', () => this.watchers.delete(watcher));
    return 200;
  }

  private record(type: EventType, object: ConfigMapObject, resourceVersion: number): void {
    this.history.push({ type, object, resourceVersion });
    for (const watcher of this.watchers) {
      if (matches(object, watcher.namespace, watcher.name)) writeEvent(watcher.res, type, object);
    }
  }
}

/** `metadata.name=<name>` → the name; absent → undefined (all); anything else → null (unsupported). */
function selectedName(selector: string | null): string | undefined | null {
  if (selector === null || selector === '') return undefined;
  const match = /^metadata\.name(?:=|==)([a-z0-9.-]+)$/.exec(selector);
  return match?.[1] ?? null;
}

function matches(object: ConfigMapObject, namespace: string, name: string | undefined): boolean {
  return object.metadata.namespace === namespace && (name === undefined || object.metadata.name === name);
}

function writeEvent(res: ServerResponse, type: EventType | 'ERROR', object: object): void {
  res.write(`${JSON.stringify({ type, object })}\n`);
}
