/** Identities and fixtures shared by the mapping tests. */
import { readFileSync } from 'node:fs';
import { toStsIdentity } from '../../../src/authn/arn.js';
import type { StsIdentity } from '../../../src/authn/arn.js';
import type { EksAuthError } from '../../../src/errors.js';

export const ACCOUNT = '111122223333';
export const ACCESS_KEY_ID = 'ASIAEXAMPLEKEY000001';

interface Options {
  account?: string;
  partition?: string;
  principalId?: string;
  accessKeyId?: string;
}

/** A session of `role`, as STS describes it. */
export function assumedRole(role: string, session: string, options: Options = {}): StsIdentity {
  const { account = ACCOUNT, partition = 'aws', principalId = 'AROAEXAMPLEROLEID001', accessKeyId = ACCESS_KEY_ID } = options;
  return toStsIdentity(
    { arn: `arn:${partition}:sts::${account}:assumed-role/${role}/${session}`, account, userId: `${principalId}:${session}` },
    accessKeyId,
  );
}

/** An IAM user, optionally under a path, as STS describes it. */
export function iamUser(name: string, options: Options & { path?: string } = {}): StsIdentity {
  const { account = ACCOUNT, partition = 'aws', principalId = 'AIDAEXAMPLEUSERID001', accessKeyId = 'AKIAEXAMPLEKEY000001' } = options;
  return toStsIdentity(
    { arn: `arn:${partition}:iam::${account}:user/${options.path ?? ''}${name}`, account, userId: principalId },
    accessKeyId,
  );
}

type MappingFolder = 'configmap' | 'file' | 'access-entries' | 'dynamic-file' | 'crd';

/** The text of a fixture beside the sources, e.g. `fixture('configmap', 'aws-auth.yaml')`. */
export function fixture(folder: MappingFolder, name: string): string {
  return readFileSync(fixturePath(folder, name), 'utf8');
}

export function fixturePath(folder: MappingFolder, name: string): string {
  return new URL(`../../../src/authn/mapping/${folder}/fixtures/${name}`, import.meta.url).pathname;
}

/** The error `run` throws; fails the test when it throws nothing. */
export function errorOf(run: () => unknown): EksAuthError {
  try {
    run();
  } catch (err) {
    return err as EksAuthError;
  }
  throw new Error('expected an error');
}
