/**
 * Merging by aws-cli's rules on the YAML document: replace by name in place, append otherwise, lists created at the
 * end, current-context set; and everything else in the user's file (comments, key order, unknown keys) kept.
 */
import { describe, expect, it } from 'vitest';
import { buildKubeconfigEntries } from '../../src/kubeconfig/entries.js';
import { parseKubeconfig } from '../../src/kubeconfig/load.js';
import { mergeKubeconfigEntries, serializeKubeconfig } from '../../src/kubeconfig/merge.js';
import { EDGE, fixture, PROD } from './support.js';

function merged(text: string, options: Parameters<typeof mergeKubeconfigEntries>[2] = {}, cluster = PROD) {
  const file = parseKubeconfig(text, '/k/config');
  const result = mergeKubeconfigEntries(file, buildKubeconfigEntries(cluster), options);
  return { result, text: serializeKubeconfig(file), file };
}

describe('mergeKubeconfigEntries', () => {
  it.each(['valid-existing', 'same-arn-old', 'commented', 'no-lists'])('turns %s.yaml into its expected file', (name) => {
    expect(merged(fixture(`${name}.yaml`)).text).toBe(fixture(`expected-${name}+prod.yaml`));
  });

  it('appends a new cluster and moves current-context to it (aws-cli output_combined)', () => {
    const { result, file } = merged(fixture('valid-existing.yaml'));
    expect(result).toMatchObject({ action: 'added', context: PROD.arn, currentContext: { before: 'existing', after: PROD.arn } });
    const content = file.doc.toJS() as Record<string, { name: string }[]>;
    for (const list of ['clusters', 'users', 'contexts']) expect(content[list]!.map((e) => e.name)).toEqual(['existing', PROD.arn]);
  });

  it('replaces an entry with the same ARN where it stands, keeping the comment above it (valid_old_data)', () => {
    const { result, file, text } = merged(fixture('same-arn-old.yaml'));
    expect(result.action).toBe('updated');
    const content = file.doc.toJS() as Record<string, { name: string }[]>;
    expect(content.clusters!.map((e) => e.name)).toEqual(['first', PROD.arn, 'last']);
    expect(content.contexts!.map((e) => e.name)).toEqual([PROD.arn, 'first']);
    expect(text).toContain('# the cluster that update-kubeconfig refreshes\n- cluster:\n    certificate-authority-data: TkVXQ0E=');
    // The old v1alpha1 aws-iam-authenticator user is replaced whole (valid_old_api_version_updated).
    expect(text).not.toContain('v1alpha1');
    expect(result.changes.map((c) => c.change)).toEqual(['replaced', 'replaced', 'unchanged']);
    expect(result.changes[0]?.fields).toEqual([
      { path: 'cluster.certificate-authority-data', before: 'T0xEX0NB', after: 'TkVXQ0E=' },
      { path: 'cluster.server', before: 'https://OLDENDPOINT.gr7.eu-west-1.eks.amazonaws.com', after: PROD.endpoint },
    ]);
  });

  it('keeps every comment, the key order, other users and unknown keys of a hand-kept file', () => {
    const source = fixture('commented.yaml');
    const { text, file } = merged(source);
    for (const comment of source.match(/#.*$/gm) ?? []) expect(text).toContain(comment);
    expect(Object.keys(file.doc.toJS() as object)).toEqual(['kind', 'apiVersion', 'current-context', 'users', 'clusters', 'contexts', 'preferences', 'x-team-notes']);
    expect(text).toContain('  - name: ci-bot\n    user: {client-certificate: /etc/ci/cert.pem, client-key: /etc/ci/key.pem}\n');
    expect(text).toContain('x-team-notes:\n  owner: platform # unknown keys stay too\n  on-call: "yes"\n');
  });

  it('fills null lists in place and adds missing ones at the end (valid_null_*, valid_no_*)', () => {
    const nulls = merged(fixture('null-lists.yaml')).file.doc.toJS() as Record<string, unknown>;
    expect(Object.keys(nulls)).toEqual(['apiVersion', 'clusters', 'contexts', 'current-context', 'kind', 'preferences', 'users']);
    const missing = merged(fixture('no-lists.yaml')).file.doc.toJS() as Record<string, unknown>;
    expect(Object.keys(missing)).toEqual(['apiVersion', 'kind', 'preferences', 'clusters', 'users', 'contexts', 'current-context']);
  });

  it('keeps current-context with setCurrentContext: false', () => {
    const { result, file } = merged(fixture('valid-existing.yaml'), { setCurrentContext: false });
    expect(file.doc.get('current-context')).toBe('existing');
    expect(result.currentContext).toEqual({ before: 'existing', after: 'existing' });
  });

  it('writes a filled `clusters: []` as a block list, and keeps CRLF line endings', () => {
    const { text } = merged('apiVersion: v1\r\nclusters: []\r\nkind: Config\r\n');
    expect(text).toMatch(/^apiVersion: v1\r\nclusters:\r\n- cluster:\r\n/);
    expect(text.replace(/\r\n/g, '')).not.toContain('\n');
  });

  it('is idempotent: a second merge of the same entries changes nothing', () => {
    const first = merged(fixture('commented.yaml'));
    const second = merged(first.text);
    expect(second.text).toBe(first.text);
    expect(second.result.changes.map((c) => c.change)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(second.result.action).toBe('updated');
  });

  it('reports changed secret fields without their values', () => {
    const text = `users:\n- name: ${EDGE.arn}\n  user:\n    token: super-secret-token\n`;
    const { result } = merged(text, {}, EDGE);
    const fields = result.changes.find((c) => c.list === 'users')?.fields ?? [];
    expect(fields).toContainEqual({ path: 'user.token' });
    expect(JSON.stringify(result)).not.toContain('super-secret-token');
  });

  it('quotes names that YAML 1.1 readers (kubectl) would take for booleans', () => {
    const { text } = merged('apiVersion: v1\n', {}, { ...PROD, name: 'yes', arn: 'arn:aws:eks:eu-west-1:111122223333:cluster/yes' });
    expect(text).toContain('- "yes"');
  });
});
