import { describe, expect, it } from 'vitest';
import {
  parseBackendModes,
  parseConfigMapRef,
  parseDuration,
  parseServerConfigFile,
  readEmbeddedMappings,
  resolveServerConfig,
} from '../../src/server/config.js';

// aws-iam-authenticator's deploy/example.yaml config, abridged: it must work unchanged.
const REFERENCE_CONFIG = `
clusterID: my-dev-cluster.example.com
server:
  port: 21362
  stateDir: /var/aws-iam-authenticator
  generateKubeconfig: /etc/kubernetes/aws-iam-authenticator/kubeconfig.yaml
  kubeconfigPregenerated: true
  backendMode:
    - EKSConfigMap
    - MountedFile
  ec2DescribeInstancesQps: 15
  mapRoles:
  - roleARN: arn:aws:iam::000000000000:role/KubernetesAdmin
    username: kubernetes-admin
    groups:
    - system:masters
  mapUsers:
  - userARN: arn:aws:iam::000000000000:user/Alice
    username: alice
    groups:
    - system:masters
  mapAccounts:
  # - <AWS_ACCOUNT_ID>
`;

describe('server config file', () => {
  it('reads an aws-iam-authenticator config.yaml unchanged', () => {
    const { settings, warnings } = parseServerConfigFile(REFERENCE_CONFIG, '/etc/config.yaml');
    expect(settings).toEqual({
      clusterId: 'my-dev-cluster.example.com',
      port: 21362,
      stateDir: '/var/aws-iam-authenticator',
      generateKubeconfig: '/etc/kubernetes/aws-iam-authenticator/kubeconfig.yaml',
      kubeconfigPregenerated: true,
      backendMode: ['EKSConfigMap', 'MountedFile'],
      ec2DescribeInstancesQps: 15,
      embeddedMappings: { path: '/etc/config.yaml' },
    });
    expect(warnings).toEqual([]);
  });

  it('reads the reference settings eksauth used to ignore: scrubbedAccounts, reservedPrefixConfig, EC2 lookups', () => {
    const { settings, warnings } = parseServerConfigFile(`
clusterID: prod
server:
  scrubbedAccounts: ["012345678901"]
  reservedPrefixConfig:
    - backendMode: EKSConfigMap
      usernamePrefixReserveList: ["admin:", "ops:"]
    - backendMode: MountedFile
  ec2DescribeInstancesRoleARN: arn:aws:iam::111122223333:role/DescribeInstances
  sourceARN: arn:aws:eks:eu-west-1:444455556666:cluster/prod
  ec2DescribeInstancesQps: 20
  ec2DescribeInstancesBurst: 10
`, 'c.yaml');
    expect(warnings).toEqual([]);
    expect(resolveServerConfig(settings)).toMatchObject({
      scrubbedAccounts: ['012345678901'],
      reservedPrefixConfig: { EKSConfigMap: ['admin:', 'ops:'], MountedFile: [] },
      ec2DescribeInstancesRoleArn: 'arn:aws:iam::111122223333:role/DescribeInstances',
      sourceArn: 'arn:aws:eks:eu-west-1:444455556666:cluster/prod',
      ec2DescribeInstancesQps: 20,
      ec2DescribeInstancesBurst: 10,
    });
    expect(() => resolveServerConfig({ ...settings, scrubbedAccounts: ['123'] })).toThrow('Server setting scrubbedAccounts must list 12-digit AWS account ids.');
    expect(() => resolveServerConfig({ ...settings, sourceArn: 'cluster/prod' })).toThrow(/Server setting sourceARN must be an ARN/);
  });

  it('serves the embedded mapRoles/mapUsers/mapAccounts as a file source', () => {
    const source = readEmbeddedMappings(REFERENCE_CONFIG, '/etc/config.yaml');
    expect(source.name).toBe('file:/etc/config.yaml');
    expect(source.candidates().map((row) => row.username)).toEqual(['kubernetes-admin', 'alice']);
  });

  it('reads eksauth settings: durations, lists, the ConfigMap reference', () => {
    const { settings } = parseServerConfigFile(`
clusterId: prod
server:
  cacheTTL: 90s
  reviewTimeout: 2500ms
  partition: aws,aws-cn
  configMap: kube-system/aws-auth-v2
  allowedAccounts: ["012345678901"]
  opsPort: 9100
`, 'c.yaml');
    expect(settings).toMatchObject({
      clusterId: 'prod', cacheTtlMs: 90_000, reviewTimeoutMs: 2_500, partitions: ['aws', 'aws-cn'],
      configMap: { namespace: 'kube-system', name: 'aws-auth-v2' }, allowedAccounts: ['012345678901'], opsPort: 9100,
    });
  });

  it('reads the connection settings', () => {
    const { settings } = parseServerConfigFile(
      'server:\n  maxConnections: 1000\n  opsMaxConnections: 8\n  idleTimeout: 2s\n  readTimeout: 4s\n  stsMaxSockets: 300\n', 'c.yaml');
    expect(settings).toEqual({ maxConnections: 1000, opsMaxConnections: 8, idleTimeoutMs: 2_000, readTimeoutMs: 4_000, stsMaxSockets: 300 });
  });

  it.each([
    ['server:\n  prot: 1\n', /c.yaml: server.prot is not a setting eksauth knows/],
    ['server:\n  port: eighty\n', /server.port must be a whole number/],
    ['server:\n  backendMode: LDAP\n', /backend-mode "LDAP" is not a valid mode; use MountedFile, EKSConfigMap, CRD, DynamicFile/],
    ['server:\n  dynamicfileUserIDStrict: maybe\n', /server.dynamicfileUserIDStrict must be true or false/],
    ['server:\n  port: 1\n  PORT: 2\n', /server.PORT is set twice/],
    ['server: [1, 2]\n', /server must be a mapping/],
    ['clusterID: [a\n', /c.yaml is not valid YAML/],
  ])('refuses %j', (text, message) => {
    expect(() => parseServerConfigFile(text, 'c.yaml')).toThrow(message);
  });
});

describe('resolveServerConfig', () => {
  it('fills in the reference defaults', () => {
    const config = resolveServerConfig({ clusterId: 'prod' });
    expect(config).toMatchObject({
      address: '127.0.0.1', port: 21362, hostname: '127.0.0.1', backendMode: ['MountedFile'], opsPort: 21363,
      configMap: { namespace: 'kube-system', name: 'aws-auth' }, partitions: ['aws'], reservedPrefixAllowList: [],
      maxConnections: 512, opsMaxConnections: 32, idleTimeoutMs: 5_000, readTimeoutMs: 10_000, stsMaxSockets: 512,
    });
  });

  it('sizes the STS connections to the webhook connections unless told otherwise', () => {
    expect(resolveServerConfig({ clusterId: 'p', maxConnections: 1000 }).stsMaxSockets).toBe(1000);
    expect(resolveServerConfig({ clusterId: 'p', maxConnections: 1000, stsMaxSockets: 64 }).stsMaxSockets).toBe(64);
  });

  it('names 127.0.0.1 in the URL when listening on every interface', () => {
    expect(resolveServerConfig({ clusterId: 'prod', address: '0.0.0.0' }).hostname).toBe('127.0.0.1');
  });

  it.each([
    [{}, 'ERR_NO_CLUSTER'],
    [{ clusterId: 'has space' }, 'ERR_INVALID_CONFIG'],
    [{ clusterId: 'p', port: 70000 }, 'ERR_INVALID_CONFIG'],
    [{ clusterId: 'p', backendMode: [] }, 'ERR_INVALID_CONFIG'],
    [{ clusterId: 'p', backendMode: ['MountedFile', 'MountedFile'] }, 'ERR_INVALID_CONFIG'],
    [{ clusterId: 'p', mappingFile: 'm.yaml', embeddedMappings: { path: 'c.yaml' } }, 'ERR_INVALID_CONFIG'],
    [{ clusterId: 'p', reviewTimeoutMs: 0 }, 'ERR_INVALID_CONFIG'],
    [{ clusterId: 'p', maxConnections: 0 }, 'ERR_INVALID_CONFIG'],
    [{ clusterId: 'p', opsMaxConnections: 1.5 }, 'ERR_INVALID_CONFIG'],
    [{ clusterId: 'p', idleTimeoutMs: 0 }, 'ERR_INVALID_CONFIG'],
    [{ clusterId: 'p', reservedPrefixAllowList: ['sys'] }, 'ERR_INVALID_CONFIG'],
    // As aws-iam-authenticator: DynamicFile and dynamicfilepath come together.
    [{ clusterId: 'p', backendMode: ['DynamicFile'] }, 'ERR_INVALID_CONFIG'],
    [{ clusterId: 'p', dynamicFilePath: '/d.json' }, 'ERR_INVALID_CONFIG'],
  ] as const)('refuses %j', (input, code) => {
    expect(() => resolveServerConfig(input as Parameters<typeof resolveServerConfig>[0])).toThrow(expect.objectContaining({ code }));
  });
});

describe('config values', () => {
  it.each([['90', 90_000], ['1m30s', 90_000], ['500ms', 500], ['2h', 7_200_000], ['0', 0]])('duration %s', (text, ms) => {
    expect(parseDuration(text, 'x')).toBe(ms);
  });

  it('refuses durations in other units', () => {
    expect(() => parseDuration('5 minutes', '--cache-ttl')).toThrow(/--cache-ttl "5 minutes" is not a duration/);
  });

  it('accepts the backend names and deprecated aliases of aws-iam-authenticator', () => {
    expect(parseBackendModes('ConfigMap, file')).toEqual(['EKSConfigMap', 'MountedFile']);
  });

  it.each([
    ['the flag (comma-separated)', 'MountedFile,EKSConfigMap,CRD,DynamicFile', ['MountedFile', 'EKSConfigMap', 'CRD', 'DynamicFile']],
    ['the backend-mode file (space-separated)', 'DynamicFile EKSConfigMap', ['DynamicFile', 'EKSConfigMap']],
    ['a config file list', ['CRD', 'File'], ['CRD', 'MountedFile']],
  ] as const)('reads every reference backend mode from %s', (_, value, modes) => {
    expect(parseBackendModes(value)).toEqual(modes);
  });

  it('reads the DynamicFile and backend-mode settings under their reference keys', () => {
    const { settings } = parseServerConfigFile(
      'server:\n  backendMode: [DynamicFile, CRD]\n  dynamicfilepath: /d.json\n  dynamicfileUserIDStrict: "true"\n  dynamicBackendModePath: /m.json\n  master: https://127.0.0.1:6443\n', 'c.yaml');
    expect(settings).toEqual({
      backendMode: ['DynamicFile', 'CRD'], dynamicFilePath: '/d.json', dynamicFileUserIdStrict: true, dynamicBackendModePath: '/m.json', master: 'https://127.0.0.1:6443',
    });
    expect(resolveServerConfig({ clusterId: 'p', ...settings }).backendMode).toEqual(['DynamicFile', 'CRD']);
  });

  it('reads namespace/name, defaulting the namespace to kube-system', () => {
    expect(parseConfigMapRef('aws-auth')).toEqual({ namespace: 'kube-system', name: 'aws-auth' });
    expect(() => parseConfigMapRef('a/b/c')).toThrow(/not namespace\/name/);
  });
});
