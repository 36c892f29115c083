/** Emulator configuration: YAML and JSON, and error messages that name the file, the field and the fix. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG, loadEmulatorConfig, parseEmulatorConfig } from '../../src/emulator/config.js';
import { EksAuthError } from '../../src/errors.js';
import { tempDir } from '../support/tools.js';

const YAML = `
# two users and a role
identities:
  - accessKeyId: EXAMPLEKEYID0001
    secretAccessKey: "abc/def+ghi"
    arn: arn:aws:iam::123456789012:user/path/alice
    userId: AIDAEXAMPLEUSERID0001
  - accessKeyId: EXAMPLEKEYID0002
    secretAccessKey: s2
    arn: arn:aws:sts::123456789012:assumed-role/node/i-0abc
    userId: AROAEXAMPLEROLEID0001:i-0abc
    sessionToken: tok
roles:
  - arn: arn:aws:iam::123456789012:role/team/deploy
    trustedPrincipals: ['arn:aws:iam::123456789012:user/path/alice', 'arn:aws:iam::210987654321:root', '*']
    externalId: ext-1
`;

function parseError(text: string): EksAuthError {
  try {
    parseEmulatorConfig(text, 'emu.yaml');
  } catch (err) {
    if (err instanceof EksAuthError) return err;
    throw err;
  }
  throw new Error('expected the configuration to be refused');
}

describe('parseEmulatorConfig', () => {
  it('reads YAML', () => {
    const config = parseEmulatorConfig(YAML, 'emu.yaml');
    expect(config.identities).toHaveLength(2);
    expect(config.identities[1]).toEqual({
      accessKeyId: 'EXAMPLEKEYID0002', secretAccessKey: 's2', arn: 'arn:aws:sts::123456789012:assumed-role/node/i-0abc',
      userId: 'AROAEXAMPLEROLEID0001:i-0abc', sessionToken: 'tok',
    });
    expect(config.roles?.[0]?.trustedPrincipals).toHaveLength(3);
  });

  it('reads JSON, and accepts the demo configuration', () => {
    expect(parseEmulatorConfig(JSON.stringify(DEMO_EMULATOR_CONFIG), 'demo.json')).toEqual(DEMO_EMULATOR_CONFIG);
  });

  it('demo keys are not AKIA keys and secrets are 40 characters', () => {
    for (const identity of DEMO_EMULATOR_CONFIG.identities) {
      expect(identity.accessKeyId).not.toMatch(/^AKIA/);
      expect(identity.secretAccessKey).toHaveLength(40);
    }
    expect(DEMO_EMULATOR_CONFIG.roles?.map((role) => role.arn)).toEqual([
      'arn:aws:iam::111122223333:role/eks-admin', 'arn:aws:iam::111122223333:role/eks-partner',
    ]);
  });

  it.each([
    ['syntax', 'identities: [', 'Invalid emulator config emu.yaml: not valid YAML or JSON'],
    ['empty file', '', 'Invalid emulator config emu.yaml: the file is empty; it needs at least one identity, e.g.'],
    ['a list', '- a', 'emu.yaml: expected a mapping with the fields identities, roles, clusters, instances (got a list).'],
    ['missing identities', 'roles: []', 'emu.yaml: identities: missing; the emulator needs at least one identity'],
    ['empty identities', 'identities: []', 'emu.yaml: identities: empty; add at least one identity'],
    ['unknown top-level field', 'identities: []\nrole: []', 'emu.yaml: unknown field "role"; allowed: identities, roles, clusters, instances.'],
    ['unknown identity field', 'identities:\n  - {accessKeyId: K, secret: s, arn: "arn:aws:iam::123456789012:user/a", userId: U}',
      'emu.yaml: identities[0]: unknown field "secret"; allowed: accessKeyId, secretAccessKey, arn, userId, sessionToken.'],
    ['missing secret', 'identities:\n  - {accessKeyId: K, arn: "arn:aws:iam::123456789012:user/a", userId: U}',
      'emu.yaml: identities[0].secretAccessKey: expected a string, 1 to 128 printable characters without spaces (got nothing).'],
    ['bad account', 'identities:\n  - {accessKeyId: K, secretAccessKey: s, arn: "arn:aws:iam::1234:user/a", userId: U}',
      'emu.yaml: identities[0].arn: "arn:aws:iam::1234:user/a" is not a principal that signs requests'],
    ['role as identity', 'identities:\n  - {accessKeyId: K, secretAccessKey: s, arn: "arn:aws:iam::123456789012:role/r", userId: U}',
      'list the role under roles instead'],
    ['key with a space', 'identities:\n  - {accessKeyId: "K 1", secretAccessKey: s, arn: "arn:aws:iam::123456789012:user/a", userId: U}',
      'emu.yaml: identities[0].accessKeyId: invalid value "K 1"; letters, digits or _'],
    ['duplicate key', 'identities:\n  - {accessKeyId: K, secretAccessKey: s, arn: "arn:aws:iam::123456789012:user/a", userId: U}\n  - {accessKeyId: K, secretAccessKey: t, arn: "arn:aws:iam::123456789012:user/b", userId: V}',
      'emu.yaml: identities[1].accessKeyId: duplicates identities[0].accessKeyId'],
    ['user as role', 'identities:\n  - {accessKeyId: K, secretAccessKey: s, arn: "arn:aws:iam::123456789012:user/a", userId: U}\nroles:\n  - arn: "arn:aws:iam::123456789012:user/a"',
      'emu.yaml: roles[0].arn: "arn:aws:iam::123456789012:user/a" is not a role ARN'],
    ['bad trust entry', 'identities:\n  - {accessKeyId: K, secretAccessKey: s, arn: "arn:aws:iam::123456789012:user/a", userId: U}\nroles:\n  - {arn: "arn:aws:iam::123456789012:role/r", trustedPrincipals: [alice]}',
      "emu.yaml: roles[0].trustedPrincipals[0]: invalid value \"alice\"; '*' or an IAM ARN"],
    ['trust not a list', 'identities:\n  - {accessKeyId: K, secretAccessKey: s, arn: "arn:aws:iam::123456789012:user/a", userId: U}\nroles:\n  - {arn: "arn:aws:iam::123456789012:role/r", trustedPrincipals: "*"}',
      'emu.yaml: roles[0].trustedPrincipals: expected a list (got string "*").'],
  ])('refuses %s', (_name, text, expected) => {
    const error = parseError(text);
    expect(error.code).toBe('ERR_INVALID_CONFIG');
    expect(error.message).toContain(expected);
  });

  it('never echoes a secret in an error', () => {
    const error = parseError('identities:\n  - {accessKeyId: K, secretAccessKey: "top secret value", arn: "arn:aws:iam::123456789012:user/a", userId: U}');
    expect(error.message).toContain('identities[0].secretAccessKey: invalid value');
    expect(error.message).not.toContain('top secret');
  });
});

describe('loadEmulatorConfig', () => {
  it('reads a file, and names a missing one', async () => {
    const dir = tempDir('eksauth-emulator-config-');
    const file = join(dir, 'emulator.yaml');
    writeFileSync(file, YAML);
    expect((await loadEmulatorConfig(file)).identities[0]?.arn).toBe('arn:aws:iam::123456789012:user/path/alice');
    const missing = join(dir, 'missing.yaml');
    await expect(loadEmulatorConfig(missing)).rejects.toMatchObject({
      code: 'ERR_INVALID_CONFIG',
      message: `Cannot read emulator config ${missing} (ENOENT); check the path given to --config.`,
    });
  });
});
