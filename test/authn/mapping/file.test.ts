import { describe, expect, it } from 'vitest';
import { parseMappingFile } from '../../../src/authn/mapping/file/mapping-file.js';
import type { EksAuthError } from '../../../src/errors.js';
import { assumedRole, fixture, fixturePath, iamUser, errorOf } from './identities.js';

const parseError = (name: string): EksAuthError => errorOf(() => parseMappingFile(fixture('file', name), fixturePath('file', name)));

describe('parseMappingFile', () => {
  it('reads a document whose sections are lists', () => {
    const path = fixturePath('file', 'mapping.yaml');
    const source = parseMappingFile(fixture('file', 'mapping.yaml'), path);
    expect(source.name).toBe(`file:${path}`);
    expect(source.kind).toBe('file');
    expect(source.match(assumedRole('Deployer', 'ci'))).toMatchObject({ username: 'deployer:{{SessionName}}', groups: ['deployers'] });
    expect(source.match(iamUser('bob'))).toMatchObject({ source: `file:${path}`, username: 'bob', groups: ['viewers'] });
    expect(source.match(iamUser('zoe', { account: '444455556666' }))?.username).toBe('arn:aws:iam::444455556666:user/zoe');
  });

  it('reads a ConfigMap manifest', () => {
    const source = parseMappingFile(fixture('file', 'mapping-configmap.yaml'), '/etc/eksauth/aws-auth.yaml');
    expect(source.name).toBe('file:/etc/eksauth/aws-auth.yaml');
    expect(source.kind).toBe('file');
    expect(source.match(iamUser('bob'))?.groups).toEqual(['viewers']);
  });

  it('accepts a section written as a YAML string, and an empty file', () => {
    const text = 'mapUsers: |\n  - userarn: arn:aws:iam::111122223333:user/bob\n    username: bob\n';
    expect(parseMappingFile(text, '/m.yaml').match(iamUser('bob'))?.username).toBe('bob');
    expect(parseMappingFile('', '/empty.yaml').candidates()).toEqual([]);
    expect(parseMappingFile('# only a comment\n', '/empty.yaml').candidates()).toEqual([]);
  });

  it('names the file, row and field of a skipped row, and the section of a refused file', () => {
    const at = `file:${fixturePath('file', 'x').replace(/x$/, '')}`;
    const skipped = (name: string): string[] =>
      (parseMappingFile(fixture('file', name), fixturePath('file', name)).problems ?? []).map((problem) => problem.detail);
    expect(parseError('invalid-section.yaml').message).toBe(
      `${at}invalid-section.yaml: mapRole is not a known field; use mapRoles, mapUsers, mapAccounts`,
    );
    expect(parseError('invalid-section.yaml').code).toBe('ERR_INVALID_MAPPING');
    expect(skipped('invalid-user-in-roles.yaml')).toEqual([
      `${at}invalid-user-in-roles.yaml: mapRoles[0].rolearn is a user ARN; mapRoles takes role ARNs; put users in mapUsers (userarn); row skipped`,
    ]);
    expect(skipped('invalid-missing-username.yaml')).toEqual([
      `${at}invalid-missing-username.yaml: mapUsers[0].username is missing or empty; row skipped`,
    ]);
  });

  it('refuses broken YAML and skips ARNs it cannot use', () => {
    expect(() => parseMappingFile('mapRoles: [', '/m.yaml')).toThrow(/^file:\/m\.yaml is not valid YAML at line 1/);
    expect(() => parseMappingFile('mapRoles: {}', '/m.yaml')).toThrow('file:/m.yaml: mapRoles must be a list, not a map');
    const wildcard = parseMappingFile('mapUsers:\n  - userarn: arn:aws:iam::111122223333:user/*\n    username: x\n', '/m.yaml');
    expect(wildcard.candidates()).toEqual([]);
    expect(wildcard.problems?.[0]?.summary).toBe('file:/m.yaml: mapUsers[0].userarn is not a usable IAM ARN; row skipped');
    expect(wildcard.problems?.[0]?.detail).toMatch(/^file:\/m\.yaml: mapUsers\[0\]\.userarn is not usable: 'arn:aws:iam::111122223333:user\/\*' is not a valid IAM identity ARN/);
  });
});
