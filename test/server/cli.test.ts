/**
 * `eksauth server` from the command line with an aws-iam-authenticator config file: the mappings embedded in it are
 * served and reloaded when the file changes, reference settings eksauth lacks are warned about, flags override the
 * file, and SIGTERM stops it cleanly.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { parseServerConfigFile, resolveServerConfig } from '../../src/server/config.js';
import { startTestApiServer, type TestApiServer } from '../../src/testbed/apiserver.js';
import { IAM_IDENTITY_MAPPINGS } from '../../src/testbed/resources.js';
import { runEksauth } from '../support/eksauth.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import { tempDir } from '../support/tools.js';
import { ALICE, eventually, mintToken, request, review, spawnServer } from './helpers.js';
import { freePort } from '../support/tools.js';

const CLUSTER = 'prod-eu';
const configWith = (username: string) => `
clusterID: ${CLUSTER}
server:
  port: 1
  master: https://127.0.0.1:6443
  mapRoles:
  - sso: {permissionSetName: Dev, accountID: "111122223333"}
    username: dev:{{SessionName}}
  mapUsers:
  - userARN: ${ALICE.arn}
    username: ${username}
    groups:
    - developers
`;

describe('eksauth server with a config file', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
  });
  afterAll(async () => emulator?.close());

  it('serves and reloads the embedded mappings, and stops on SIGTERM', async () => {
    const dir = tempDir();
    const configFile = join(dir, 'config.yaml');
    writeFileSync(configFile, configWith('alice-v1'));
    const port = await freePort();
    const child = spawnServer([
      '--config', configFile, '--port', String(port), '--ops-port', 'off', '--state-dir', join(dir, 'state'), '--sts-endpoint', emulator.url,
      '--feature-gates', 'SSORoleMatch=true', '--ec2-describeInstances-qps', '20',
    ]);
    const output = (): string => child.output();
    try {
      await eventually(() => output().includes('eksauth server listening'), 'the server to listen');
      const server = { url: `https://127.0.0.1:${port}/authenticate`, caPem: readFileSync(join(dir, 'state', 'cert.pem'), 'utf8') };
      const token = await mintToken(ALICE, CLUSTER);
      expect((await review(server, token)).body.status?.user?.username).toBe('alice-v1');
      // Every reference setting in the file (server.master among them) is one eksauth reads: none is ignored.
      expect(output()).not.toContain('eksauth does not have; ignored');
      // SSORoleMatch is on: the sso row loads instead of being skipped.
      expect(output()).not.toContain('part skipped');

      writeFileSync(configFile, configWith('alice-v2'));
      await eventually(async () => (await review(server, token)).body.status?.user?.username === 'alice-v2', 'the edited config file');
      expect((await request(server.url.replace('/authenticate', '/readyz'), { caPem: server.caPem })).text).toContain(`[+]mapping file:${configFile}`);
    } finally {
      child.stop();
    }
    expect(await child.exited).toBe(0);
    expect(output()).toContain('"msg":"eksauth server stopped"');
  });
});

describe('deploy/eksauth.yaml', () => {
  it('carries a server config that eksauth accepts', () => {
    const manifests = parseAllDocuments(readFileSync(new URL('../../deploy/eksauth.yaml', import.meta.url), 'utf8')).map((doc) => doc.toJS() as Record<string, unknown>);
    const configMap = manifests.find((m) => m.kind === 'ConfigMap') as { data: Record<string, string> };
    const { settings, warnings } = parseServerConfigFile(configMap.data['config.yaml'] ?? '', '/etc/eksauth/config.yaml');
    expect(warnings).toEqual([]);
    expect(resolveServerConfig(settings)).toMatchObject({
      backendMode: ['EKSConfigMap', 'MountedFile'], kubeconfigPregenerated: true, opsAddress: '0.0.0.0', opsPort: 21363,
      embeddedMappings: { path: '/etc/eksauth/config.yaml' },
    });
    const role = manifests.find((m) => m.kind === 'Role') as { rules: { resourceNames: string[]; verbs: string[] }[] };
    expect(role.rules).toEqual([expect.objectContaining({ resourceNames: ['aws-auth'], verbs: ['get', 'list', 'watch'] })]);
  });
});

describe('deploy/iamidentitymapping.yaml', () => {
  it('defines the resource the CRD backend watches and the test API server serves, readable by eksauth', () => {
    const manifests = parseAllDocuments(readFileSync(new URL('../../deploy/iamidentitymapping.yaml', import.meta.url), 'utf8'))
      .map((doc) => doc.toJS() as Record<string, unknown> | null).filter((m): m is Record<string, unknown> => m !== null);
    const crd = manifests.find((m) => m.kind === 'CustomResourceDefinition') as { spec: { group: string; scope: string; names: { plural: string; kind: string }; versions: { name: string }[] } };
    const [group, version] = IAM_IDENTITY_MAPPINGS.apiVersion.split('/');
    expect(crd.spec).toMatchObject({ group, scope: 'Cluster', names: { plural: 'iamidentitymappings', kind: IAM_IDENTITY_MAPPINGS.kind } });
    expect(crd.spec.versions.map((v) => v.name)).toEqual([version]);
    const role = manifests.find((m) => m.kind === 'ClusterRole') as { rules: unknown[] };
    expect(role.rules).toEqual([{ apiGroups: [group], resources: ['iamidentitymappings'], verbs: ['get', 'list', 'watch'] }]);
  });
});

describe('eksauth server reaching the Kubernetes API outside a pod, without --kubeconfig', () => {
  const TOKEN = 'eksauth-cli-sa-token';
  let api: TestApiServer;
  beforeAll(async () => {
    api = await startTestApiServer({ authenticate: async () => undefined, staticTokens: { [TOKEN]: { username: 'system:serviceaccount:kube-system:eksauth' } } });
    api.configMaps.put('kube-system', 'aws-auth', { mapUsers: `- userarn: ${ALICE.arn}\n  username: alice\n` });
  });
  afterAll(async () => api?.close());

  it('fails at start, in one line naming --kubeconfig, when there is no KUBECONFIG and no ~/.kube/config', async () => {
    const result = await runEksauth(['server', '-i', CLUSTER, '--port', '0', '--ops-port', 'off', '--state-dir', join(tempDir(), 's'), '--backend-mode', 'EKSConfigMap'],
      { env: { HOME: tempDir(), KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: undefined } });
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe('eksauth: Cannot reach the Kubernetes API for the EKSConfigMap backend: this is not a pod (KUBERNETES_SERVICE_HOST is unset), KUBECONFIG is unset and there is no ~/.kube/config; pass --kubeconfig (server.kubeconfig in a config file). (ERR_INVALID_CONFIG)');
  });

  it.each(['KUBECONFIG', '~/.kube/config'])('uses %s as client-go does', async (where) => {
    const kubeconfig = await writeKubeconfig({ server: api.url, caPem: api.caPem, user: { token: TOKEN } });
    const home = tempDir();
    if (where !== 'KUBECONFIG') {
      mkdirSync(join(home, '.kube'));
      copyFileSync(kubeconfig, join(home, '.kube', 'config'));
    }
    const dir = tempDir();
    const port = await freePort();
    const child = spawnServer(['-i', CLUSTER, '--port', String(port), '--ops-port', 'off', '--state-dir', join(dir, 'state'), '--backend-mode', 'EKSConfigMap'],
      { HOME: home, ...(where === 'KUBECONFIG' ? { KUBECONFIG: kubeconfig } : {}) });
    const output = (): string => child.output();
    try {
      await eventually(() => output().includes('eksauth server listening'), 'the server to listen');
      const caPem = readFileSync(join(dir, 'state', 'cert.pem'), 'utf8');
      await eventually(async () => (await request(`https://127.0.0.1:${port}/readyz`, { caPem })).text.includes('[+]mapping configmap:kube-system/aws-auth: 1 rows'), 'the ConfigMap listed');
    } finally {
      child.stop();
    }
    expect(await child.exited).toBe(0);
    expect(output()).not.toMatch(/Invalid URL/);
  });
});
