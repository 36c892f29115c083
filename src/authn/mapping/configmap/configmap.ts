/**
 * The `kube-system/aws-auth` ConfigMap as EKS and aws-iam-authenticator read it: `data.mapRoles`, `data.mapUsers` and
 * `data.mapAccounts` are strings, each holding a YAML list (see `../aws-auth-format.ts` for the rows).
 */
import { buildAwsAuthSource } from '../aws-auth-format.js';
import type { AwsAuthSections } from '../aws-auth-format.js';
import { AWS_AUTH_SECTIONS } from '../aws-auth-format.js';
import { describeShape, invalidMapping, isPlainObject, parseYamlStrings, readFields } from '../fields.js';
import type { AwsAuthParseOptions, MappingProblem, MappingSource } from '../types.js';

/**
 * Parses an aws-auth ConfigMap — manifest text (YAML or JSON) or an object such as `@kubernetes/client-node`'s
 * `V1ConfigMap` — into a mapping source named `source`. Throws `ERR_INVALID_MAPPING` when the manifest or a section
 * does not parse; a row that fails validation, or a `data` key EKS does not read, is skipped and listed in the
 * source's `problems`. A ConfigMap without `data` maps nobody.
 *
 * @example
 * ```ts
 * import { parseAwsAuthConfigMap } from 'eksauth/verify';
 * const source = parseAwsAuthConfigMap({
 *   apiVersion: 'v1',
 *   kind: 'ConfigMap',
 *   metadata: { name: 'aws-auth', namespace: 'kube-system' },
 *   data: { mapUsers: '- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n  groups: [system:masters]\n' },
 * });
 * console.log(source.candidates()[0]?.username); // → alice
 * ```
 */
export function parseAwsAuthConfigMap(input: string | object, source = 'aws-auth', options: AwsAuthParseOptions = {}): MappingSource {
  const manifest = typeof input === 'string' ? parseYamlStrings(input, source) : input;
  const { sections, problems } = readConfigMapSections(manifest ?? {}, source);
  return buildAwsAuthSource(sections, { name: source, kind: 'aws-auth', where: `${source}: data.`, problems }, options);
}

/**
 * Reads the aws-auth sections out of a ConfigMap manifest, checking it is one (`kind: ConfigMap`, `apiVersion: v1`)
 * and that its `data` values are strings, as Kubernetes stores them. `data` keys are exact, as EKS reads them:
 * `maproles` or `MapRoles` maps nobody, and is returned as a `near-miss-key` problem naming the key EKS reads.
 *
 * @example
 * ```ts
 * import { readConfigMapSections } from './configmap.js';
 * readConfigMapSections({ kind: 'ConfigMap', data: { mapAccounts: '- "111122223333"', MapRoles: '[]' } }, 'aws-auth');
 * // { sections: { mapAccounts: '- "111122223333"' }, problems: [{ kind: 'near-miss-key', … }] }
 * ```
 */
export function readConfigMapSections(manifest: unknown, where: string): { sections: AwsAuthSections; problems: MappingProblem[] } {
  const top = readFields(manifest, `${where}: `, ['apiVersion', 'kind', 'metadata', 'data'], ['binaryData', 'immutable']);
  expectValue(top.kind, 'ConfigMap', `${where}: kind`);
  expectValue(top.apiVersion, 'v1', `${where}: apiVersion`);
  const sections: AwsAuthSections = {};
  const problems: MappingProblem[] = [];
  if (top.data === undefined || top.data === null || top.data === '') return { sections, problems };
  if (!isPlainObject(top.data)) throw invalidMapping(`${where}: data`, `must be a map, not ${describeShape(top.data)}`, undefined, { summary: 'must be a map' });
  for (const [key, value] of Object.entries(top.data)) {
    const section = AWS_AUTH_SECTIONS.find((name) => name === key);
    if (section === undefined) {
      problems.push(ignoredKey(key, `${where}: data`));
      continue;
    }
    if (value !== undefined && typeof value !== 'string') {
      throw invalidMapping(
        `${where}: data.${section}`,
        `must be a string, not ${describeShape(value)}`,
        `ConfigMap data values are strings: write '${section}: |' and indent the list under it`,
        { summary: 'must be a string' },
      );
    }
    sections[section] = value;
  }
  return { sections, problems };
}

/** A `data` key EKS does not read: a near miss of a section name (a common, silent typo) or something else. */
function ignoredKey(key: string, where: string): MappingProblem {
  const meant = AWS_AUTH_SECTIONS.find((name) => name.toLowerCase() === key.toLowerCase());
  if (meant !== undefined) {
    const problem = `.${key} is not read (keys are case-sensitive): EKS reads ${meant}; rename the key`;
    return { kind: 'near-miss-key', summary: `${where}${problem}`, detail: `${where}${problem}` };
  }
  // Any other key may be anything; the summary does not quote it.
  return {
    kind: 'unknown-key',
    summary: `${where} has a key EKS does not read (only ${AWS_AUTH_SECTIONS.join(', ')}); it is ignored`,
    detail: `${where}.${key} is not a key EKS reads (only ${AWS_AUTH_SECTIONS.join(', ')}); it is ignored`,
  };
}
function expectValue(value: unknown, expected: string, where: string): void {
  if (value !== undefined && value !== expected) {
    throw invalidMapping(where, `is ${describeShape(value)}`, `an aws-auth ConfigMap has ${expected} here`, { summary: `is not ${expected}` });
  }
}
