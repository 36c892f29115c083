import { describe, expect, it } from 'vitest';
import { toExecCredential } from '../../src/exec/exec-credential.js';
import { clusterFromExecInfo, parseApiVersion, readExecInfo } from '../../src/exec/exec-info.js';

const V1 = 'client.authentication.k8s.io/v1';
const V1BETA1 = 'client.authentication.k8s.io/v1beta1';
const V1ALPHA1 = 'client.authentication.k8s.io/v1alpha1';

describe('readExecInfo (aws-cli rules)', () => {
  it('defaults to v1beta1 silently when unset or empty', () => {
    expect(readExecInfo(undefined)).toEqual({ apiVersion: V1BETA1, warnings: [] });
    expect(readExecInfo('')).toEqual({ apiVersion: V1BETA1, warnings: [] });
  });

  it('echoes v1 and v1beta1 and reads interactive', () => {
    expect(readExecInfo(JSON.stringify({ apiVersion: V1, spec: { interactive: true } }))).toEqual({ apiVersion: V1, interactive: true, warnings: [] });
    expect(readExecInfo(JSON.stringify({ apiVersion: V1BETA1, spec: { interactive: false } }))).toEqual({ apiVersion: V1BETA1, interactive: false, warnings: [] });
  });

  it('echoes v1alpha1 with a deprecation warning', () => {
    const info = readExecInfo(JSON.stringify({ apiVersion: V1ALPHA1 }));
    expect(info.apiVersion).toBe(V1ALPHA1);
    expect(info.warnings[0]).toContain('deprecated API version');
  });

  it('falls back to v1beta1 with a warning for bad JSON or unknown versions', () => {
    expect(readExecInfo('{not json').warnings[0]).toMatch(/^Error parsing KUBERNETES_EXEC_INFO, defaulting to client.authentication.k8s.io\/v1beta1/);
    const unknown = readExecInfo(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v2' }));
    expect(unknown.apiVersion).toBe(V1BETA1);
    expect(unknown.warnings[0]).toMatch(/^Unrecognized API version in KUBERNETES_EXEC_INFO/);
  });

  it('treats a null cluster config as absent', () => {
    expect(readExecInfo(JSON.stringify({ apiVersion: V1, spec: { cluster: { server: 'https://x', config: null } } })).cluster).toEqual({ server: 'https://x' });
  });
});

describe('clusterFromExecInfo (cluster-inventory mode)', () => {
  const withConfig = (config: unknown) => JSON.stringify({ apiVersion: V1, spec: { interactive: false, cluster: { server: 'https://x', config } } });
  const target = (raw: string | undefined) => clusterFromExecInfo(readExecInfo(raw), raw);

  it('reads region and clusterId', () => {
    expect(target(withConfig({ region: 'eu-west-1', clusterId: 'prod' }))).toEqual({ region: 'eu-west-1', clusterId: 'prod' });
  });

  it.each([
    ['empty KUBERNETES_EXEC_INFO', undefined, 'ERR_NO_CLUSTER', /no cluster given/],
    ['no spec.cluster', JSON.stringify({ apiVersion: V1, spec: { interactive: false } }), 'ERR_EXEC_INFO', /does not contain cluster information/],
    ['config null', withConfig(null), 'ERR_EXEC_INFO', /^missing ExecCredential\.Spec\.Cluster\.Config \(extensions\)/],
    ['config empty', withConfig({}), 'ERR_EXEC_INFO', /^missing ExecCredential\.Spec\.Cluster\.Config \(extensions\)/],
    ['config a string', withConfig('eu-west-1/prod'), 'ERR_EXEC_INFO', /^invalid extensions config: /],
    ['config an array', withConfig(['eu-west-1']), 'ERR_EXEC_INFO', /^invalid extensions config: /],
    ['no clusterId', withConfig({ region: 'eu-west-1' }), 'ERR_EXEC_INFO', /^extensions must include region and clusterId/],
    ['region not a string', withConfig({ region: 5, clusterId: 'prod' }), 'ERR_EXEC_INFO', /^extensions must include region and clusterId/],
  ])('%s', (_name, raw, code, message) => {
    expect(() => target(raw)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(message) }));
  });
});

describe('ExecCredential output', () => {
  it('has aws-cli key order and a whole-second UTC timestamp', () => {
    const text = JSON.stringify(toExecCredential({ token: 'k8s-aws-v1.abc', expiration: new Date('2019-10-23T23:14:00.987Z') }, V1));
    expect(text).toBe(`{"kind":"ExecCredential","apiVersion":"${V1}","spec":{},"status":{"expirationTimestamp":"2019-10-23T23:14:00Z","token":"k8s-aws-v1.abc"}}`);
  });

  it('parses --api-version in short and long form', () => {
    expect(parseApiVersion('v1')).toBe(V1);
    expect(parseApiVersion(V1BETA1)).toBe(V1BETA1);
    expect(() => parseApiVersion('v2')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_API_VERSION' }));
  });
});
