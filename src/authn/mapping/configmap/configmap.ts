/**
 * The `kube-system/aws-auth` ConfigMap as EKS and aws-iam-authenticator read it: `data.mapRoles`, `data.mapUsers` and
 * `data.mapAccounts` are strings, each holding a YAML list (see `../aws-auth-format.ts` for the rows).
 */
import { buildAwsAuthSource } from '../aws-auth-format.js';
import type { AwsAuthSections } from '../aws-auth-format.js';
import { AWS_AUTH_SECTIONS } from '../aws-auth-format.js';
import { describeShape, invalidMapping, parseYamlStrings, readFields } from '../fields.js';
import type { MappingSource } from '../types.js';

/**
 * Parses an aws-auth ConfigMap — manifest text (YAML or JSON) or an object such as `@kubernetes/client-node`'s
 * `V1ConfigMap` — into a mapping source named `source`. Throws `ERR_INVALID_MAPPING` naming the section, row and field
 * on any problem; a ConfigMap without `data` maps nobody.
 *
 * @example
 * ```ts
 * import { parseAwsAuthConfigMap } from 'eksauth';
 * const source = parseAwsAuthConfigMap({
 *   apiVersion: 'v1',
 *   kind: 'ConfigMap',
 *   metadata: { name: 'aws-auth', namespace: 'kube-system' },
 *   data: { mapUsers: '- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n  groups: [system:masters]\n' },
 * });
 * source.candidates()[0]?.username; // 'alice'
 * ```
 */
export function parseAwsAuthConfigMap(input: string | object, source = 'aws-auth'): MappingSource {
  const manifest = typeof input === 'string' ? parseYamlStrings(input, source) : input;
  const sections = readConfigMapSections(manifest ?? {}, source);
  return buildAwsAuthSource(sections, { name: source, kind: 'aws-auth', where: `${source}: data.` });
}

/**
 * Reads the aws-auth sections out of a ConfigMap manifest, checking it is one (`kind: ConfigMap`, `apiVersion: v1`)
 * and that its `data` values are strings, as Kubernetes stores them.
 *
 * @example
 * ```ts
 * import { readConfigMapSections } from './configmap.js';
 * readConfigMapSections({ kind: 'ConfigMap', data: { mapAccounts: '- "111122223333"' } }, 'aws-auth');
 * // { mapAccounts: '- "111122223333"' }
 * ```
 */
export function readConfigMapSections(manifest: unknown, where: string): AwsAuthSections {
  const top = readFields(manifest, `${where}: `, ['apiVersion', 'kind', 'metadata', 'data'], ['binaryData', 'immutable']);
  expectValue(top.kind, 'ConfigMap', `${where}: kind`);
  expectValue(top.apiVersion, 'v1', `${where}: apiVersion`);
  if (top.data === undefined || top.data === null || top.data === '') return {};
  const data = readFields(top.data, `${where}: data`, AWS_AUTH_SECTIONS);
  for (const [section, value] of Object.entries(data)) {
    if (value !== undefined && typeof value !== 'string') {
      throw invalidMapping(
        `${where}: data.${section}`,
        `must be a string, not ${describeShape(value)}`,
        `ConfigMap data values are strings: write '${section}: |' and indent the list under it`,
        { summary: 'must be a string' },
      );
    }
  }
  return data;
}

function expectValue(value: unknown, expected: string, where: string): void {
  if (value !== undefined && value !== expected) {
    throw invalidMapping(where, `is ${describeShape(value)}`, `an aws-auth ConfigMap has ${expected} here`, { summary: `is not ${expected}` });
  }
}
