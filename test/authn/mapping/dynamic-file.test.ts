/**
 * The DynamicFile backend's document, case for case with aws-iam-authenticator's pkg/mapper/dynamicfile: rows keyed on
 * the ARN, or with `dynamicfileUserIDStrict` on `userid` (the ARN, when given, must match too); bookkeeping and
 * unknown top-level fields ignored; a row without the key it is matched on refuses the whole version (as the reference
 * does, so the last good version stays), while any other bad row (an unknown field, a bad ARN) is skipped and reported
 * in the source's `problems` and the other rows apply, as for aws-auth.
 */
import { describe, expect, it } from 'vitest';
import { parseDynamicFile } from '../../../src/authn/mapping/dynamic-file/dynamic-file.js';
import { assumedRole, errorOf, fixture, iamUser } from './identities.js';

const PATH = '/var/eksauth/dynamic.json';
const ADMIN_ID = 'AROAEXAMPLEROLEID001';

describe('parseDynamicFile', () => {
  it('without userid strictness, matches on the ARN whatever the userid', () => {
    const source = parseDynamicFile(fixture('dynamic-file', 'dynamic-file.json'), PATH, { userIdStrict: false });
    expect(source.name).toBe(`dynamicfile:${PATH}`);
    expect(source.match(assumedRole('KubernetesAdmin', 'session', { principalId: 'AROARECREATED0000001' }))?.username).toBe('kubernetes-admin');
    expect(source.match(iamUser('alice'))?.username).toBe('alice');
    expect(source.match(iamUser('bob', { account: '444455556666' }))?.username).toBe('arn:aws:iam::444455556666:user/bob');
  });

  it('with userid strictness, a role re-created under the same name (a new principal id) is not the old role', () => {
    const source = parseDynamicFile(fixture('dynamic-file', 'dynamic-file.json'), PATH, { userIdStrict: true });
    expect(source.match(assumedRole('KubernetesAdmin', 'session', { principalId: ADMIN_ID }))?.username).toBe('kubernetes-admin');
    expect(source.match(assumedRole('KubernetesAdmin', 'session', { principalId: 'AROARECREATED0000001' }))).toBeUndefined();
  });

  it('with userid strictness, a row whose ARN is not the caller\'s does not match (a renamed principal)', () => {
    const source = parseDynamicFile(fixture('dynamic-file', 'dynamic-file.json'), PATH, { userIdStrict: true });
    expect(source.match(assumedRole('RenamedAdmin', 'session', { principalId: ADMIN_ID }))).toBeUndefined();
  });

  it('with userid strictness, a row with only a userid matches that principal under any name', () => {
    const source = parseDynamicFile(fixture('dynamic-file', 'userid-only.json'), PATH, { userIdStrict: true });
    expect(source.match(assumedRole('AnyName', 'session', { principalId: ADMIN_ID }))?.username).toBe('by-id-only');
  });

  it('with userid strictness, a row without userid refuses the version, naming the row (the reference\'s ErrParsingMap)', () => {
    const err = errorOf(() => parseDynamicFile(fixture('dynamic-file', 'invalid-missing-userid.json'), PATH, { userIdStrict: true }));
    expect(err.code).toBe('ERR_INVALID_MAPPING');
    expect(err.message).toBe(`dynamicfile:${PATH}: mapRoles[0] has no userid; every row needs it; this version is refused and the last good one stays in force`);
  });

  it('without userid strictness, a row without its ARN (rolearn, userarn, or blank) refuses the version', () => {
    expect(errorOf(() => parseDynamicFile(fixture('dynamic-file', 'userid-only.json'), PATH, { userIdStrict: false })).message)
      .toMatch(/mapRoles\[0\] has no rolearn;/);
    const blankUser = '{"mapUsers":[{"userarn":"arn:aws:iam::111122223333:user/alice","username":"a"},{"UserARN":"","username":"b"}]}';
    expect(errorOf(() => parseDynamicFile(blankUser, PATH, { userIdStrict: false })).message).toMatch(/mapUsers\[1\] has no userarn;/);
  });

  it('a row with its key but another fault is skipped, the others apply', () => {
    const text = '{"mapUsers":[{"userarn":"not-an-arn","username":"x"},{"UserArn":"arn:aws:iam::111122223333:user/alice","username":"alice"}]}';
    const source = parseDynamicFile(text, PATH, { userIdStrict: false });
    expect(source.match(iamUser('alice'))?.username).toBe('alice');
    expect(source.problems?.map((p) => p.kind)).toEqual(['invalid-row']);
  });

  it('ignores unknown top-level fields (as Go\'s JSON decoding) but not unknown row fields; an empty file maps nobody', () => {
    const text = '{"Version":"9","SomethingNew":{"a":1},"mapUsers":[{"userarn":"arn:aws:iam::111122223333:user/alice","username":"alice"}]}';
    expect(parseDynamicFile(text, PATH, { userIdStrict: false }).candidates()).toHaveLength(1);
    const typo = '{"mapUsers":[{"userarn":"arn:aws:iam::111122223333:user/alice","usename":"alice"}]}';
    const skipped = parseDynamicFile(typo, PATH, { userIdStrict: false });
    expect(skipped.candidates()).toEqual([]);
    expect(skipped.problems?.map((p) => p.detail)).toEqual([expect.stringMatching(/usename is not a known field/)]);
    expect(errorOf(() => parseDynamicFile('{"mapUsers": [', PATH, { userIdStrict: false })).code).toBe('ERR_INVALID_MAPPING');
    expect(parseDynamicFile('', PATH, { userIdStrict: true }).candidates()).toEqual([]);
  });
});
