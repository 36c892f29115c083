/**
 * aws-iam-authenticator's CRD backend: cluster-scoped `IAMIdentityMapping` resources
 * (`iamauthenticator.k8s.aws/v1alpha1`, manifest in deploy/iamidentitymapping.yaml), one mapping each:
 *
 * ```yaml
 * apiVersion: iamauthenticator.k8s.aws/v1alpha1
 * kind: IAMIdentityMapping
 * metadata: { name: kubernetes-admin }
 * spec: { arn: "arn:aws:iam::111122223333:user/KubernetesAdmin", username: kubernetes-admin, groups: [system:masters] }
 * ```
 *
 * `spec.arn` is any IAM identity ARN (a session's is taken as its role, as the reference canonicalises it); username
 * and groups are templates, as in aws-auth. The reference matches on `status.canonicalARN`, which its controller writes
 * back; here the canonical ARN is computed from `spec.arn` on read, so the server needs no write access. Each resource
 * stands alone: one that does not parse is skipped, reported in the source's `problems` as an aws-auth row that fails
 * validation is, and the others apply.
 */
import { EksAuthError } from '../../../errors.js';
import { isPlainObject, readFields, readPrincipalArn, readTemplate, readTemplateList } from '../fields.js';
import { createLookupSource, type LocatedRow } from '../lookup-source.js';
import type { MappingProblem, MappingSource } from '../types.js';

export const IAM_IDENTITY_MAPPING_GROUP = 'iamauthenticator.k8s.aws';
export const IAM_IDENTITY_MAPPING_VERSION = 'v1alpha1';
export const IAM_IDENTITY_MAPPING_PLURAL = 'iamidentitymappings';

/** The source (whose `problems` name the resources left out), and the errors of those resources. */
export interface IdentityMappings {
  source: MappingSource;
  rejected: EksAuthError[];
}

/**
 * Builds a source named `source` from IAMIdentityMapping objects (as listed or watched), in name order, so that when
 * two name the same principal the result does not depend on the order the API server sent them in.
 *
 * @example
 * ```ts
 * import { parseIdentityMappings } from 'eksauth/verify';
 * const { source, rejected } = parseIdentityMappings([{
 *   metadata: { name: 'admin' },
 *   spec: { arn: 'arn:aws:iam::111122223333:role/Admin', username: 'admin', groups: ['system:masters'] },
 * }]);
 * console.log(source.candidates()[0]?.username, rejected.length); // → admin 0
 * ```
 */
export function parseIdentityMappings(objects: readonly unknown[], source = 'crd:iamidentitymappings'): IdentityMappings {
  const rows: LocatedRow[] = [];
  const rejected: EksAuthError[] = [];
  for (const object of [...objects].sort((a, b) => nameOf(a).localeCompare(nameOf(b)))) {
    try {
      rows.push(readIdentityMapping(object, source));
    } catch (err) {
      if (!(err instanceof EksAuthError)) throw err;
      rejected.push(err);
    }
  }
  // 'file' kind: these rows are the cluster operator's own, and may grant system: groups as aws-auth rows do.
  const problems = rejected.map((err): MappingProblem => ({
    kind: 'invalid-row',
    summary: `${err.summary ?? 'an IAMIdentityMapping does not parse'}; resource skipped`,
    detail: `${err.message}; resource skipped`,
  }));
  return { source: createLookupSource({ name: source, kind: 'file', principals: rows, problems }), rejected };
}

function readIdentityMapping(object: unknown, source: string): LocatedRow {
  const where = `${source}: ${nameOf(object) || '(unnamed)'}`;
  const spec = readFields(isPlainObject(object) ? object.spec : undefined, `${where}: spec`, ['arn', 'username', 'groups']);
  const arn = readPrincipalArn(spec.arn, `${where}: spec.arn`, ['role', 'user', 'assumed-role', 'root', 'federated-user'], () => '');
  return {
    where,
    row: {
      source,
      arn: arn.arn,
      username: readTemplate(spec.username, `${where}: spec.username`),
      groups: readTemplateList(spec.groups, `${where}: spec.groups`),
    },
  };
}

function nameOf(object: unknown): string {
  const metadata = isPlainObject(object) ? object.metadata : undefined;
  const name = isPlainObject(metadata) ? metadata.name : undefined;
  return typeof name === 'string' ? name : '';
}
