/**
 * Which proxy a request takes: eksauth's reading of HTTPS_PROXY / HTTP_PROXY / NO_PROXY against Python's own
 * urllib (getproxies_environment, proxy_bypass_environment), which botocore, so the aws CLI, uses.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bypassesProxy, explainNetworkFailure, networkOptions, PROXY_FAILURE, proxyFor, withProfileCaBundle } from '../../src/aws/network.js';
import { isEksAuthError } from '../../src/errors.js';
import { hasCommand } from '../support/tools.js';

interface Case {
  env: Record<string, string>;
  host: string;
  port: number;
}

const CASES: Case[] = [
  { env: { NO_PROXY: 'amazonaws.com' }, host: 'sts.eu-west-1.amazonaws.com', port: 443 },
  { env: { NO_PROXY: '.amazonaws.com' }, host: 'sts.eu-west-1.amazonaws.com', port: 443 },
  { env: { NO_PROXY: 'amazonaws.com' }, host: 'notamazonaws.com', port: 443 },
  { env: { no_proxy: 'STS.AMAZONAWS.COM' }, host: 'sts.amazonaws.com', port: 443 },
  { env: { NO_PROXY: '127.0.0.1:8443' }, host: '127.0.0.1', port: 8443 },
  { env: { NO_PROXY: '127.0.0.1:8443' }, host: '127.0.0.1', port: 9443 },
  { env: { NO_PROXY: ' localhost , 10.0.0.1 ' }, host: '10.0.0.1', port: 443 },
  { env: { NO_PROXY: '*' }, host: 'anything.example', port: 443 },
  { env: { NO_PROXY: '*.example.com' }, host: 'a.example.com', port: 443 },
  { env: { NO_PROXY: '' }, host: 'a.example.com', port: 443 },
  { env: { no_proxy: '', NO_PROXY: 'example.com' }, host: 'example.com', port: 443 },
  { env: { no_proxy: 'other.com', NO_PROXY: 'example.com' }, host: 'example.com', port: 443 },
  { env: {}, host: 'example.com', port: 443 },
];

// Python's answer for each case, computed by the interpreter the aws CLI runs on.
const PYTHON = `
import json, os, sys, urllib.request
out = []
for case in json.load(sys.stdin):
    os.environ.clear(); os.environ.update(case['env'])
    out.append(bool(urllib.request.proxy_bypass_environment('%s:%d' % (case['host'], case['port']))))
print(json.dumps(out))
`;

describe.runIf(hasCommand('python3'))('NO_PROXY matching, case for case with Python urllib (botocore)', () => {
  it('bypasses exactly the hosts Python bypasses', () => {
    const python = spawnSync('python3', ['-c', PYTHON], { input: JSON.stringify(CASES), encoding: 'utf8' });
    const expected = JSON.parse(python.stdout) as boolean[];
    expect(expected).toHaveLength(CASES.length);
    expect(CASES.map((c) => bypassesProxy(c.host, c.port, c.env))).toEqual(expected);
  });
});

describe('proxyFor', () => {
  it('takes https_proxy before HTTPS_PROXY, and an empty lower-case one unsets it', () => {
    expect(proxyFor('https:', 'h', 443, { https_proxy: 'http://low:1', HTTPS_PROXY: 'http://up:2' })?.host).toBe('low:1');
    expect(proxyFor('https:', 'h', 443, { https_proxy: '', HTTPS_PROXY: 'http://up:2' })).toBeUndefined();
  });

  it('reads a proxy without a scheme as http://, as botocore does, and ignores ALL_PROXY as botocore does', () => {
    expect(proxyFor('https:', 'h', 443, { HTTPS_PROXY: 'proxy.corp:3128' })?.href).toBe('http://proxy.corp:3128/');
    expect(proxyFor('https:', 'h', 443, { ALL_PROXY: 'http://all:1' })).toBeUndefined();
  });

  it('uses HTTP_PROXY only for http endpoints', () => {
    expect(proxyFor('https:', 'h', 443, { HTTP_PROXY: 'http://p:1' })).toBeUndefined();
    expect(proxyFor('http:', 'h', 80, { HTTP_PROXY: 'http://p:1' })?.host).toBe('p:1');
  });

  it('refuses a proxy variable that is not a URL with ERR_PROXY', () => {
    expect(() => proxyFor('https:', 'h', 443, { HTTPS_PROXY: 'http://[nope' })).toThrow(expect.objectContaining({ code: 'ERR_PROXY' }));
  });
});

describe('networkOptions', () => {
  it('reads timeouts in seconds (0: no limit) and refuses anything else with ERR_USAGE', () => {
    expect(networkOptions({ cliConnectTimeout: '2.5', cliReadTimeout: '0' }, {})).toMatchObject({ connectTimeoutMs: 2500, readTimeoutMs: 0 });
    expect(() => networkOptions({ cliReadTimeout: '-1' }, {})).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
  });

  it('takes --ca-bundle, then AWS_CA_BUNDLE, then the profile ca_bundle', () => {
    const profile = { profile: 'corp', profileCaBundle: '/p.pem' };
    expect(withProfileCaBundle(networkOptions({ caBundle: '/f.pem' }, { AWS_CA_BUNDLE: '/e.pem' }), profile)).toMatchObject({ caBundle: '/f.pem', caBundleFrom: '--ca-bundle' });
    expect(withProfileCaBundle(networkOptions({}, { AWS_CA_BUNDLE: '/e.pem' }), profile)).toMatchObject({ caBundle: '/e.pem', caBundleFrom: 'AWS_CA_BUNDLE' });
    expect(withProfileCaBundle(networkOptions({}, {}), profile)).toMatchObject({ caBundle: '/p.pem', caBundleFrom: 'ca_bundle of profile corp' });
  });
});

describe('explainNetworkFailure', () => {
  it('finds a proxy failure through the causes the SDK wraps it in', () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED'), { [PROXY_FAILURE]: { proxy: 'http://p:1', reason: 'refused the connection' } });
    const explained = explainNetworkFailure(new Error('wrapped', { cause: inner }), 'EKS ListClusters');
    expect(isEksAuthError(explained, 'ERR_PROXY')).toBe(true);
    expect(explained?.message).toBe('EKS ListClusters failed: the proxy http://p:1 refused the connection; check HTTPS_PROXY/HTTP_PROXY (or add the host to NO_PROXY) and retry');
  });

  it('leaves other failures to the caller', () => {
    expect(explainNetworkFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'call')).toBeUndefined();
  });
});
