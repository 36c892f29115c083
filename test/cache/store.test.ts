/**
 * The cache directory and entry files: created private, tightened when loose, and an entry is read only when it is
 * a regular 0600 file of ours written for exactly the key asked for.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheDirPath, cleanCache, openCacheDir, readEntry, writeEntry } from '../../src/cache/store.js';
import { EksAuthError } from '../../src/errors.js';
import { tempDir } from '../support/tools.js';

const IS_ROOT = process.getuid?.() === 0;
const KEY = '["token","k1"]';

function freshDir(): { env: NodeJS.ProcessEnv; dir: string } {
  const env = { KUBECACHEDIR: join(tempDir('eksauth-store-'), 'kube') };
  const dir = openCacheDir(env, { create: true });
  if (dir === undefined) throw new Error('cache directory not created');
  return { env, dir };
}

describe('the cache directory', () => {
  it('is $KUBECACHEDIR/eksauth, else ~/.kube/cache/eksauth', () => {
    expect(cacheDirPath({ KUBECACHEDIR: '/k', HOME: '/home/me' })).toBe('/k/eksauth');
    expect(cacheDirPath({ HOME: '/home/me' })).toBe('/home/me/.kube/cache/eksauth');
  });

  it('is created 0700, and a loose one of ours is tightened', () => {
    const { env, dir } = freshDir();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    chmodSync(dir, 0o755);
    expect(openCacheDir(env, { create: false })).toBeUndefined(); // readers do not trust it
    expect(openCacheDir(env, { create: true })).toBe(dir); // writers close it
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('is created with its missing parents; a parent that cannot be made means no cache, never a hang', () => {
    const root = tempDir('eksauth-store-');
    const env = { KUBECACHEDIR: join(root, 'a', 'b') };
    expect(openCacheDir(env, { create: true })).toBe(join(root, 'a', 'b', 'eksauth'));
    for (const dir of ['a', 'a/b', 'a/b/eksauth']) expect(statSync(join(root, dir)).mode & 0o777).toBe(0o700);
    // mkdirSync's own `recursive` never returns here: /proc answers ENOENT for every level.
    if (process.platform === 'linux') expect(openCacheDir({ KUBECACHEDIR: '/proc/eksauth-nope' }, { create: true })).toBeUndefined();
  });

  it.skipIf(!IS_ROOT)('is not used at all when someone else owns it', () => {
    const { env, dir } = freshDir();
    chownSync(dir, 4242, 4242);
    expect(openCacheDir(env, { create: true })).toBeUndefined();
    expect(() => cleanCache(env)).toThrow(EksAuthError);
  });

  it('is removed whole by cleanCache, which counts the entries', () => {
    const { env, dir } = freshDir();
    writeEntry(dir, 'token-1', KEY, {});
    writeEntry(dir, 'base-2', KEY, {});
    writeFileSync(join(dir, 'token-1.lock'), '{}');
    expect(cleanCache(env)).toEqual({ dir, entries: 2 });
    expect(existsSync(dir)).toBe(false);
    expect(cleanCache(env)).toEqual({ dir, entries: 0 });
  });
});

describe('entries', () => {
  it('are written 0600 by rename, leaving no temporary file', () => {
    const { dir } = freshDir();
    expect(writeEntry(dir, 'token-1', KEY, { token: 'k8s-aws-v1.x' })).toBe(true);
    expect(readdirSync(dir)).toEqual(['token-1.json']);
    expect(statSync(join(dir, 'token-1.json')).mode & 0o777).toBe(0o600);
    expect(readEntry(dir, 'token-1', KEY)).toEqual({ v: 1, key: KEY, token: 'k8s-aws-v1.x' });
  });

  it('are read only for exactly their key and format', () => {
    const { dir } = freshDir();
    writeEntry(dir, 'token-1', KEY, { token: 'k8s-aws-v1.x' });
    expect(readEntry(dir, 'token-1', '["token","k2"]')).toBeUndefined();
    writeFileSync(join(dir, 'token-1.json'), JSON.stringify({ v: 99, key: KEY }), { mode: 0o600 });
    expect(readEntry(dir, 'token-1', KEY)).toBeUndefined();
  });

  it.each([
    ['corrupt', (path: string) => writeFileSync(path, '{"v":1,"key":', { mode: 0o600 })],
    ['not an object', (path: string) => writeFileSync(path, '"k8s-aws-v1.x"', { mode: 0o600 })],
    ['readable by others', (path: string) => chmodSync(path, 0o644)],
    ['readable by the group', (path: string) => chmodSync(path, 0o640)],
    ['a directory', (path: string) => { unlinkSync(path); mkdirSync(path); }],
  ])('are ignored when %s', (_name, spoil) => {
    const { dir } = freshDir();
    const path = join(dir, 'token-1.json');
    writeEntry(dir, 'token-1', KEY, { token: 'k8s-aws-v1.x' });
    spoil(path);
    expect(readEntry(dir, 'token-1', KEY)).toBeUndefined();
  });

  it('are ignored when the file is a symlink, even to a good entry', () => {
    const { dir } = freshDir();
    writeEntry(dir, 'good', KEY, { token: 'k8s-aws-v1.x' });
    symlinkSync(join(dir, 'good.json'), join(dir, 'token-1.json'));
    expect(readEntry(dir, 'token-1', KEY)).toBeUndefined();
  });

  it.skipIf(!IS_ROOT)('are ignored when someone else owns them', () => {
    const { dir } = freshDir();
    writeEntry(dir, 'token-1', KEY, { token: 'k8s-aws-v1.x' });
    chownSync(join(dir, 'token-1.json'), 4242, 4242);
    expect(readEntry(dir, 'token-1', KEY)).toBeUndefined();
  });
});
