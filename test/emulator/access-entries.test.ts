/**
 * The emulator's EKS access-entry API through the library's own EKS client code (src/aws/access-entries.ts over
 * @aws-sdk/client-eks): EKS's defaults for every entry type, every validation rule with EKS's error type, status and
 * message, access policies and scopes, and the one-way authenticationMode switch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_ENTRY_TYPES, NODE_ACCESS_ENTRY_DEFAULTS, parseAccessEntries } from '../../src/authn/mapping/access-entries/access-entries.js';
import { accessPolicyArn, EKS_ACCESS_POLICY_NAMES } from '../../src/authn/mapping/access-entries/access-policies.js';
import {
  associateAccessPolicy,
  createAccessEntry,
  deleteAccessEntry,
  describeAccessEntry,
  disassociateAccessPolicy,
  listAccessEntries,
  listAccessPolicies,
  listAssociatedAccessPolicies,
  updateAccessEntry,
  updateAuthenticationMode,
} from '../../src/aws/access-entries.js';
import { describeCluster } from '../../src/aws/eks.js';
import type { EmulatorConfig, EmulatorIdentity } from '../../src/emulator/config.js';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import type { Emulator } from '../../src/emulator/server.js';
import { startEmulator } from '../../src/emulator/server.js';
import { EksAuthError } from '../../src/errors.js';

const [alice, bob] = DEMO_EMULATOR_CONFIG.identities as [EmulatorIdentity, EmulatorIdentity];
const OTHER: EmulatorIdentity = { accessKeyId: 'EKSAUTHOTHERACCOUNT1', secretAccessKey: 'other/secret', arn: 'arn:aws:iam::444455556666:user/carol', userId: 'AIDAOTHERACCOUNTCAROL' };
const ACCOUNT = '111122223333';
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const cluster = (name: string, extra: Partial<NonNullable<EmulatorConfig['clusters']>[number]> = {}) => ({ name, region: 'eu-west-1', endpoint: 'https://x', certificateAuthorityData: '', ...extra });
const CONFIG: EmulatorConfig = {
  identities: [alice, bob, OTHER],
  clusters: [cluster('prod'), cluster('legacy', { authenticationMode: 'CONFIG_MAP' }), cluster('booting', { status: 'CREATING' }), cluster('paged')],
};
const ADMIN = accessPolicyArn('AmazonEKSClusterAdminPolicy');
const VIEW = accessPolicyArn('AmazonEKSViewPolicy');

/** EKS's answer to a refused call: the SDK error the library kept as the cause, and the library's own message. */
async function refusal(call: Promise<unknown>): Promise<{ type: string; status: number | undefined; message: string; reported: string }> {
  const err: unknown = await call.then(() => undefined, (failure: unknown) => failure);
  if (!(err instanceof EksAuthError)) throw new Error(`expected an EksAuthError, got ${String(err)}`);
  const cause = err.cause as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
  return { type: cause.name, status: cause.$metadata?.httpStatusCode, message: cause.message, reported: err.message };
}

describe('the emulator’s EKS access-entry API, through the library’s EKS client', () => {
  let emulator: Emulator;
  const as = (identity: EmulatorIdentity = alice) => ({ region: 'eu-west-1', credentials: identity, endpoint: emulator.url });
  beforeAll(async () => {
    emulator = await startEmulator(CONFIG);
  });
  afterAll(async () => emulator?.close());

  it('creates a STANDARD entry for a role with a path, with the username EKS gives it (no path) and its groups', async () => {
    const entry = await createAccessEntry('prod', { principalArn: role('teams/platform/Dev'), kubernetesGroups: ['devs', 'readers'] }, as());
    expect(entry).toMatchObject({
      clusterName: 'prod', principalArn: role('teams/platform/Dev'), type: 'STANDARD', kubernetesGroups: ['devs', 'readers'], tags: {},
      username: `arn:aws:sts::${ACCOUNT}:assumed-role/Dev/{{SessionName}}`,
    });
    expect(entry.accessEntryArn).toMatch(new RegExp(`^arn:aws:eks:eu-west-1:${ACCOUNT}:access-entry/prod/role/${ACCOUNT}/Dev/[0-9a-f-]{36}$`));
    expect(await describeAccessEntry('prod', role('teams/platform/Dev'), as())).toEqual(entry);
  });

  it('gives an IAM user its ARN as username, and keeps a custom username with a ":" before {{SessionName}}', async () => {
    const user = `arn:aws:iam::${ACCOUNT}:user/alice`;
    expect((await createAccessEntry('prod', { principalArn: user }, as())).username).toBe(user);
    expect((await createAccessEntry('prod', { principalArn: role('Custom'), username: 'custom:{{SessionName}}' }, as())).username).toBe('custom:{{SessionName}}');
  });

  it.each(ACCESS_ENTRY_TYPES.filter((type) => type !== 'STANDARD'))('gives a %s entry EKS’s node username and node groups', async (type) => {
    const entry = await createAccessEntry('prod', { principalArn: role(`Node-${type}`), type }, as());
    const { username, groups } = NODE_ACCESS_ENTRY_DEFAULTS[type as keyof typeof NODE_ACCESS_ENTRY_DEFAULTS];
    expect(entry).toMatchObject({ type, username, kubernetesGroups: groups });
  });

  it.each([
    ['a system: group', { principalArn: role('Sys'), kubernetesGroups: ['ok', 'system:masters'] }, 'The kubernetes group name system:masters is invalid, it cannot start with system:'],
    ['a system: username', { principalArn: role('SysUser'), username: 'system:admin' }, 'The username must not begin with system:'],
    ['an eks: username', { principalArn: role('EksUser'), username: 'eks:admin' }, 'The username must not begin with eks:'],
    ['{{SessionName}} without a ":" before it', { principalArn: role('NoColon'), username: 'dev{{SessionName}}' }, "The username dev{{SessionName}} is invalid: a ':' must come before {{SessionName}}."],
    ['{{SessionNameRaw}} without a ":" before it', { principalArn: role('NoColonRaw'), username: 'dev-{{SessionNameRaw}}' }, "a ':' must come before {{SessionNameRaw}}"],
    ['a service-linked role', { principalArn: role('aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS') }, 'The specified principalArn is invalid: service-linked roles cannot be used in access entries.'],
    ['an STS session ARN', { principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice` }, 'The specified principalArn is invalid: invalid principal.'],
    ['an unknown type', { principalArn: role('Typo'), type: 'EC2_MAC' as never }, 'The specified type EC2_MAC is invalid. Valid types are STANDARD, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, EC2, HYBRID_LINUX, HYPERPOD_LINUX.'],
    ['a username on a node type', { principalArn: role('NodeUser'), type: 'EC2_LINUX' as const, username: 'system:node:{{EC2PrivateDNSName}}' }, 'The username cannot be set for an access entry of type EC2_LINUX'],
    ['groups on a node type', { principalArn: role('NodeGroups'), type: 'FARGATE_LINUX' as const, kubernetesGroups: ['nodes'] }, 'Kubernetes groups cannot be set for an access entry of type FARGATE_LINUX.'],
    ['an IAM user as a node', { principalArn: `arn:aws:iam::${ACCOUNT}:user/node`, type: 'HYBRID_LINUX' as const }, 'The principalArn of an access entry of type HYBRID_LINUX must be an IAM role.'],
    ['a node role of another account', { principalArn: 'arn:aws:iam::444455556666:role/NodeRole', type: 'EC2_LINUX' as const }, "must be in the cluster's account 111122223333"],
  ])('refuses %s with InvalidParameterException (400)', async (_, input, message) => {
    const answer = await refusal(createAccessEntry('prod', input, as()));
    expect(answer).toMatchObject({ type: 'InvalidParameterException', status: 400, message: expect.stringContaining(message) });
    expect(answer.reported).toContain('CreateAccessEntry for cluster prod in eu-west-1 failed: InvalidParameterException: ');
    await expect(refusal(describeAccessEntry('prod', input.principalArn, as()))).resolves.toMatchObject({ type: 'ResourceNotFoundException' });
  });

  it('takes a STANDARD role of another account', async () => {
    expect((await createAccessEntry('prod', { principalArn: 'arn:aws:iam::444455556666:role/Partner' }, as())).username).toBe('arn:aws:sts::444455556666:assumed-role/Partner/{{SessionName}}');
  });

  it('describes entries the webhook’s access-entry mapping reads back with the same usernames (one source of truth)', async () => {
    const arns = [role('teams/platform/Dev'), role('Custom'), ...ACCESS_ENTRY_TYPES.filter((type) => type !== 'STANDARD').map((type) => role(`Node-${type}`))];
    const entries = await Promise.all(arns.map((arn) => describeAccessEntry('prod', arn, as())));
    const rows = parseAccessEntries(JSON.stringify({ accessEntries: entries }), 'emulator').candidates();
    expect(rows.map((row) => [row.arn, row.username])).toEqual(entries.map((entry) => [entry.principalArn, entry.username]));
  });

  it('refuses a second entry for the same principal with ResourceInUseException (409)', async () => {
    await createAccessEntry('prod', { principalArn: role('Twice') }, as());
    expect(await refusal(createAccessEntry('prod', { principalArn: role('Twice'), kubernetesGroups: ['x'] }, as()))).toMatchObject({
      type: 'ResourceInUseException', status: 409, message: 'The specified access entry resource is already in use on this cluster.',
    });
  });

  it('answers ResourceNotFoundException (404) for an entry or a cluster that does not exist', async () => {
    const missing = "The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.";
    for (const call of [
      () => describeAccessEntry('prod', role('Nobody'), as()),
      () => updateAccessEntry('prod', role('Nobody'), { kubernetesGroups: ['x'] }, as()),
      () => deleteAccessEntry('prod', role('Nobody'), as()),
      () => associateAccessPolicy('prod', role('Nobody'), VIEW, { type: 'cluster' }, as()),
      () => listAssociatedAccessPolicies('prod', role('Nobody'), as()),
    ]) {
      expect(await refusal(call())).toMatchObject({ type: 'ResourceNotFoundException', status: 404, message: missing });
    }
    expect(await refusal(listAccessEntries('nope', as()))).toMatchObject({ type: 'ResourceNotFoundException', message: 'No cluster found for name: nope.' });
  });

  it('updates the groups and username of a STANDARD entry, with the same rules, and nothing of a node entry', async () => {
    await createAccessEntry('prod', { principalArn: role('Changing'), kubernetesGroups: ['old'] }, as());
    expect(await updateAccessEntry('prod', role('Changing'), { kubernetesGroups: ['new'] }, as())).toMatchObject({ kubernetesGroups: ['new'], username: `arn:aws:sts::${ACCOUNT}:assumed-role/Changing/{{SessionName}}` });
    expect(await updateAccessEntry('prod', role('Changing'), { username: 'changing:{{SessionName}}' }, as())).toMatchObject({ kubernetesGroups: ['new'], username: 'changing:{{SessionName}}' });
    expect(await refusal(updateAccessEntry('prod', role('Changing'), { kubernetesGroups: ['system:bootstrappers'] }, as()))).toMatchObject({
      type: 'InvalidParameterException', message: 'The kubernetes group name system:bootstrappers is invalid, it cannot start with system:',
    });
    expect(await refusal(updateAccessEntry('prod', role('Node-EC2_LINUX'), { kubernetesGroups: ['nodes'] }, as()))).toMatchObject({ type: 'InvalidParameterException' });
  });

  it('associates access policies with a cluster or namespace scope, replaces a scope, lists and disassociates them', async () => {
    await createAccessEntry('prod', { principalArn: role('Ops') }, as());
    expect(await associateAccessPolicy('prod', role('Ops'), VIEW, { type: 'namespace', namespaces: ['dev-*', 'prod'] }, as())).toMatchObject({ policyArn: VIEW, accessScope: { type: 'namespace', namespaces: ['dev-*', 'prod'] } });
    await associateAccessPolicy('prod', role('Ops'), ADMIN, { type: 'cluster' }, as());
    await associateAccessPolicy('prod', role('Ops'), VIEW, { type: 'cluster' }, as());
    expect((await listAssociatedAccessPolicies('prod', role('Ops'), as())).map((p) => [p.policyArn, p.accessScope])).toEqual([
      [ADMIN, { type: 'cluster', namespaces: [] }],
      [VIEW, { type: 'cluster', namespaces: [] }],
    ]);
    expect(await listAccessEntries('prod', as(), { associatedPolicyArn: ADMIN })).toEqual([role('Ops')]);
    await disassociateAccessPolicy('prod', role('Ops'), ADMIN, as());
    expect(await listAccessEntries('prod', as(), { associatedPolicyArn: ADMIN })).toEqual([]);
    expect(await refusal(disassociateAccessPolicy('prod', role('Ops'), ADMIN, as()))).toMatchObject({ type: 'ResourceNotFoundException', status: 404 });
  });

  it.each([
    ['an IAM policy', 'arn:aws:iam::aws:policy/AdministratorAccess', { type: 'cluster' as const }, 'ResourceNotFoundException', "could not be found. You can view the available access policies with 'list-access-policies'."],
    ['an unknown access policy', accessPolicyArn('AmazonEKSGodModePolicy'), { type: 'cluster' as const }, 'ResourceNotFoundException', 'could not be found'],
    ['a namespace scope without namespaces', VIEW, { type: 'namespace' as const }, 'InvalidParameterException', 'An access scope of type namespace needs at least one namespace.'],
    ['namespaces in a cluster scope', VIEW, { type: 'cluster' as const, namespaces: ['dev'] }, 'InvalidParameterException', 'Namespaces cannot be given for an access scope of type cluster.'],
    ['a bad namespace name', VIEW, { type: 'namespace' as const, namespaces: ['Dev_Team'] }, 'InvalidParameterException', 'The namespace Dev_Team is invalid'],
    ['an unknown scope type', VIEW, { type: 'region' as never }, 'InvalidParameterException', 'The access scope type region is invalid. Valid types are cluster, namespace.'],
  ])('refuses to associate %s', async (_, policyArn, scope, type, message) => {
    expect(await refusal(associateAccessPolicy('prod', role('Ops'), policyArn, scope, as()))).toMatchObject({ type, message: expect.stringContaining(message) });
  });

  it('refuses access policies for EC2 and Fargate node entries, and takes them for an EKS Auto Mode (EC2) node entry', async () => {
    expect(await refusal(associateAccessPolicy('prod', role('Node-EC2_LINUX'), VIEW, { type: 'cluster' }, as()))).toMatchObject({ type: 'InvalidParameterException', message: expect.stringContaining('type EC2_LINUX') });
    expect(await associateAccessPolicy('prod', role('Node-EC2'), accessPolicyArn('AmazonEKSAutoNodePolicy'), { type: 'cluster' }, as())).toMatchObject({ accessScope: { type: 'cluster' } });
  });

  it('deletes an entry together with its policy associations', async () => {
    await deleteAccessEntry('prod', role('Ops'), as());
    expect(await refusal(describeAccessEntry('prod', role('Ops'), as()))).toMatchObject({ type: 'ResourceNotFoundException' });
    expect(await listAccessEntries('prod', as(), { associatedPolicyArn: VIEW })).toEqual([]);
  });

  it('lists every access policy EKS documents, in the caller’s partition', async () => {
    const policies = await listAccessPolicies(as());
    expect(policies.map((p) => p.name)).toEqual(EKS_ACCESS_POLICY_NAMES);
    expect(policies).toContainEqual({ name: 'AmazonEKSAdminViewPolicy', arn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy' });
  });

  it('pages through more than 100 entries', async () => {
    for (let i = 0; i < 103; i++) await createAccessEntry('paged', { principalArn: role(`r${String(i).padStart(3, '0')}`) }, as());
    const arns = await listAccessEntries('paged', as());
    expect(arns).toHaveLength(103);
    expect(arns.at(-1)).toBe(role('r102'));
  });

  it('shares a cluster’s entries with every caller of its account and hides them from other accounts', async () => {
    expect(await listAccessEntries('prod', as(bob))).toContain(role('teams/platform/Dev'));
    expect(await refusal(listAccessEntries('prod', as(OTHER)))).toMatchObject({ type: 'ResourceNotFoundException', message: 'No cluster found for name: prod.' });
    expect(await refusal(listAccessEntries('prod', { ...as(), credentials: { ...alice, secretAccessKey: 'wrong' } }))).toMatchObject({ type: 'InvalidSignatureException', status: 403 });
  });

  it('refuses access entries on a CONFIG_MAP cluster with InvalidRequestException', async () => {
    expect(await refusal(createAccessEntry('legacy', { principalArn: role('Admin') }, as()))).toMatchObject({
      type: 'InvalidRequestException', status: 400, message: "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
    });
  });

  it('moves authenticationMode one step at a time, CONFIG_MAP → API_AND_CONFIG_MAP → API, never back, as DescribeCluster shows', async () => {
    expect((await describeCluster('legacy', as())).authenticationMode).toBe('CONFIG_MAP');
    expect(await refusal(updateAuthenticationMode('legacy', 'API', as()))).toMatchObject({ type: 'InvalidParameterException', message: 'Unsupported authentication mode update from CONFIG_MAP to API' });
    expect(await updateAuthenticationMode('legacy', 'API_AND_CONFIG_MAP', as())).toMatchObject({ status: 'Successful', id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(await refusal(updateAuthenticationMode('legacy', 'API_AND_CONFIG_MAP', as()))).toMatchObject({ message: 'Unsupported authentication mode update from API_AND_CONFIG_MAP to API_AND_CONFIG_MAP' });
    await createAccessEntry('legacy', { principalArn: role('Admin') }, as());
    await updateAuthenticationMode('legacy', 'API', as());
    expect((await describeCluster('legacy', as())).authenticationMode).toBe('API');
    expect(await refusal(updateAuthenticationMode('legacy', 'API_AND_CONFIG_MAP', as()))).toMatchObject({ type: 'InvalidParameterException', message: 'Unsupported authentication mode update from API to API_AND_CONFIG_MAP' });
    expect(await refusal(updateAuthenticationMode('legacy', 'CONFIG_MAP', as()))).toMatchObject({ message: 'Unsupported authentication mode update from API to CONFIG_MAP' });
    expect(await listAccessEntries('legacy', as())).toEqual([role('Admin')]);
  });

  it('refuses to update a cluster that is not ACTIVE with ResourceInUseException', async () => {
    expect(await refusal(updateAuthenticationMode('booting', 'API', as()))).toMatchObject({ type: 'ResourceInUseException', status: 409, message: expect.stringContaining('CREATING') });
  });

  it('counts the access-entry operations in the statistics', () => {
    expect(emulator.stats().byAction).toMatchObject({ CreateAccessEntry: expect.any(Number), AssociateAccessPolicy: expect.any(Number), UpdateClusterConfig: expect.any(Number), ListAccessPolicies: 1 });
  });
});
