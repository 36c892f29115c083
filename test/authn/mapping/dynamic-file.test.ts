/**
 * The DynamicFile backend's document, case for case with aws-iam-authenticator's pkg/mapper/dynamicfile: rows keyed on
 * the ARN, or with `dynamicfileUserIDStrict` on `userid` (the ARN, when given, must match too); bookkeeping and
 * unknown top-level fields ignored; a row without its key (or with an unknown field) is skipped and reported in the
 * source's `problems` while the other rows apply, as for aws-auth.
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

  it('with userid strictness, a row without userid is skipped, naming the row; the others apply', () => {
    const source = parseDynamicFile(fixture('dynamic-file', 'invalid-missing-userid.json'), PATH, { userIdStrict: true });
    expect(source.problems?.map((p) => [p.kind, p.detail])).toEqual([[
      'invalid-row',
      `dynamicfile:${PATH}: mapRoles[0].userid is missing or empty; dynamicfileUserIDStrict matches rows on the principal id: set userid (e.g. AROA…); row skipped`,
    ]]);
    expect(source.candidates().some((row) => row.principalId === undefined && row.arn === undefined)).toBe(false);
  });

  it('without userid strictness, a row without its ARN is skipped', () => {
    const source = parseDynamicFile(fixture('dynamic-file', 'userid-only.json'), PATH, { userIdStrict: false });
    expect(source.problems?.map((p) => p.detail)).toEqual([`dynamicfile:${PATH}: mapRoles[0] needs exactly one of rolearn and sso; row skipped`]);
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
