/**
 * A minimal HTTPS Kubernetes API server for end-to-end tests with the real `kubectl` and client libraries.
 *
 * It serves just enough for `kubectl get --raw`, `kubectl version`, `kubectl api-resources`, `kubectl auth whoami`
 * and `kubectl get namespaces`: legacy discovery (`/api`, `/apis`, the `authentication.k8s.io` group), `/version`,
 * SelfSubjectReview and a read-only `default` namespace, plus ConfigMaps and aws-iam-authenticator's IAMIdentityMapping
 * resources with list and watch (see `resources.ts`) for informers such as eksauth server's aws-auth and CRD watches. Every request needs a bearer token that a static token (as
 * `--token-auth-file`) or the pluggable authenticator accepts (`webhook-client.ts` makes it kube-apiserver's webhook
 * token authenticator); otherwise the answer is the same 401 `Status` kube-apiserver sends, which is what makes
 * client-go run its exec plugin again.
 * Loopback only: this is a test fixture, not a server.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getCallerIdentity } from '../authn/get-caller-identity.js';
import { EksAuthError } from '../errors.js';
import { createSelfSignedCertificate } from '../server/tls.js';
import { decodeToken } from '../token/format.js';
import { CONFIGMAPS, IAM_IDENTITY_MAPPINGS, ResourceStore } from './resources.js';
import { bracketHost, failureStatus, listen, readBody, sendJson } from '../lib/http.js';

/** The user a request is made as, shaped like Kubernetes' `UserInfo`. */
export interface AuthenticatedUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** Resolves a bearer token to a user; undefined (or a thrown error) means 401. */
export type BearerAuthenticator = (token: string) => Promise<AuthenticatedUser | undefined>;

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  status: number;
  /** Set when the request was authenticated. */
  username?: string;
  /** Why authentication failed: `no-token`, `rejected`, or the code of the error the authenticator threw. */
  authError?: string;
}

export interface TestApiServer {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** The CA to trust as `certificate-authority-data`: the serving certificate itself, unless `tls` was given. */
  caPem: string;
  close(): Promise<void>;
  /** Every request answered so far, oldest first. */
  requests(): RecordedRequest[];
  /** The ConfigMaps served under `/api/v1/namespaces/<ns>/configmaps`; change them while clients watch. */
  configMaps: ResourceStore<Record<string, string>>;
  /** The IAMIdentityMapping resources (namespace `''`: cluster-scoped) served for the CRD backend. */
  identityMappings: ResourceStore<{ arn: string; username: string; groups?: string[] }>;
}

export interface TestApiServerOptions {
  authenticate: BearerAuthenticator;
  /** Tokens accepted without asking `authenticate`, like kube-apiserver's `--token-auth-file` (e.g. a service account for an informer). */
  staticTokens?: Record<string, AuthenticatedUser>;
  /** `127.0.0.1` (default) or `::1`; nothing but loopback is allowed. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /**
   * The serving certificate (chain) and key, and the CA clients are to trust for it; say, one issued by the emulator's
   * local CA. Default: a fresh self-signed certificate, which is its own CA.
   */
  tls?: { certPem: string; keyPem: string; caPem: string };
}

/** The Kubernetes version the test server reports; kubectl 1.32 is what the test machine has. */
const SERVER_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0' };
const AUTHENTICATION_GROUP = 'authentication.k8s.io';
const SELF_SUBJECT_REVIEW_VERSIONS = ['v1', 'v1beta1'];
const MAX_REQUEST_BODY_BYTES = 1024 * 1024;
/** The only object served, so that `kubectl get namespaces` exercises an ordinary resource request. */
const DEFAULT_NAMESPACE = {
  kind: 'Namespace',
  apiVersion: 'v1',
  metadata: { name: 'default', uid: '00000000-0000-4000-8000-000000000001', resourceVersion: '1', creationTimestamp: '2025-01-01T00:00:00Z' },
  spec: { finalizers: ['kubernetes'] },
  status: { phase: 'Active' },
};
/** kube-apiserver adds this group to every authenticated user. */
const AUTHENTICATED_GROUP = 'system:authenticated';

/**
 * Starts the server on loopback with a fresh self-signed certificate for 127.0.0.1, ::1 and localhost.
 *
 * @example
 * ```ts
 * const server = await startTestApiServer({ authenticate: async (t) => (t === 'good' ? { username: 'alice' } : undefined) });
 * // kubeconfig: server.url, certificate-authority-data: base64(server.caPem), token: good
 * await server.close();
 * ```
 */
export async function startTestApiServer(options: TestApiServerOptions): Promise<TestApiServer> {
  const host = requireLoopback(options.host ?? '127.0.0.1');
  const { certPem, keyPem, caPem } = options.tls ?? (await selfSigned());
  const log: RecordedRequest[] = [];
  const stores = { configMaps: new ResourceStore(CONFIGMAPS), identityMappings: new ResourceStore(IAM_IDENTITY_MAPPINGS) };
  const authenticate = withStaticTokens(options.authenticate, options.staticTokens ?? {});
  const server = https.createServer({ cert: certPem, key: keyPem }, (req, res) => {
    handleRequest(req, res, authenticate, Object.values(stores)).then(
      (entry) => log.push(entry),
      () => res.destroy(),
    );
  });
  const port = await listen(server, { host, port: options.port ?? 0, what: 'the test API server', flag: 'its port option' });
  return {
    url: `https://${bracketHost(host)}:${port}`,
    caPem,
    requests: () => log.map((entry) => ({ ...entry })),
    ...stores,
    close: () => closeServer(server),
  };
}

async function selfSigned(): Promise<{ certPem: string; keyPem: string; caPem: string }> {
  const { certPem, keyPem } = await createSelfSignedCertificate({
    commonName: 'eksauth-test-apiserver',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
    days: 2,
  });
  return { certPem, keyPem, caPem: certPem };
}

/**
 * An authenticator that asks the STS emulator who signed a `k8s-aws-v1.` token, as a webhook would, with the ARN as
 * username. Tokens that do not decode or that STS rejects give undefined (401); other failures (emulator down, garbage)
 * are thrown so the server records their code.
 */
export function emulatorAuthenticator(options: { clusterId: string; stsEndpoint: string }): BearerAuthenticator {
  return async (token) => {
    const decoded = decodeToken(token);
    if (decoded === undefined || !URL.canParse(decoded)) return undefined;
    try {
      const identity = await getCallerIdentity(new URL(decoded), options);
      return {
        username: identity.arn,
        uid: `aws-iam-authenticator:${identity.account}:${identity.userId}`,
        groups: [],
      };
    } catch (err) {
      if (err instanceof EksAuthError && err.code === 'ERR_STS_REJECTED') return undefined;
      throw err;
    }
  };
}

function withStaticTokens(authenticate: BearerAuthenticator, tokens: Record<string, AuthenticatedUser>): BearerAuthenticator {
  return (token) => (Object.hasOwn(tokens, token) ? Promise.resolve(tokens[token]) : authenticate(token));
}

function requireLoopback(host: string): string {
  if (host !== '127.0.0.1' && host !== '::1') {
    throw new EksAuthError('ERR_USAGE', `The test API server binds loopback only (127.0.0.1 or ::1), not "${host}".`);
  }
  return host;
}

function closeServer(server: https.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // kubectl keeps connections alive; without this close() would wait for them to time out.
    server.closeAllConnections();
  });
}

async function handleRequest(
  req: IncomingMessage,
  res: ServerResponse,
  authenticate: BearerAuthenticator,
  stores: readonly ResourceStore<never>[],
): Promise<RecordedRequest> {
  const method = req.method ?? 'GET';
  const url = new URL(req.url ?? '/', 'https://apiserver.invalid');
  const path = url.pathname;
  await readBody(req, MAX_REQUEST_BODY_BYTES);
  const auth = await authenticateRequest(req, authenticate);
  if (!('user' in auth)) {
    sendJson(res, 401, failureStatus(401, 'Unauthorized', 'Unauthorized'));
    return { method, path, status: 401, authError: auth.error };
  }
  const status = handledByStore(stores, method, url, res) ?? route(method, path, auth.user, res);
  return { method, path, status, username: auth.user.username };
}

function handledByStore(stores: readonly ResourceStore<never>[], method: string, url: URL, res: ServerResponse): number | undefined {
  for (const store of stores) {
    const status = store.handle(method, url, res);
    if (status !== undefined) return status;
  }
  return undefined;
}

type AuthOutcome = { user: AuthenticatedUser } | { error: string };

/** Bearer scheme as kube-apiserver parses it: case-insensitive "Bearer", one space-free token. */
async function authenticateRequest(req: IncomingMessage, authenticate: BearerAuthenticator): Promise<AuthOutcome> {
  const match = /^bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  const token = match?.[1];
  if (token === undefined) return { error: 'no-token' };
  try {
    const user = await authenticate(token);
    return user === undefined || user.username === '' ? { error: 'rejected' } : { user };
  } catch (err) {
    const code = (err as { code?: unknown } | undefined)?.code;
    return { error: typeof code === 'string' ? code : 'authenticator-error' };
  }
}

/** Answers an authenticated request; returns the status sent. */
function route(method: string, path: string, user: AuthenticatedUser, res: ServerResponse): number {
  const selfSubjectReview = /^\/apis\/authentication\.k8s\.io\/([^/]+)\/selfsubjectreviews$/.exec(path);
  if (selfSubjectReview && SELF_SUBJECT_REVIEW_VERSIONS.includes(selfSubjectReview[1] ?? '')) {
    if (method !== 'POST') return sendJson(res, 405, failureStatus(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
    return sendJson(res, 201, selfSubjectReviewFor(user, `${AUTHENTICATION_GROUP}/${selfSubjectReview[1]}`));
  }
  const document = discoveryDocument(path);
  if (document === undefined) {
    return sendJson(res, 404, failureStatus(404, 'NotFound', 'the server could not find the requested resource'));
  }
  if (method !== 'GET' && method !== 'HEAD') {
    return sendJson(res, 405, failureStatus(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
  }
  if (typeof document === 'string') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, private' });
    res.end(document);
    return 200;
  }
  return sendJson(res, 200, document);
}

/** The read-only documents, keyed by path. Plain `application/json` tells client-go to use legacy discovery. */
function discoveryDocument(path: string): object | string | undefined {
  const groupVersion = `${AUTHENTICATION_GROUP}/v1`;
  const groupVersionEntry = { groupVersion, version: 'v1' };
  const group = { name: AUTHENTICATION_GROUP, versions: [groupVersionEntry], preferredVersion: groupVersionEntry };
  switch (path) {
    case '/version':
      return {
        ...SERVER_VERSION, gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean',
        buildDate: '2024-12-11T00:00:00Z', goVersion: 'go1.23.0', compiler: 'gc', platform: 'linux/amd64',
      };
    case '/api':
      return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] };
    case '/api/v1':
      // client-go treats an empty core list as a discovery failure, so the one core resource served is listed.
      return {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [
          { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['get', 'list'], shortNames: ['ns'] },
          { name: 'configmaps', singularName: 'configmap', namespaced: true, kind: 'ConfigMap', verbs: ['get', 'list', 'watch'], shortNames: ['cm'] },
        ],
      };
    case '/api/v1/namespaces':
      return { kind: 'NamespaceList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [DEFAULT_NAMESPACE] };
    case '/api/v1/namespaces/default':
      return DEFAULT_NAMESPACE;
    case '/apis':
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: [group] };
    case `/apis/${AUTHENTICATION_GROUP}`:
      return { kind: 'APIGroup', apiVersion: 'v1', ...group };
    case `/apis/${groupVersion}`:
      return {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion,
        resources: [
          { name: 'selfsubjectreviews', singularName: 'selfsubjectreview', namespaced: false, kind: 'SelfSubjectReview', verbs: ['create'] },
        ],
      };
    case '/healthz':
    case '/livez':
    case '/readyz':
      return 'ok';
    default:
      return undefined;
  }
}

/** The review kube-apiserver returns: the request body carries nothing, so it is read and ignored. */
function selfSubjectReviewFor(user: AuthenticatedUser, apiVersion: string): object {
  const groups = [...(user.groups ?? [])];
  if (!groups.includes(AUTHENTICATED_GROUP)) groups.push(AUTHENTICATED_GROUP);
  const userInfo = {
    username: user.username,
    ...(user.uid ? { uid: user.uid } : {}),
    groups,
    ...(user.extra && Object.keys(user.extra).length > 0 ? { extra: user.extra } : {}),
  };
  return {
    kind: 'SelfSubjectReview',
    apiVersion,
    metadata: { creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') },
    status: { userInfo },
  };
}
