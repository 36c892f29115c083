/**
 * The verifier's STS host allow-set against botocore's STS endpoint data on this machine: every host the validator
 * accepts (all partitions allowed) must be one botocore names, and every host botocore names must be accepted. A
 * token for a host STS does not have (sts-fips.eu-west-1.amazonaws.com) would otherwise fail on DNS, a 503 that
 * kube-apiserver retries, instead of a final 403.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { EksAuthError } from '../../src/errors.js';
import { encodeToken } from '../../src/token/format.js';
import { presignGetCallerIdentity } from '../../src/token/presign.js';
import { validateToken } from '../../src/token/validate.js';

const ALL_PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc'];
const SIGNED_AT = new Date('2026-01-05T10:00:00Z');
const NOW = new Date('2026-01-05T10:01:00Z');

/**
 * botocore's STS hosts: for each region its partition lists, the regional and dual-stack hosts its resolver gives
 * (dual-stack comes from the partition's defaults), and the FIPS hosts only where the STS service data itself names a
 * FIPS variant for the region (the partition defaults would name `sts-fips.<region>` everywhere, which is what STS
 * does not have); plus the global host.
 */
const BOTOCORE_STS_HOSTS = `
import json, botocore
from botocore.regions import EndpointResolver
path = botocore.__path__[0] + '/data/endpoints.json'
data = json.load(open(path))
# The resolver merges defaults into the entries it resolves, so it gets a copy of its own.
resolver = EndpointResolver(json.load(open(path)))
hosts, regions = {}, {}
def named_variant(entry, tags):
    return any(sorted(v.get('tags', [])) == sorted(tags) for v in entry.get('variants', []))
for partition in data['partitions']:
    sts = partition['services'].get('sts', {})
    regions[partition['partition']] = sorted(partition['regions'])
    for region in partition['regions']:
        entry = sts.get('endpoints', {}).get(region, {})
        for fips in (False, True):
            for dualstack in (False, True):
                tags = [t for t, on in (('dualstack', dualstack), ('fips', fips)) if on]
                if fips and not (named_variant(entry, tags) or named_variant(sts.get('defaults', {}), tags)):
                    continue
                try:
                    found = resolver.construct_endpoint('sts', region, use_dualstack_endpoint=dualstack, use_fips_endpoint=fips)
                except Exception:
                    found = None
                if found:
                    hosts[found['hostname']] = region
    for name, entry in sts.get('endpoints', {}).items():
        if name.endswith('-global') and 'hostname' in entry:
            hosts[entry['hostname']] = entry['credentialScope']['region']
print(json.dumps({'version': botocore.__version__, 'hosts': hosts, 'regions': regions}))
`;

interface Botocore {
  version: string;
  /** host → signing region */
  hosts: Record<string, string>;
  regions: Record<string, string[]>;
}

function readBotocore(): Botocore | string {
  const run = spawnSync('python3', ['-c', BOTOCORE_STS_HOSTS], { encoding: 'utf8', timeout: 30_000 });
  if (run.error !== undefined) return `python3 is not available (${run.error.message})`;
  if (run.status !== 0) return `botocore is not importable: ${run.stderr.trim().split('\n').at(-1) ?? ''}`;
  return JSON.parse(run.stdout) as Botocore;
}

interface SdkPartition {
  id: string;
  outputs: { dnsSuffix: string; dualStackDnsSuffix: string };
  regions: Record<string, unknown>;
}

/** The SDK's partition table (the data resolveStsEndpoint and the validator use), read from the installed package. */
async function readSdkPartitions(): Promise<SdkPartition[]> {
  const core = dirname(createRequire(import.meta.url).resolve('@aws-sdk/core/package.json'));
  const file = join(core, 'dist-es/submodules/client/util-endpoints/lib/aws/partitions.js');
  readFileSync(file); // fails clearly if the SDK moved the file
  const module = (await import(pathToFileURL(file).href)) as { partitionsInfo: { partitions: SdkPartition[] } };
  return module.partitionsInfo.partitions;
}

async function tokenFor(host: string, region: string): Promise<string> {
  return encodeToken(await presignGetCallerIdentity({
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'SECRET' },
    clusterId: 'c1',
    endpoint: { hostname: host, signingRegion: region, partition: 'aws' },
    signingDate: SIGNED_AT,
  }));
}

function outcome(token: string, partitions = ALL_PARTITIONS): string {
  try {
    validateToken(token, { now: NOW, partitions });
    return 'accepted';
  } catch (err) {
    if (err instanceof EksAuthError) return err.code;
    throw err;
  }
}

const botocore = readBotocore();
if (typeof botocore === 'string') console.warn(`test/aws/sts-hosts.test.ts skipped: ${botocore}`);

describe.skipIf(typeof botocore === 'string')('the STS host allow-set, against botocore', () => {
  const data = botocore as Botocore;
  let accepted: Map<string, string>;
  let regionDrift: Set<string>;

  // Every name of the form label.region.suffix over every region either data set lists and every partition's domain,
  // presigned and validated: the validator's whole allow-set, found by asking it.
  beforeAll(async () => {
    const sdk = await readSdkPartitions();
    const sdkRegions = new Set(sdk.flatMap((p) => Object.keys(p.regions)).filter((r) => !r.endsWith('-global')));
    const botoRegions = new Set(Object.values(data.regions).flat());
    regionDrift = new Set([...sdkRegions, ...botoRegions].filter((r) => !(sdkRegions.has(r) && botoRegions.has(r))));
    const suffixes = new Set(sdk.flatMap((p) => [p.outputs.dnsSuffix, p.outputs.dualStackDnsSuffix]));
    const candidates = new Map<string, string>([['sts.amazonaws.com', 'us-east-1'], ['sts-fips.amazonaws.com', 'us-east-1'], ...Object.entries(data.hosts)]);
    for (const region of new Set([...sdkRegions, ...botoRegions])) {
      for (const suffix of suffixes) for (const label of ['sts', 'sts-fips']) candidates.set(`${label}.${region}.${suffix}`, region);
    }
    accepted = new Map();
    for (const [host, region] of candidates) {
      if (outcome(await tokenFor(host, region)) === 'accepted') accepted.set(host, region);
    }
  });

  it('accepts exactly the hosts botocore names, apart from regions only one data set lists', () => {
    const regionOf = (host: string) => host.split('.')[1] ?? '';
    const extra = [...accepted.keys()].filter((h) => !(h in data.hosts)).sort();
    const missing = Object.keys(data.hosts).filter((h) => !accepted.has(h)).sort();
    console.info(`STS hosts: eksauth accepts ${accepted.size}, botocore ${data.version} names ${Object.keys(data.hosts).length}; ` +
      `regions listed by one side only: ${[...regionDrift].sort().join(', ') || 'none'}`);
    // Region-list drift between the installed SDK and botocore is data age, not a difference in host forms.
    expect(extra.filter((h) => !regionDrift.has(regionOf(h)))).toEqual([]);
    expect(missing.filter((h) => !regionDrift.has(regionOf(h)))).toEqual([]);
    for (const host of [...accepted.keys()].filter((h) => regionDrift.has(regionOf(h)))) expect(host).toMatch(/^sts\./);
  });

  it('signs each accepted host for the region botocore scopes it to', () => {
    for (const [host, region] of Object.entries(data.hosts)) if (accepted.has(host)) expect(accepted.get(host)).toBe(region);
  });

  it('refuses sts-fips.eu-west-1.amazonaws.com, which does not exist, and accepts sts-fips.us-east-1.amazonaws.com', async () => {
    expect(data.hosts).not.toHaveProperty(['sts-fips.eu-west-1.amazonaws.com']);
    expect(data.hosts).toHaveProperty(['sts-fips.us-east-1.amazonaws.com']);
    expect(outcome(await tokenFor('sts-fips.us-east-1.amazonaws.com', 'us-east-1'), ['aws'])).toBe('accepted');
    const missing = await tokenFor('sts-fips.eu-west-1.amazonaws.com', 'eu-west-1');
    expect(outcome(missing, ['aws'])).toBe('ERR_TOKEN_HOST');
    expect(() => validateToken(missing, { now: NOW })).toThrow(/does not exist: STS has no FIPS endpoint in eu-west-1/);
  });
});
