import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCachedLookup, createEc2PrivateDnsResolver } from '../../../src/authn/mapping/ec2-private-dns.js';
import { parseAccessEntries } from '../../../src/authn/mapping/access-entries/access-entries.js';
import { mapIdentity } from '../../../src/authn/mapping/map-identity.js';
import { DEMO_EMULATOR_CONFIG } from '../../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../../src/emulator/server.js';
import { describeInstancesXml, forward, instanceIdsOf, startRecorder, type Recorder } from '../../support/aws-recorder.js';
import { HAS_MOTO, startMoto, type Moto } from '../../support/moto.js';
import { assumedRole } from './identities.js';

const DUMMY_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const REGION = 'us-west-2';

describe('createCachedLookup', () => {
  it('shares one call between concurrent lookups of the same key', async () => {
    let release: (value: string) => void = () => undefined;
    const lookup = vi.fn(() => new Promise<string>((resolve) => (release = resolve)));
    const cached = createCachedLookup(lookup, { maxEntries: 10, ttlMs: 1000 });
    const both = Promise.all([cached('i-1'), cached('i-1')]);
    release('dns-1');
    expect(await both).toEqual(['dns-1', 'dns-1']);
    expect(await cached('i-1')).toBe('dns-1');
    expect(lookup).toHaveBeenCalledTimes(1);
  });

  it('expires entries after ttlMs', async () => {
    let clock = 0;
    const lookup = vi.fn(async (key: string) => `${key}@${clock}`);
    const cached = createCachedLookup(lookup, { maxEntries: 10, ttlMs: 100, now: () => clock });
    expect(await cached('a')).toBe('a@0');
    clock = 99;
    expect(await cached('a')).toBe('a@0');
    clock = 100;
    expect(await cached('a')).toBe('a@100');
    expect(lookup).toHaveBeenCalledTimes(2);
  });

  it('drops the least recently used entry beyond maxEntries', async () => {
    const lookup = vi.fn(async (key: string) => key.toUpperCase());
    const cached = createCachedLookup(lookup, { maxEntries: 2, ttlMs: 60_000 });
    await cached('a');
    await cached('b');
    await cached('a'); // a is now more recent than b
    await cached('c'); // evicts b
    expect(lookup.mock.calls.map(([key]) => key)).toEqual(['a', 'b', 'c']);
    await cached('a');
    await cached('b');
    expect(lookup.mock.calls.map(([key]) => key)).toEqual(['a', 'b', 'c', 'b']);
  });

  it('does not cache failures', async () => {
    const lookup = vi.fn().mockRejectedValueOnce(new Error('throttled')).mockResolvedValueOnce('ok');
    const cached = createCachedLookup<string>(lookup, { maxEntries: 2, ttlMs: 60_000 });
    await expect(cached('a')).rejects.toThrow('throttled');
    expect(await cached('a')).toBe('ok');
  });

  it('refuses nonsense sizes', () => {
    expect(() => createCachedLookup(async () => 1, { maxEntries: 0, ttlMs: 1 })).toThrow(RangeError);
    expect(() => createCachedLookup(async () => 1, { maxEntries: 1, ttlMs: -1 })).toThrow(RangeError);
  });
});

describe('createEc2PrivateDnsResolver', () => {
  it('needs a region and an instance id', async () => {
    expect(() => createEc2PrivateDnsResolver({ region: '' })).toThrow(expect.objectContaining({ code: 'ERR_NO_REGION' }));
    const resolve = createEc2PrivateDnsResolver({ region: REGION, credentials: DUMMY_CREDENTIALS, endpoint: 'http://127.0.0.1:9' });
    await expect(resolve('alice')).rejects.toMatchObject({ code: 'ERR_EC2_PRIVATE_DNS' });
  });
});

describe('createEc2PrivateDnsResolver with ec2DescribeInstancesRoleARN and sourceARN', () => {
  const ROLE = 'arn:aws:iam::111122223333:role/eks-admin';
  const SOURCE_ARN = 'arn:aws:eks:us-west-2:444455556666:cluster/prod';
  let emulator: Emulator;
  let sts: Recorder;
  let ec2: Recorder;

  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    // STS requests go through a recorder to the emulator, which checks their SigV4 signature and the role's trust.
    sts = await startRecorder((request, body) => forward(emulator.url, request, body));
    ec2 = await startRecorder(async (_request, body) => ({ status: 200, body: describeInstancesXml(instanceIdsOf(body)) }));
  });
  afterAll(async () => {
    await Promise.all([sts?.close(), ec2?.close(), emulator?.close()]);
  });

  it('assumes the role with the source headers signed, then calls EC2 as the role', async () => {
    const [alice] = DEMO_EMULATOR_CONFIG.identities;
    const resolve = createEc2PrivateDnsResolver({
      region: REGION, endpoint: ec2.url, stsEndpoint: sts.url, roleArn: ROLE, sourceArn: SOURCE_ARN,
      credentials: { accessKeyId: alice?.accessKeyId ?? '', secretAccessKey: alice?.secretAccessKey ?? '' },
    });
    expect(await resolve('i-0123456789abcdef0')).toBe('ip-i-0123456789abcdef0.us-west-2.compute.internal');
    const [assume] = sts.requests;
    expect(assume?.body).toContain('Action=AssumeRole');
    expect(assume?.body).toContain(`RoleArn=${encodeURIComponent(ROLE)}`);
    expect(assume?.body).toContain('DurationSeconds=3600');
    expect(assume?.headers['x-amz-source-arn']).toBe(SOURCE_ARN);
    expect(assume?.headers['x-amz-source-account']).toBe('444455556666');
    expect(assume?.headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-source-account;x-amz-source-arn/);
    expect(assume?.status).toBe(200);
    // EC2 is called with the emulator's temporary credentials for the role, not alice's key.
    expect(ec2.requests[0]?.headers.authorization).not.toContain(alice?.accessKeyId ?? '');
    expect(ec2.requests[0]?.headers['x-amz-security-token']).toBeDefined();
  });

  it('batches a flood of lookups into few DescribeInstances calls', async () => {
    const before = ec2.requests.length;
    const resolve = createEc2PrivateDnsResolver({ region: REGION, endpoint: ec2.url, credentials: DUMMY_CREDENTIALS, qps: 0 });
    const flood = Array.from({ length: 150 }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
    const names = await Promise.all(flood.map((id) => resolve(id)));
    expect(names[149]).toBe(`ip-${flood[149]}.us-west-2.compute.internal`);
    const calls = ec2.requests.slice(before).map((request) => instanceIdsOf(request.body).length);
    expect(calls.reduce((sum, n) => sum + n, 0)).toBe(150);
    expect(calls.length).toBeLessThanOrEqual(5 + 2);
  });
});

if (!HAS_MOTO) console.log('skipping EC2 DescribeInstances tests against moto: moto_server is not on PATH');

describe.skipIf(!HAS_MOTO)('createEc2PrivateDnsResolver against moto_server', () => {
  let moto: Moto | undefined;
  let endpoint = '';
  let instanceId = '';
  let privateDnsName = '';

  beforeAll(async () => {
    moto = await startMoto();
    endpoint = moto.url;
    ({ instanceId, privateDnsName } = await runInstance(endpoint));
  });

  afterAll(async () => moto?.stop());

  it('resolves the PrivateDnsName of a real DescribeInstances answer', async () => {
    const resolve = createEc2PrivateDnsResolver({ region: REGION, endpoint, credentials: DUMMY_CREDENTIALS });
    expect(privateDnsName).toMatch(/^ip-[0-9-]+\.us-west-2\.compute\.internal$/);
    expect(await resolve(instanceId)).toBe(privateDnsName);
  });

  it('says when the instance does not exist', async () => {
    const resolve = createEc2PrivateDnsResolver({ region: REGION, endpoint, credentials: DUMMY_CREDENTIALS });
    await expect(resolve('i-00000000000000000')).rejects.toMatchObject({
      code: 'ERR_EC2_PRIVATE_DNS',
      message: `instance i-00000000000000000 was not found in ${REGION}`,
    });
  });

  it('maps an EC2_LINUX node through the resolver', async () => {
    const entries = parseAccessEntries([{ principalArn: 'arn:aws:iam::111122223333:role/NodeRole', type: 'EC2_LINUX' }]);
    const ec2PrivateDnsName = createEc2PrivateDnsResolver({ region: REGION, endpoint, credentials: DUMMY_CREDENTIALS });
    const result = await mapIdentity(assumedRole('NodeRole', instanceId), [entries], { ec2PrivateDnsName });
    expect(result).toMatchObject({ mapped: true, user: { username: `system:node:${privateDnsName}` } });
  });
});

async function runInstance(endpoint: string): Promise<{ instanceId: string; privateDnsName: string }> {
  const { EC2Client, RunInstancesCommand } = await import('@aws-sdk/client-ec2');
  const client = new EC2Client({ region: REGION, endpoint, credentials: DUMMY_CREDENTIALS });
  const answer = await client.send(
    new RunInstancesCommand({ ImageId: 'ami-12345678', InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }),
  );
  client.destroy();
  const instance = answer.Instances?.[0];
  if (instance?.InstanceId === undefined || instance.PrivateDnsName === undefined) throw new Error('moto ran no instance');
  return { instanceId: instance.InstanceId, privateDnsName: instance.PrivateDnsName };
}
