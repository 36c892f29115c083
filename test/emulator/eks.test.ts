/**
 * The emulator's EKS side through the library's own EKS calls (the AWS SDK's EKS client): clusters per account and
 * region, aws-cli's not-found error, pagination, signatures checked like STS ones, and cross-account access with
 * the emulator's AssumeRole sessions.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { assumeRole } from '../../src/aws/assume-role.js';
import { describeCluster, discoverClusters, listClusters } from '../../src/aws/eks.js';
import type { EmulatorConfig, EmulatorIdentity } from '../../src/emulator/config.js';
import { DEMO_EMULATOR_CONFIG, parseEmulatorConfig } from '../../src/emulator/config.js';
import type { Emulator } from '../../src/emulator/server.js';
import { startEmulator } from '../../src/emulator/server.js';
import { send } from './helpers.js';

const [alice, bob] = DEMO_EMULATOR_CONFIG.identities as [EmulatorIdentity, EmulatorIdentity];
const PARTNER_ROLE = 'arn:aws:iam::444455556666:role/eks-discovery';
const many = Array.from({ length: 105 }, (_, i) => ({ name: `c${String(i).padStart(3, '0')}`, region: 'ap-south-1', endpoint: 'https://x', certificateAuthorityData: '' }));
const CONFIG: EmulatorConfig = {
  identities: DEMO_EMULATOR_CONFIG.identities,
  roles: [{ arn: PARTNER_ROLE, trustedPrincipals: [alice.arn] }],
  clusters: [
    ...(DEMO_EMULATOR_CONFIG.clusters ?? []),
    { name: 'partner-prod', region: 'eu-west-1', account: '444455556666', endpoint: 'https://partner.example', certificateAuthorityData: 'UEFSVE5FUg==' },
    ...many,
  ],
};

describe('the emulator’s EKS ListClusters and DescribeCluster', () => {
  let emulator: Emulator;
  const as = (identity: EmulatorIdentity, region = 'eu-west-1') => ({ region, credentials: identity, endpoint: emulator.url });
  beforeAll(async () => {
    emulator = await startEmulator(CONFIG);
  });
  afterAll(async () => emulator?.close());

  it('lists the clusters of the caller’s account in the signed region', async () => {
    expect(await listClusters(as(alice))).toEqual(['prod', 'staging']);
    expect(await listClusters(as(alice, 'us-west-2'))).toEqual(['edge']);
    expect(await listClusters(as(alice, 'us-east-1'))).toEqual([]);
  });

  it('pages through more than 100 clusters', async () => {
    const names = await listClusters(as(alice, 'ap-south-1'));
    expect(names).toHaveLength(105);
    expect(names.at(-1)).toBe('c104');
  });

  it('describes a cluster with its ARN, endpoint, CA and status, and an Outposts cluster with id and outpostConfig', async () => {
    expect(await describeCluster('staging', as(alice))).toEqual({
      name: 'staging', arn: 'arn:aws:eks:eu-west-1:111122223333:cluster/staging', endpoint: CONFIG.clusters?.[1]?.endpoint,
      // No CA data in the configuration: the local CA's certificate, base64 of its PEM.
      certificateAuthorityData: expect.stringMatching(/^LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t/), status: 'CREATING', authenticationMode: 'API_AND_CONFIG_MAP',
    });
    expect(await describeCluster('edge', as(alice, 'us-west-2'))).toMatchObject({ id: '7f2a9c1e-4b6d-4e8f-9a0b-1c2d3e4f5a6b', outpostConfig: { controlPlaneInstanceType: 'm5.large' } });
  });

  it('answers ResourceNotFoundException for an unknown name, which the library reports as ERR_CLUSTER_NOT_FOUND', async () => {
    await expect(describeCluster('nope', as(alice))).rejects.toMatchObject({ code: 'ERR_CLUSTER_NOT_FOUND', message: expect.stringContaining('no cluster named "nope" in eu-west-1') });
    const raw = await send(emulator.url, { path: '/clusters/nope' });
    expect(raw.status).toBe(403);
    expect(raw.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
  });

  it('refuses a wrong secret and an unknown key, as EKS does', async () => {
    await expect(listClusters({ ...as(alice), credentials: { ...alice, secretAccessKey: 'wrong' } })).rejects.toMatchObject({ code: 'ERR_EKS_REJECTED', message: expect.stringContaining('InvalidSignatureException') });
    await expect(listClusters({ ...as(alice), credentials: { accessKeyId: 'EKSAUTHNOSUCHKEY0001', secretAccessKey: 's' } })).rejects.toMatchObject({ message: expect.stringContaining('UnrecognizedClientException') });
  });

  it('shows another account’s clusters only to a session of a role in that account', async () => {
    await expect(describeCluster('partner-prod', as(alice))).rejects.toMatchObject({ code: 'ERR_CLUSTER_NOT_FOUND' });
    vi.stubEnv('AWS_ENDPOINT_URL_STS', emulator.url);
    try {
      const session = await assumeRole(alice, { roleArn: PARTNER_ROLE, region: 'eu-west-1', sessionName: 'EKSDescribeClusterSession' });
      const partner = await describeCluster('partner-prod', { ...as(alice), credentials: session });
      expect(partner.arn).toBe('arn:aws:eks:eu-west-1:444455556666:cluster/partner-prod');
      expect(partner.certificateAuthorityData).toBe('UEFSVE5FUg=='); // given in the configuration: kept
      await expect(assumeRole(bob, { roleArn: PARTNER_ROLE, region: 'eu-west-1' })).rejects.toMatchObject({ code: 'ERR_ASSUME_ROLE_DENIED' });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('discovers every cluster across regions, reporting failures per region', async () => {
    const progress: number[] = [];
    const { clusters, failures } = await discoverClusters({
      regions: ['us-west-2', 'eu-west-1', 'us-east-1'], credentials: alice, endpoint: emulator.url, concurrency: 2,
      onProgress: (p) => progress.push(p.regionsDone + p.clustersDone),
    });
    expect(clusters.map((c) => [c.region, c.name, c.cluster?.status])).toEqual([['eu-west-1', 'prod', 'ACTIVE'], ['eu-west-1', 'staging', 'CREATING'], ['us-west-2', 'edge', 'ACTIVE']]);
    expect(failures).toEqual([]);
    expect(progress.at(-1)).toBe(6);
    const denied = await discoverClusters({ regions: ['eu-west-1'], credentials: { ...alice, secretAccessKey: 'wrong' }, endpoint: emulator.url });
    expect(denied.failures).toEqual([{ region: 'eu-west-1', error: expect.objectContaining({ code: 'ERR_EKS_REJECTED' }) }]);
  });

  it('counts EKS requests by operation in the statistics', () => {
    expect(emulator.stats().byAction).toMatchObject({ ListClusters: expect.any(Number), DescribeCluster: expect.any(Number) });
  });
});

describe('emulator cluster configuration', () => {
  it.each([
    ['a bad status', '{name: a, region: eu-west-1, endpoint: "https://a", certificateAuthorityData: "", status: READY}', 'clusters[0].status: invalid value "READY"; one of CREATING, ACTIVE, DELETING, FAILED, UPDATING, PENDING.'],
    ['a bad region', '{name: a, region: europe, endpoint: "https://a", certificateAuthorityData: ""}', 'clusters[0].region: invalid value "europe"; a region name such as eu-west-1.'],
    ['an unknown field', '{name: a, region: eu-west-1, endpoint: "https://a", certificateAuthorityData: "", arn: x}', 'clusters[0]: unknown field "arn"'],
  ])('refuses %s', (_, cluster, message) => {
    const text = `identities:\n  - {accessKeyId: K, secretAccessKey: s, arn: "arn:aws:iam::123456789012:user/a", userId: U}\nclusters:\n  - ${cluster}\n`;
    expect(() => parseEmulatorConfig(text, 'emu.yaml')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CONFIG', message: expect.stringContaining(message) }));
  });

  it('refuses the same cluster twice in one account and region', () => {
    const c = '{name: a, region: eu-west-1, endpoint: "https://a", certificateAuthorityData: ""}';
    const text = `identities:\n  - {accessKeyId: K, secretAccessKey: s, arn: "arn:aws:iam::123456789012:user/a", userId: U}\nclusters: [${c}, ${c}]\n`;
    expect(() => parseEmulatorConfig(text, 'emu.yaml')).toThrow(expect.objectContaining({ message: expect.stringContaining('clusters[1].name: duplicates clusters[0].name') }));
  });
});
