/**
 * doctor's nearest misses on rows given as data, for the access-entry side the end-to-end doctor test does not build
 * (test/e2e/doctor.test.ts covers aws-auth rows through real kubectl).
 */
import { describe, expect, it } from 'vitest';
import { parseAccessEntries } from '../../src/authn/mapping/access-entries/access-entries.js';
import { parseAwsAuthConfigMap } from '../../src/authn/mapping/configmap/configmap.js';
import { caseNote, nearestMiss, pathMiss } from '../../src/diagnose/nearest-miss.js';
import { assumedRole, iamUser } from '../authn/mapping/identities.js';

const SSO_ROLE = 'AWSReservedSSO_Admin_0123456789abcdef';
const role = (name: string, account = '111122223333'): string => `arn:aws:iam::${account}:role/${name}`;

describe('nearest misses', () => {
  it('an access entry for the Identity Center role without its path and suffix: the fix asks IAM for the ARN with its path', () => {
    const entries = parseAccessEntries([{ principalArn: role('AWSReservedSSO_Admin'), kubernetesGroups: ['admins'] }]);
    expect(nearestMiss(assumedRole(SSO_ROLE, 'alice@example.com'), [entries], 'prod')).toEqual({
      detail: `${role(SSO_ROLE)} matches no row; nearest: the access entry for ${role('AWSReservedSSO_Admin')}, the IAM Identity Center role of permission set Admin without its suffix`,
      fix: `\`aws eks create-access-entry --cluster-name prod --principal-arn "$(aws iam get-role --role-name ${SSO_ROLE} --query Role.Arn --output text)"\` (the role's ARN with its aws-reserved/sso.amazonaws.com/ path), then delete the entry for ${role('AWSReservedSSO_Admin')}`,
    });
  });

  it('another permission set is no miss; a user of the same name in another account is, without naming the account', () => {
    const entries = parseAccessEntries([{ principalArn: role('AWSReservedSSO_Admins_0123456789abcdef') }, { principalArn: 'arn:aws:iam::444455556666:user/alice' }]);
    expect(nearestMiss(assumedRole(SSO_ROLE, 'alice'), [entries], 'prod')).toBeUndefined();
    const miss = nearestMiss(iamUser('alice'), [entries], 'prod');
    expect(miss?.detail).toBe('arn:aws:iam::111122223333:user/alice matches no row; a row names a user alice of another account (not shown), and rows match the account too');
    expect(JSON.stringify(miss)).not.toContain('444455556666');
  });

  it('a path is a miss in aws-auth only (access entries take the path); letter case is never one', () => {
    const withPath = role(`aws-reserved/sso.amazonaws.com/${SSO_ROLE}`);
    const caller = assumedRole(SSO_ROLE, 'alice');
    expect(pathMiss(caller, [parseAccessEntries([{ principalArn: withPath }])])).toBeUndefined();
    const awsAuth = parseAwsAuthConfigMap({ kind: 'ConfigMap', data: { mapRoles: `- rolearn: ${withPath}\n  username: admin\n` } });
    expect(pathMiss(caller, [awsAuth])?.detail).toContain('(IAM Identity Center roles have the path aws-reserved/sso.amazonaws.com/, which aws-auth leaves out)');
    const row = { source: 'aws-auth', arn: role(SSO_ROLE.toLowerCase()), username: 'admin', groups: [] };
    expect(caseNote(caller, row)).toBe(`the row writes ${role(SSO_ROLE.toLowerCase())}: ARNs match whatever their letter case, on EKS as here`);
    expect(caseNote(caller, { ...row, arn: role(SSO_ROLE) })).toBeUndefined();
  });
});
