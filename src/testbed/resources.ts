/**
 * Resources for the test API server — ConfigMaps, and the IAMIdentityMapping custom resources of aws-iam-authenticator's
 * CRD backend — with the list and watch semantics informers rely on: every change gets a new resourceVersion; a watch
 * started from a resourceVersion replays what happened after it, then streams changes as newline-delimited JSON
 * events; a resourceVersion older than the retained history gets a 410 `Expired` event. Tests change resources
 * directly, end every watch (as kube-apiserver does when a watch times out) and drop the history, to prove a client
 * resumes and relists.
 */
import type { ServerResponse } from 'node:http';
import { failureStatus, sendJson } from '../lib/http.js';

/** A stored resource: its type, metadata, and its body (`data` for a ConfigMap, `spec` for a custom resource). */
export interface StoredObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion: string; uid: string; creationTimestamp: string };
  [body: string]: unknown;
}

/** One resource type: how it is addressed and what its objects hold. */
export interface ResourceType<Content> {
  apiVersion: string;
  kind: string;
  /** The collection path, capturing the namespace (namespaced types) and the name (a get). */
  path: RegExp;
  namespaced: boolean;
  /** The object's body, e.g. `{ data }`. */
  body: (content: Content) => Record<string, unknown>;
}

/** ConfigMaps, as `/api/v1/namespaces/<ns>/configmaps`. */
export const CONFIGMAPS: ResourceType<Record<string, string>> = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  path: /^\/api\/v1\/namespaces\/([a-z0-9.-]+)\/configmaps(?:\/([a-z0-9.-]+))?$/,
  namespaced: true,
  body: (data) => ({ data: { ...data } }),
};

/** aws-iam-authenticator's cluster-scoped IAMIdentityMapping resources (deploy/iamidentitymapping.yaml). */
export const IAM_IDENTITY_MAPPINGS: ResourceType<{ arn: string; username: string; groups?: string[] }> = {
  apiVersion: 'iamauthenticator.k8s.aws/v1alpha1',
  kind: 'IAMIdentityMapping',
  path: /^\/apis\/iamauthenticator\.k8s\.aws\/v1alpha1\/iamidentitymappings(?:\/([a-z0-9.-]+))?$/,
  namespaced: false,
  body: (spec) => ({ spec: { ...spec }, status: {} }),
};

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface StoredEvent {
  type: EventType;
  object: StoredObject;
  resourceVersion: number;
}

interface Watcher {
  namespace: string;
  name?: string;
  res: ServerResponse;
}

/**
 * The resources of one type that one test API server serves. Cluster-scoped types take `''` as the namespace.
 *
 * @example
 * ```ts
 * const api = await startTestApiServer({ authenticate });
 * api.configMaps.put('kube-system', 'aws-auth', { mapUsers: '- userarn: …' });
 * api.identityMappings.put('', 'admin', { arn: 'arn:aws:iam::111122223333:role/Admin', username: 'admin' });
 * api.configMaps.endWatches(); // informers reconnect from their last resourceVersion
 * ```
 */
export class ResourceStore<Content> {
  private readonly objects = new Map<string, StoredObject>();
  private readonly history: StoredEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private resourceVersion = 1;
  /** Watches from a resourceVersion below this get 410 Gone. */
  private oldestKept = 1;
  private watchesStarted = 0;

  constructor(private readonly type: ResourceType<Content>) {}

  /** Creates or replaces an object's content; returns its new resourceVersion. */
  put(namespace: string, name: string, content: Content): string {
    const key = `${namespace}/${name}`;
    const existing = this.objects.get(key);
    const rv = ++this.resourceVersion;
    const object: StoredObject = {
      apiVersion: this.type.apiVersion,
      kind: this.type.kind,
      metadata: {
        name, ...(this.type.namespaced ? { namespace } : {}), resourceVersion: String(rv),
        uid: existing?.metadata.uid ?? `00000000-0000-4000-8000-${String(rv).padStart(12, '0')}`,
        creationTimestamp: existing?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
      ...this.type.body(content),
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

  get(namespace: string, name: string): StoredObject | undefined {
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
   * Answers `GET` on the type's collection path (list, watch with `watch=true|1`) or on one object (get), e.g.
   * `/api/v1/namespaces/<ns>/configmaps[/<name>]`, and returns the status sent, or undefined for other paths.
   */
  handle(method: string, url: URL, res: ServerResponse): number | undefined {
    const match = this.type.path.exec(url.pathname);
    if (match === null) return undefined;
    const [namespace = '', name] = this.type.namespaced ? [match[1], match[2]] : ['', match[1]];
    if (method !== 'GET') return sendJson(res, 405, failureStatus(405, 'MethodNotAllowed', `the test API server serves ${this.type.kind}s read-only`));
    if (name !== undefined) {
      const object = this.get(namespace, name);
      return object === undefined
        ? sendJson(res, 404, failureStatus(404, 'NotFound', `${this.type.kind} "${name}" not found`))
        : sendJson(res, 200, object);
    }
    const selected = selectedName(url.searchParams.get('fieldSelector'));
    if (selected === null) return sendJson(res, 400, failureStatus(400, 'BadRequest', 'only the fieldSelector metadata.name=<name> is supported'));
    const watch = url.searchParams.get('watch');
    if (watch === 'true' || watch === '1') return this.startWatch({ namespace, ...(selected ? { name: selected } : {}), res }, url.searchParams.get('resourceVersion') ?? '');
    const items = [...this.objects.values()].filter((o) => matches(o, namespace, selected));
    return sendJson(res, 200, {
      kind: `${this.type.kind}List`, apiVersion: this.type.apiVersion, metadata: { resourceVersion: String(this.resourceVersion) },
      items: items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest),
    });
  }

  private startWatch(watcher: Watcher, from: string): number {
    this.watchesStarted += 1;
    const { res } = watcher;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    // As kube-apiserver: the headers go out at once, so a client can end a watch on which nothing has happened yet.
    res.flushHeaders();
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

  private record(type: EventType, object: StoredObject, resourceVersion: number): void {
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

function matches(object: StoredObject, namespace: string, name: string | undefined): boolean {
  return (object.metadata.namespace ?? '') === namespace && (name === undefined || object.metadata.name === name);
}

function writeEvent(res: ServerResponse, type: EventType | 'ERROR', object: object): void {
  res.write(`${JSON.stringify({ type, object })}\n`);
}
