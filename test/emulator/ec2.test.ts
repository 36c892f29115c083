/**
 * The emulator's EC2 DescribeInstances: through the webhook's own `{{EC2PrivateDNSName}}` resolver (the AWS SDK's EC2
 * client, batched, directly or as an `ec2DescribeInstancesRoleARN` assumed at the emulator's STS), and through the
 * real AWS CLI; signatures checked like STS ones, instances per account and region, EC2's error codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEc2PrivateDnsResolver } from '../../src/authn/mapping/ec2-private-dns.js';
import type { EmulatorConfig, EmulatorIdentity } from '../../src/emulator/config.js';
import { DEMO_EMULATOR_CONFIG, parseEmulatorConfig } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { hasCommand, runCommand } from '../support/tools.js';

const [alice] = DEMO_EMULATOR_CONFIG.identities as [EmulatorIdentity];
const REGION = 'eu-west-1';
const NODE = { instanceId: 'i-0123456789abcdef0', privateDnsName: 'ip-10-0-1-23.eu-west-1.compute.internal' };
const LOOKUP_ROLE = 'arn:aws:iam::111122223333:role/eksauth-ec2-lookup';
const CONFIG: EmulatorConfig = {
  identities: DEMO_EMULATOR_CONFIG.identities,
  roles: [{ arn: LOOKUP_ROLE, trustedPrincipals: [alice.arn] }],
  instances: [
    { ...NODE, region: REGION },
    { instanceId: 'i-0fedcba9876543210', region: REGION, privateDnsName: '' },
    { instanceId: 'i-00000000000000001', region: 'us-east-1', privateDnsName: 'ip-10-1-0-1.ec2.internal' },
    { instanceId: 'i-00000000000000002', region: REGION, privateDnsName: 'ip-10-2-0-1.eu-west-1.compute.internal', account: '444455556666' },
  ],
};
const HAS_AWS = hasCommand('aws');
if (!HAS_AWS) console.warn('test/emulator/ec2.test.ts: `aws` is not on PATH; the AWS CLI case is skipped.');

describe('the emulator’s EC2 DescribeInstances', () => {
  let emulator: Emulator;
  const resolver = (more: Partial<Parameters<typeof createEc2PrivateDnsResolver>[0]> = {}) =>
    createEc2PrivateDnsResolver({ region: REGION, endpoint: emulator.url, credentials: alice, qps: 0, ...more });
  beforeAll(async () => {
    emulator = await startEmulator(CONFIG);
  });
  afterAll(async () => emulator?.close());

  it('resolves an instance’s private DNS name through the webhook’s resolver, one call for a burst of lookups', async () => {
    emulator.resetStats();
    const resolve = resolver();
    expect(await Promise.all([resolve(NODE.instanceId), resolve(NODE.instanceId)])).toEqual([NODE.privateDnsName, NODE.privateDnsName]);
    expect(emulator.stats().byAction).toEqual({ DescribeInstances: 1 });
  });

  it('as ec2DescribeInstancesRoleARN: AssumeRole at the emulator’s STS, then DescribeInstances with the session', async () => {
    emulator.resetStats();
    const resolve = resolver({ roleArn: LOOKUP_ROLE, stsEndpoint: emulator.url });
    expect(await resolve(NODE.instanceId)).toBe(NODE.privateDnsName);
    expect(emulator.stats()).toMatchObject({ byAction: { AssumeRole: 1, DescribeInstances: 1 }, rejected: 0 });
  });

  it.each([
    ['an instance of another region', 'i-00000000000000001', 'instance i-00000000000000001 was not found in eu-west-1'],
    ['an instance of another account', 'i-00000000000000002', 'instance i-00000000000000002 was not found in eu-west-1'],
    ['an unknown instance', 'i-0aaaaaaaaaaaaaaaa', 'instance i-0aaaaaaaaaaaaaaaa was not found in eu-west-1'],
    ['a terminated instance (no private DNS name)', 'i-0fedcba9876543210', 'instance i-0fedcba9876543210 has no private DNS name (is it terminated?)'],
  ])('%s is refused as EC2 refuses it', async (_name, id, message) => {
    await expect(resolver()(id)).rejects.toMatchObject({ code: 'ERR_EC2_PRIVATE_DNS', message });
  });

  it('checks the signature: a wrong secret is refused and counted', async () => {
    emulator.resetStats();
    const resolve = resolver({ credentials: { accessKeyId: alice.accessKeyId, secretAccessKey: 'not-the-secret' } });
    await expect(resolve(NODE.instanceId)).rejects.toMatchObject({ code: 'ERR_EC2_PRIVATE_DNS', message: expect.stringContaining('SignatureDoesNotMatch') });
    expect(emulator.stats().rejected).toBeGreaterThan(0);
  });

  it('reads instances from a config file strictly', () => {
    const text = (instance: string) => `identities:\n  - {accessKeyId: K1, secretAccessKey: s, arn: "arn:aws:iam::111122223333:user/a", userId: AIDAX}\ninstances:\n  - ${instance}\n`;
    expect(parseEmulatorConfig(text(`{instanceId: ${NODE.instanceId}, region: ${REGION}, privateDnsName: ${NODE.privateDnsName}}`), 'c.yaml').instances).toEqual([{ ...NODE, region: REGION }]);
    expect(() => parseEmulatorConfig(text(`{instanceId: node-1, region: ${REGION}, privateDnsName: x}`), 'c.yaml')).toThrow(/instances\[0\]\.instanceId: invalid value "node-1"; i- and 8 or 17/);
    expect(() => parseEmulatorConfig(text(`{instanceId: ${NODE.instanceId}, region: ${REGION}}`), 'c.yaml')).toThrow(/instances\[0\]\.privateDnsName: expected a string/);
  });

  it.skipIf(!HAS_AWS)('answers the AWS CLI’s describe-instances, and EC2’s error for an unknown id', async () => {
    const ec2 = (...args: string[]) => runCommand('aws', ['ec2', 'describe-instances', ...args, '--endpoint-url', emulator.url, '--region', REGION, '--output', 'json'], {
      env: { AWS_ACCESS_KEY_ID: alice.accessKeyId, AWS_SECRET_ACCESS_KEY: alice.secretAccessKey, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_MAX_ATTEMPTS: '1' },
    });
    const listed = await ec2('--query', 'Reservations[].Instances[].[InstanceId,PrivateDnsName]');
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([[NODE.instanceId, NODE.privateDnsName], ['i-0fedcba9876543210', '']]);
    const unknown = await ec2('--instance-ids', 'i-0aaaaaaaaaaaaaaaa');
    expect(unknown.code).toBe(255);
    expect(unknown.stderr.trim()).toBe("An error occurred (InvalidInstanceID.NotFound) when calling the DescribeInstances operation: The instance ID 'i-0aaaaaaaaaaaaaaaa' does not exist");
  });
});
