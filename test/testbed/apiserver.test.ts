import { readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApiServer } from '../../src/testbed/apiserver.js';
import type { AuthenticatedUser, TestApiServer } from '../../src/testbed/apiserver.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import { hasCommand, runCommand, tempDir } from '../support/tools.js';

const ALICE: AuthenticatedUser = {
  username: 'arn:aws:iam::111122223333:user/alice',
  uid: 'aws-iam-authenticator:111122223333:AIDAALICE',
  groups: ['developers'],
  extra: { arn: ['arn:aws:iam::111122223333:user/alice'] },
};

const staticAuthenticator = async (token: string): Promise<AuthenticatedUser | undefined> =>
  token === 'good' ? ALICE : undefined;

interface RawResponse {
  status: number;
  contentType: string | undefined;
  body: unknown;
}

/** A plain HTTPS request trusting the server's certificate, to check responses without kubectl. */
function request(server: TestApiServer, method: string, path: string, token?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${server.url}${path}`, {
      method,
      ca: server.caPem,
      headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const contentType = res.headers['content-type'];
        resolve({ status: res.statusCode ?? 0, contentType, body: contentType?.includes('json') ? JSON.parse(text) : text });
      });
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

describe('test API server over HTTPS', () => {
  let server: TestApiServer;
  beforeAll(async () => {
    server = await startTestApiServer({ authenticate: staticAuthenticator });
  });
  afterAll(() => server.close());

  it('listens on loopback with a certificate clients can trust', () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.caPem).toContain('-----BEGIN CERTIFICATE-----');
  });

  it('answers a request without a bearer token with the 401 Status kube-apiserver sends', async () => {
    const res = await request(server, 'GET', '/api');
    expect(res.status).toBe(401);
    expect(res.contentType).toBe('application/json');
    expect(res.body).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401,
    });
  });

  it('answers an unknown token with 401 and records why', async () => {
    const res = await request(server, 'GET', '/version', 'bad');
    expect(res.status).toBe(401);
    expect(server.requests().at(-1)).toEqual({ method: 'GET', path: '/version', status: 401, authError: 'rejected' });
  });

  it('answers 401 when the authenticator throws', async () => {
    const throwing = await startTestApiServer({ authenticate: () => Promise.reject(new Error('boom')) });
    try {
      expect((await request(throwing, 'GET', '/api', 'good')).status).toBe(401);
      expect(throwing.requests()).toEqual([{ method: 'GET', path: '/api', status: 401, authError: 'authenticator-error' }]);
    } finally {
      await throwing.close();
    }
  });

  it('serves legacy discovery for the authentication.k8s.io group', async () => {
    expect((await request(server, 'GET', '/api', 'good')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    expect((await request(server, 'GET', '/apis', 'good')).body).toMatchObject({
      kind: 'APIGroupList',
      groups: [{ name: 'authentication.k8s.io', preferredVersion: { groupVersion: 'authentication.k8s.io/v1' } }],
    });
    expect((await request(server, 'GET', '/apis/authentication.k8s.io/v1', 'good')).body).toMatchObject({
      kind: 'APIResourceList',
      groupVersion: 'authentication.k8s.io/v1',
      resources: [{ name: 'selfsubjectreviews', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'] }],
    });
  });

  it('returns a SelfSubjectReview with the user, adding system:authenticated as kube-apiserver does', async () => {
    const res = await request(server, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', 'good');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      kind: 'SelfSubjectReview',
      apiVersion: 'authentication.k8s.io/v1',
      status: { userInfo: { ...ALICE, groups: ['developers', 'system:authenticated'] } },
    });
  });

  it('answers unknown paths with a NotFound Status and wrong methods with MethodNotAllowed', async () => {
    expect((await request(server, 'GET', '/api/v1/pods', 'good')).body).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
    expect((await request(server, 'DELETE', '/api', 'good')).status).toBe(405);
    expect((await request(server, 'GET', '/apis/authentication.k8s.io/v1/selfsubjectreviews', 'good')).status).toBe(405);
  });

  it('refuses to bind anything but loopback', async () => {
    await expect(startTestApiServer({ authenticate: staticAuthenticator, host: '0.0.0.0' })).rejects.toMatchObject({ code: 'ERR_USAGE' });
  });
});

describe.skipIf(!hasCommand('kubectl'))('test API server with the real kubectl', () => {
  let server: TestApiServer;
  beforeAll(async () => {
    server = await startTestApiServer({ authenticate: staticAuthenticator });
  });
  afterAll(() => server.close());

  const kubectl = async (token: string, ...args: string[]) => {
    const kubeconfig = await writeKubeconfig({ server: server.url, caPem: server.caPem, user: { token } });
    return runCommand('kubectl', ['--kubeconfig', kubeconfig, ...args]);
  };

  it('kubectl get --raw /api trusts the certificate and sends the token', async () => {
    const result = await kubectl('good', 'get', '--raw', '/api');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    expect(server.requests()).toContainEqual({ method: 'GET', path: '/api', status: 200, username: ALICE.username });
  });

  it('kubectl auth whoami -o json shows the authenticated user', async () => {
    const result = await kubectl('good', 'auth', 'whoami', '-o', 'json');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      kind: 'SelfSubjectReview',
      status: { userInfo: { username: ALICE.username, uid: ALICE.uid, groups: ['developers', 'system:authenticated'], extra: ALICE.extra } },
    });
  });

  it('kubectl version reports the server version', async () => {
    const result = await kubectl('good', 'version', '-o', 'json');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ serverVersion: { major: '1', minor: '32', gitVersion: 'v1.32.0' } });
  });

  it('kubectl api-resources works through legacy discovery', async () => {
    const result = await kubectl('good', 'api-resources', '--api-group=authentication.k8s.io', '-o', 'name');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('selfsubjectreviews.authentication.k8s.io');
  });

  it('kubectl get namespaces lists the default namespace', async () => {
    const result = await kubectl('good', 'get', 'namespaces', '-o', 'name');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('namespace/default');
  });

  it('kubectl runs an exec plugin written by the kubeconfig helper, with cluster info and the exec extension', async () => {
    const dir = tempDir();
    const plugin = join(dir, 'plugin.cjs');
    const record = join(dir, 'exec-info.json');
    // Stands in for `eksauth token`: records what client-go passed and hands out the token the server accepts.
    await writeFile(plugin, [
      "const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);",
      "require('node:fs').writeFileSync(process.env.RECORD, JSON.stringify({ info, argv: process.argv.slice(2), imds: process.env.AWS_EC2_METADATA_DISABLED }));",
      "process.stdout.write(JSON.stringify({ apiVersion: info.apiVersion, kind: 'ExecCredential', status: { token: 'good' } }));",
    ].join('\n'));
    const kubeconfig = await writeKubeconfig({
      server: server.url,
      caPem: server.caPem,
      user: {
        exec: {
          command: process.execPath,
          args: [plugin, '--cluster-name', 'c1'],
          env: { RECORD: record },
          apiVersion: 'client.authentication.k8s.io/v1',
          interactiveMode: 'Never',
          provideClusterInfo: true,
        },
      },
      execExtension: { region: 'us-east-1', clusterId: 'c1' },
    });
    const result = await runCommand('kubectl', ['--kubeconfig', kubeconfig, 'auth', 'whoami', '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: { userInfo: { username: ALICE.username } } });
    const seen = JSON.parse(await readFile(record, 'utf8'));
    expect(seen.argv).toEqual(['--cluster-name', 'c1']);
    expect(seen.imds).toBe('true');
    expect(seen.info).toMatchObject({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        cluster: {
          server: server.url,
          'certificate-authority-data': Buffer.from(server.caPem).toString('base64'),
          config: { region: 'us-east-1', clusterId: 'c1' },
        },
      },
    });
  });

  it('kubectl with a bad token fails with Unauthorized', async () => {
    const result = await kubectl('bad', 'get', '--raw', '/api');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Unauthorized/);
    expect(server.requests()).toContainEqual({ method: 'GET', path: '/api', status: 401, authError: 'rejected' });
  });

  it('kubectl auth whoami with a bad token says the user must log in', async () => {
    const result = await kubectl('bad', 'auth', 'whoami');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/You must be logged in to the server \(Unauthorized\)/);
  });
});

if (!hasCommand('kubectl')) {
  console.warn('test/testbed/apiserver.test.ts: kubectl is not on PATH; the kubectl tests are skipped.');
}
