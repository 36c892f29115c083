/** Choosing and reading the kubeconfig: aws-cli's KUBECONFIG rules and validation, with line and column in errors. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EksAuthError } from '../../src/errors.js';
import { chooseKubeconfig, hasCluster, kubeconfigPaths, loadKubeconfig, parseKubeconfig } from '../../src/kubeconfig/load.js';
import { tempDir } from '../support/tools.js';
import { fixture, PROD } from './support.js';

function refusal(text: string): EksAuthError {
  try {
    parseKubeconfig(text, '/k/config');
  } catch (err) {
    if (err instanceof EksAuthError) return err;
    throw err;
  }
  throw new Error('expected the kubeconfig to be refused');
}

describe('kubeconfigPaths', () => {
  const env = { HOME: '/home/me' };
  it('uses --kubeconfig over KUBECONFIG, expanding ~ and making it absolute', () => {
    expect(kubeconfigPaths({ kubeconfig: '~/k.yaml', env: { ...env, KUBECONFIG: '/x' } })).toEqual(['/home/me/k.yaml']);
    expect(kubeconfigPaths({ kubeconfig: 'rel/k', env })).toEqual([join(process.cwd(), 'rel/k')]);
  });
  it('splits KUBECONFIG and drops empty and blank elements (test_environmemt_empty_elements)', () => {
    expect(kubeconfigPaths({ env: { ...env, KUBECONFIG: ':/a/one:  :~/two:' } })).toEqual(['/a/one', '/home/me/two']);
  });
  it('falls back to ~/.kube/config when KUBECONFIG is unset or all blank (test_environmemt_all_empty)', () => {
    expect(kubeconfigPaths({ env })).toEqual(['/home/me/.kube/config']);
    expect(kubeconfigPaths({ env: { ...env, KUBECONFIG: ' : ' } })).toEqual(['/home/me/.kube/config']);
  });
});

describe('parseKubeconfig', () => {
  it('gives the new-file template for empty text, and for a file of comments only', () => {
    for (const text of ['', '# nothing yet\n']) {
      const file = parseKubeconfig(text, '/k/config');
      expect(file.existed).toBe(false);
      expect(file.doc.toJS()).toEqual({ apiVersion: 'v1', clusters: [], contexts: [], 'current-context': '', kind: 'Config', preferences: {}, users: [] });
    }
  });

  it('accepts null lists and missing lists (valid_null_*, valid_no_*)', () => {
    expect(parseKubeconfig(fixture('null-lists.yaml'), '/k').existed).toBe(true);
    expect(parseKubeconfig(fixture('no-lists.yaml'), '/k').existed).toBe(true);
  });

  it.each([
    ['invalid-yaml.yaml', /is not valid YAML at line 4, column \d+: .+; fix the file, or pass --kubeconfig with another one \(nothing was changed\)$/],
    ['invalid-string-clusters.yaml', /has a bad "clusters" at line 2, column 11: it must be a list, not a string/],
    ['invalid-entry-not-map.yaml', /has a bad entry in "users" at line 6, column 3: every entry must be a mapping/],
    ['invalid-duplicate-key.yaml', /is not valid YAML at line 3, column 1: Map keys must be unique/],
    ['invalid-two-documents.yaml', /is not valid YAML at line 3, column 1: Source contains multiple documents/],
    ['invalid-top-list.yaml', /is not a kubeconfig at line 1, column 1: the top level must be a mapping/],
    ['invalid-preferences.yaml', /has a bad "preferences" at line 3, column 14: it must be a mapping, not a list/],
  ])('refuses %s with ERR_KUBECONFIG_CORRUPT, naming the line and column', (name, message) => {
    const err = refusal(fixture(name));
    expect(err.code).toBe('ERR_KUBECONFIG_CORRUPT');
    expect(err.message).toMatch(/^kubeconfig \/k\/config /);
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('\n');
  });

  it('finds clusters by name', () => {
    expect(hasCluster(parseKubeconfig(fixture('same-arn-old.yaml'), '/k'), PROD.arn)).toBe(true);
    expect(hasCluster(parseKubeconfig(fixture('valid-existing.yaml'), '/k'), PROD.arn)).toBe(false);
  });
});

describe('loadKubeconfig and chooseKubeconfig', () => {
  it('treats a missing file as new, and a directory as inaccessible', async () => {
    const dir = tempDir('eksauth-kc-load-');
    expect((await loadKubeconfig(join(dir, 'missing'))).existed).toBe(false);
    await expect(loadKubeconfig(dir)).rejects.toMatchObject({ code: 'ERR_KUBECONFIG_INACCESSIBLE', message: expect.stringContaining('is a directory, not a file') });
  });

  it('chooses the file that already has the cluster, skipping a corrupt one with a warning (test_all_but_one_corrupted)', async () => {
    const dir = tempDir('eksauth-kc-choose-');
    const [corrupt, plain, holder] = ['corrupt', 'plain', 'holder'].map((name) => join(dir, name)) as [string, string, string];
    writeFileSync(corrupt, fixture('invalid-yaml.yaml'));
    writeFileSync(plain, fixture('valid-existing.yaml'));
    writeFileSync(holder, fixture('same-arn-old.yaml'));
    const warnings: string[] = [];
    const chosen = await chooseKubeconfig([plain, corrupt, holder], PROD.arn, (w) => warnings.push(w));
    expect(chosen.path).toBe(holder);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^skipping ${corrupt}: kubeconfig ${corrupt} is not valid YAML at line 4`))]);
  });

  it('otherwise chooses the first file, whose errors then count (test_corrupted_and_missing)', async () => {
    const dir = tempDir('eksauth-kc-first-');
    const corrupt = join(dir, 'corrupt');
    writeFileSync(corrupt, fixture('invalid-string-clusters.yaml'));
    mkdirSync(join(dir, 'sub'));
    expect((await chooseKubeconfig([join(dir, 'sub', 'new'), corrupt], PROD.arn)).path).toBe(join(dir, 'sub', 'new'));
    await expect(chooseKubeconfig([corrupt, join(dir, 'other')], PROD.arn)).rejects.toMatchObject({ code: 'ERR_KUBECONFIG_CORRUPT' });
  });
});
