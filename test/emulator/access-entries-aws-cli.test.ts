/**
 * The emulator's EKS access-entry API through the real AWS CLI (v1, botocore): the same paths, bodies, signatures
 * and error shapes (`An error occurred (Type) when calling the Operation operation: message`) as against EKS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorConfig } from '../../src/emulator/config.js';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import type { Emulator } from '../../src/emulator/server.js';
import { startEmulator } from '../../src/emulator/server.js';
import { hasCommand, runCommand } from '../support/tools.js';
import type { CommandResult } from '../support/tools.js';

const HAS_AWS = hasCommand('aws');
if (!HAS_AWS) console.warn('skipping the AWS CLI access-entry tests: `aws` is not on PATH');

const [alice] = DEMO_EMULATOR_CONFIG.identities as [(typeof DEMO_EMULATOR_CONFIG.identities)[0]];
const ACCOUNT = '111122223333';
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
// Each `aws` run costs a second or more of Python start-up, much more on a busy machine; the tests get more time.
const SLOW = 120_000;
const CONFIG: EmulatorConfig = {
  identities: DEMO_EMULATOR_CONFIG.identities,
  clusters: [
    { name: 'prod', region: 'eu-west-1', endpoint: 'https://x', certificateAuthorityData: '' },
    { name: 'legacy', region: 'eu-west-1', endpoint: 'https://x', certificateAuthorityData: '', authenticationMode: 'CONFIG_MAP' },
  ],
};

describe.skipIf(!HAS_AWS)('AWS CLI, the EKS access-entry API', { timeout: SLOW }, () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator(CONFIG);
  });
  afterAll(async () => emulator?.close());

  /** `aws eks …` as alice, with the emulator's demo credentials in the environment and nothing else. */
  const eks = (...args: string[]): Promise<CommandResult> =>
    runCommand('aws', ['eks', ...args, '--endpoint-url', emulator.url, '--region', 'eu-west-1', '--output', 'json'], {
      env: {
        AWS_ACCESS_KEY_ID: alice.accessKeyId,
        AWS_SECRET_ACCESS_KEY: alice.secretAccessKey,
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_MAX_ATTEMPTS: '1',
      },
    });
  const ok = async <T,>(...args: string[]): Promise<T> => {
    const result = await eks(...args);
    if (result.code !== 0) throw new Error(`aws eks ${args[0]} exited ${result.code}: ${result.stderr}`);
    return (result.stdout.trim() === '' ? {} : JSON.parse(result.stdout)) as T;
  };
  /** botocore's one-line rendering of an EKS error. */
  const failure = async (operation: string, type: string, ...args: string[]): Promise<string> => {
    const result = await eks(...args);
    expect(result.code).toBe(255); // aws CLI v1 exits 255 on a service error
    const prefix = `An error occurred (${type}) when calling the ${operation} operation: `;
    expect(result.stderr.trim()).toMatch(new RegExp(`^${prefix.replace(/[()]/g, '\\$&')}`));
    return result.stderr.trim().slice(prefix.length);
  };

  it('creates, describes, lists, updates and deletes an entry for a role with a path', async () => {
    const arn = role('teams/Dev');
    const created = await ok<{ accessEntry: Record<string, unknown> }>('create-access-entry', '--cluster-name', 'prod', '--principal-arn', arn, '--kubernetes-groups', 'devs', '--tags', 'team=dev');
    expect(created.accessEntry).toMatchObject({
      clusterName: 'prod', principalArn: arn, kubernetesGroups: ['devs'], tags: { team: 'dev' }, type: 'STANDARD',
      username: `arn:aws:sts::${ACCOUNT}:assumed-role/Dev/{{SessionName}}`,
      // EKS sends epoch seconds; aws CLI v1 prints timestamps as received.
      createdAt: expect.any(Number),
    });
    expect((await ok<{ accessEntry: unknown }>('describe-access-entry', '--cluster-name', 'prod', '--principal-arn', arn)).accessEntry).toEqual(created.accessEntry);
    expect(await ok('list-access-entries', '--cluster-name', 'prod')).toEqual({ accessEntries: [arn] });
    const updated = await ok<{ accessEntry: Record<string, unknown> }>('update-access-entry', '--cluster-name', 'prod', '--principal-arn', arn, '--username', 'dev:{{SessionName}}', '--kubernetes-groups', 'devs', 'readers');
    expect(updated.accessEntry).toMatchObject({ username: 'dev:{{SessionName}}', kubernetesGroups: ['devs', 'readers'] });
    await ok('delete-access-entry', '--cluster-name', 'prod', '--principal-arn', arn);
    expect(await ok('list-access-entries', '--cluster-name', 'prod')).toEqual({ accessEntries: [] });
  });

  it('gives node entries EKS’s node identity', async () => {
    const created = await ok<{ accessEntry: Record<string, unknown> }>('create-access-entry', '--cluster-name', 'prod', '--principal-arn', role('NodeRole'), '--type', 'EC2_LINUX');
    // As EKS answers it (the AWS CLI's own create-access-entry example): the node identity, with system:nodes.
    expect(created.accessEntry).toMatchObject({ type: 'EC2_LINUX', username: 'system:node:{{EC2PrivateDNSName}}', kubernetesGroups: ['system:nodes'] });
  });

  it.each([
    ['a system: group', ['--principal-arn', role('A'), '--kubernetes-groups', 'system:masters'], 'The kubernetes group name system:masters is invalid, it cannot start with system:'],
    ['a system: username', ['--principal-arn', role('B'), '--username', 'system:admin'], 'The username must not begin with system:'],
    ['{{SessionName}} with no ":" before it', ['--principal-arn', role('C'), '--username', 'admin-{{SessionName}}'], "The username admin-{{SessionName}} is invalid: a ':' must come before {{SessionName}}."],
    ['a service-linked role', ['--principal-arn', role('aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS')], 'The specified principalArn is invalid: service-linked roles cannot be used in access entries.'],
    ['an STS session', ['--principal-arn', `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`], 'The specified principalArn is invalid: invalid principal.'],
    ['an unknown type', ['--principal-arn', role('D'), '--type', 'STANDARD_PLUS'], 'The specified type STANDARD_PLUS is invalid. Valid types are STANDARD, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, EC2, HYBRID_LINUX, HYPERPOD_LINUX.'],
    ['groups on a Fargate entry', ['--principal-arn', role('E'), '--type', 'FARGATE_LINUX', '--kubernetes-groups', 'pods'], 'Kubernetes groups cannot be set for an access entry of type FARGATE_LINUX.'],
    ['a username on a hybrid node entry', ['--principal-arn', role('F'), '--type', 'HYBRID_LINUX', '--username', 'node'], 'The username cannot be set for an access entry of type HYBRID_LINUX'],
  ])('refuses %s with InvalidParameterException', async (_, args, message) => {
    expect(await failure('CreateAccessEntry', 'InvalidParameterException', 'create-access-entry', '--cluster-name', 'prod', ...args)).toContain(message);
  });

  it('refuses a duplicate with ResourceInUseException and a missing entry with ResourceNotFoundException', async () => {
    await ok('create-access-entry', '--cluster-name', 'prod', '--principal-arn', role('Twice'));
    expect(await failure('CreateAccessEntry', 'ResourceInUseException', 'create-access-entry', '--cluster-name', 'prod', '--principal-arn', role('Twice')))
      .toBe('The specified access entry resource is already in use on this cluster.');
    expect(await failure('DescribeAccessEntry', 'ResourceNotFoundException', 'describe-access-entry', '--cluster-name', 'prod', '--principal-arn', role('Nobody')))
      .toBe("The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.");
  });

  it('associates, lists and disassociates access policies with their scopes', async () => {
    await ok('create-access-entry', '--cluster-name', 'prod', '--principal-arn', role('Ops'));
    const edit = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy';
    const associated = await ok<{ associatedAccessPolicy: Record<string, unknown> }>('associate-access-policy', '--cluster-name', 'prod', '--principal-arn', role('Ops'), '--policy-arn', edit, '--access-scope', 'type=namespace,namespaces=dev-*,staging');
    expect(associated).toMatchObject({ clusterName: 'prod', principalArn: role('Ops'), associatedAccessPolicy: { policyArn: edit, accessScope: { type: 'namespace', namespaces: ['dev-*', 'staging'] } } });
    const listed = await ok<{ associatedAccessPolicies: unknown[] }>('list-associated-access-policies', '--cluster-name', 'prod', '--principal-arn', role('Ops'));
    expect(listed.associatedAccessPolicies).toEqual([associated.associatedAccessPolicy]);
    expect(await ok('list-access-entries', '--cluster-name', 'prod', '--associated-policy-arn', edit)).toEqual({ accessEntries: [role('Ops')] });
    expect(await failure('AssociateAccessPolicy', 'InvalidParameterException', 'associate-access-policy', '--cluster-name', 'prod', '--principal-arn', role('Ops'), '--policy-arn', edit, '--access-scope', 'type=namespace'))
      .toBe('An access scope of type namespace needs at least one namespace.');
    expect(await failure('AssociateAccessPolicy', 'ResourceNotFoundException', 'associate-access-policy', '--cluster-name', 'prod', '--principal-arn', role('Ops'), '--policy-arn', 'arn:aws:iam::aws:policy/AdministratorAccess', '--access-scope', 'type=cluster'))
      .toContain('could not be found');
    await ok('disassociate-access-policy', '--cluster-name', 'prod', '--principal-arn', role('Ops'), '--policy-arn', edit);
    expect((await ok<{ associatedAccessPolicies: unknown[] }>('list-associated-access-policies', '--cluster-name', 'prod', '--principal-arn', role('Ops'))).associatedAccessPolicies).toEqual([]);
  });

  it('lists the access policies, paginated by the CLI', async () => {
    const all = await ok<{ accessPolicies: { name: string }[] }>('list-access-policies', '--page-size', '5');
    expect(all.accessPolicies.map((p) => p.name)).toEqual(expect.arrayContaining(['AmazonEKSClusterAdminPolicy', 'AmazonEKSAdminPolicy', 'AmazonEKSEditPolicy', 'AmazonEKSViewPolicy', 'AmazonEKSAdminViewPolicy']));
    expect(emulator.stats().byAction.ListAccessPolicies).toBeGreaterThan(1);
  });

  it('switches authenticationMode one way with update-cluster-config, as describe-cluster shows', async () => {
    const mode = async () => (await ok<{ cluster: { accessConfig: { authenticationMode: string } } }>('describe-cluster', '--name', 'legacy')).cluster.accessConfig.authenticationMode;
    expect(await mode()).toBe('CONFIG_MAP');
    expect(await failure('ListAccessEntries', 'InvalidRequestException', 'list-access-entries', '--cluster-name', 'legacy'))
      .toBe("The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.");
    expect(await failure('UpdateClusterConfig', 'InvalidParameterException', 'update-cluster-config', '--name', 'legacy', '--access-config', 'authenticationMode=API'))
      .toBe('Unsupported authentication mode update from CONFIG_MAP to API');
    const { update } = await ok<{ update: { id: string; type: string; status: string; params: unknown[] } }>('update-cluster-config', '--name', 'legacy', '--access-config', 'authenticationMode=API_AND_CONFIG_MAP');
    expect(update).toMatchObject({ type: 'AccessConfigUpdate', status: 'Successful', params: [{ type: 'AuthenticationMode', value: 'API_AND_CONFIG_MAP' }] });
    expect((await ok<{ update: unknown }>('describe-update', '--name', 'legacy', '--update-id', update.id)).update).toEqual(update);
    await ok('update-cluster-config', '--name', 'legacy', '--access-config', 'authenticationMode=API');
    expect(await mode()).toBe('API');
    expect(await failure('UpdateClusterConfig', 'InvalidParameterException', 'update-cluster-config', '--name', 'legacy', '--access-config', 'authenticationMode=API_AND_CONFIG_MAP'))
      .toBe('Unsupported authentication mode update from API to API_AND_CONFIG_MAP');
  });
});
