/**
 * IAMIdentityMapping resources (aws-iam-authenticator's CRD backend): spec.arn canonicalised as the reference's
 * controller does (a session's ARN is its role's), templates as in aws-auth, and a resource that does not parse
 * skipped (reported in the source's `problems`) without affecting the others.
 */
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseIdentityMappings } from '../../../src/authn/mapping/crd/identity-mappings.js';
import { assumedRole, fixture, iamUser } from './identities.js';

const resources = parseDocument(fixture('crd', 'iamidentitymappings.yaml')).toJS() as unknown[];

describe('parseIdentityMappings', () => {
  it('maps each resource\'s ARN to its username and groups, a session\'s ARN as its role', () => {
    const { source } = parseIdentityMappings(resources);
    expect(source.match(iamUser('KubernetesAdmin'))).toMatchObject({ username: 'kubernetes-admin', groups: ['system:masters'] });
    expect(source.match(assumedRole('Deployer', 'other-session'))?.username).toBe('deployer:{{SessionName}}');
  });

  it('leaves out a resource that does not parse, naming it but not its content, and keeps the others', () => {
    const { source, rejected } = parseIdentityMappings(resources);
    expect(source.candidates()).toHaveLength(2);
    expect(rejected.map((err) => err.summary)).toEqual(['crd:iamidentitymappings: broken: spec.username has an unknown or unbalanced template']);
    expect(source.problems).toEqual([expect.objectContaining({
      kind: 'invalid-row',
      summary: 'crd:iamidentitymappings: broken: spec.username has an unknown or unbalanced template; resource skipped',
    })]);
  });

  it('orders resources by name, so that of two for the same principal the later name wins whatever the list order', () => {
    const row = (name: string, username: string) => ({ metadata: { name }, spec: { arn: 'arn:aws:iam::111122223333:role/Admin', username } });
    const forward = parseIdentityMappings([row('a', 'from-a'), row('b', 'from-b')]).source;
    const backward = parseIdentityMappings([row('b', 'from-b'), row('a', 'from-a')]).source;
    expect(forward.match(assumedRole('Admin', 'session'))?.username).toBe('from-b');
    expect(backward.match(assumedRole('Admin', 'session'))?.username).toBe('from-b');
    expect(forward.warnings).toHaveLength(1);
  });
});
