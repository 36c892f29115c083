/**
 * The token path's own flag reader (src/cli/main.ts) and commander read the same table and must agree: the common
 * forms are read on the fast path, everything else falls through to commander, which parses it or explains the
 * mistake. The cache flags are part of the table.
 */
import { describe, expect, it } from 'vitest';
import { flagEntry, TOKEN_FLAGS } from '../../src/cli/token-flags.js';
import { parseExecCredential, runEksauth, tokenUrl } from '../support/eksauth.js';

const KEYS = { AWS_ACCESS_KEY_ID: 'EKSAUTHTESTKEY000001', AWS_SECRET_ACCESS_KEY: 'test-secret-0000000000000000000000000000', EKSAUTH_NO_CACHE: '1' };

describe('flagEntry', () => {
  it('names flags as commander does, negated ones by their positive key', () => {
    expect(flagEntry('cluster-name', 'prod')).toEqual(['clusterName', 'prod']);
    expect(flagEntry('force-refresh', true)).toEqual(['forceRefresh', true]);
    expect(flagEntry('no-cache', true)).toEqual(['cache', false]);
    expect(flagEntry('cache', true)).toEqual(['cache', true]);
  });

  it('lists the cache flags, aws-iam-authenticator’s --cache among them', () => {
    const names = TOKEN_FLAGS.map((flag) => flag.long);
    expect(names).toEqual(expect.arrayContaining(['no-cache', 'force-refresh', 'cache']));
  });
});

describe('eksauth token reads every flag form the same way', () => {
  const hostOf = async (args: string[]) => tokenUrl(parseExecCredential(await runEksauth(['token', ...args], { env: KEYS })).status.token).host;

  it.each([
    ['--flag value', ['--cluster-name', 'c1', '--region', 'eu-west-1']],
    ['--flag=value', ['--cluster-name=c1', '--region=eu-west-1']],
    ['-i value', ['-i', 'c1', '--region', 'eu-west-1']],
    ['-ivalue (commander)', ['-ic1', '--region', 'eu-west-1']],
    ['with the cache flags', ['--cluster-name', 'c1', '--region', 'eu-west-1', '--no-cache', '--force-refresh', '--cache']],
  ])('%s', async (_form, args) => {
    expect(await hostOf(args)).toBe('sts.eu-west-1.amazonaws.com');
  });

  it('leaves mistakes to commander, which explains them in one line', async () => {
    const result = await runEksauth(['token', '--cluster-name', 'c1', '--bogus'], { env: KEYS });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("eksauth: token: unknown option '--bogus'; run 'eksauth token --help' for the flags (ERR_USAGE)\n");
  });

  it('shows every flag in help, --cache and --role included', async () => {
    const { stdout } = await runEksauth(['token', '--help']);
    for (const flag of ['--no-cache', '--force-refresh', '--cache', '--role <arn>', '--query', '--output']) expect(stdout).toContain(flag);
  });
});
