/**
 * Mappings that change while the server runs: the mapping file reloaded on change, and the aws-auth ConfigMap
 * watched through the test API server (list + watch, resume after a dropped watch, relist after 410), with the
 * last good version kept when a new one is invalid, and the precedence between the two.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/run.js';
import { tempDir } from '../support/tools.js';
import { ALICE, BOB, eventually, logSink, review } from './helpers.js';
import { metricsOf, readyz, useMappingServers, usernameOf } from './mapping-servers.js';

const userRow = (arn: string, username: string) => `- userarn: ${arn}\n  username: ${username}\n  groups: [from-configmap]\n`;

describe('mapping sources while the server runs', () => {
  const { env, start, accessTo } = useMappingServers();
  const metrics = metricsOf;

  it('reloads the mapping file on change, keeping the last good version while it is invalid', async () => {
    const file = join(tempDir(), 'mapping.yaml');
    writeFileSync(file, `mapUsers:\n${userRow(ALICE.arn, 'alice-v1').replace(/^/gm, '  ')}`);
    const log = logSink();
    const server = await start({ mappingFile: file }, log);
    expect(await usernameOf(server, env.tokens.alice)).toBe('alice-v1');

    writeFileSync(file, `mapUsers:\n${userRow(ALICE.arn, 'alice-v2').replace(/^/gm, '  ')}`);
    await eventually(async () => (await usernameOf(server, env.tokens.alice)) === 'alice-v2', 'the new file version');

    writeFileSync(file, 'mapUsers: [unclosed\n');
    await eventually(async () => (await readyz(server)).text.includes('latest version rejected'), 'the invalid version reported');
    expect(await usernameOf(server, env.tokens.alice)).toBe('alice-v2');
    expect(await metrics(server)).toMatch(/eksauth_mapping_source_healthy\{source="file:[^"]+"\} 0/);
    expect(log.entries().find((e) => e.msg === 'mapping source not updated (keeping the last good version)')).toMatchObject({ level: 'error' });
    expect((await readyz(server)).status).toBe(200);

    writeFileSync(file, `mapUsers:\n${userRow(ALICE.arn, 'alice-v3').replace(/^/gm, '  ')}`);
    await eventually(async () => (await usernameOf(server, env.tokens.alice)) === 'alice-v3', 'the fixed version');
    expect(await metrics(server)).toMatch(/eksauth_mapping_source_healthy\{source="file:[^"]+"\} 1/);
  });

  it('follows the aws-auth ConfigMap: created, edited, invalid (last good kept), deleted', async () => {
    env.api.configMaps.delete('kube-system', 'aws-auth');
    const log = logSink();
    const server = await start({ backendMode: ['EKSConfigMap'] }, log);
    await eventually(() => server.ready(), 'the first list');
    expect((await review(server, env.tokens.bob)).status).toBe(403);

    env.api.configMaps.put('kube-system', 'aws-auth', { mapUsers: userRow(BOB.arn, 'bob') });
    await eventually(async () => (await usernameOf(server, env.tokens.bob)) === 'bob', 'the created ConfigMap');

    env.api.configMaps.put('kube-system', 'aws-auth', { mapUsers: userRow(BOB.arn, 'bob-renamed') });
    await eventually(async () => (await usernameOf(server, env.tokens.bob)) === 'bob-renamed', 'the edit');

    env.api.configMaps.put('kube-system', 'aws-auth', { mapUsers: '- userarn: [unclosed' });
    await eventually(async () => /eksauth_mapping_source_healthy\{source="configmap:kube-system\/aws-auth"\} 0/.test(await metrics(server)), 'the invalid version reported');
    expect(await usernameOf(server, env.tokens.bob)).toBe('bob-renamed');
    expect(log.entries().find((e) => e.source === 'configmap:kube-system/aws-auth' && e.kind === 'invalid')).toMatchObject({ level: 'error' });

    env.api.configMaps.delete('kube-system', 'aws-auth');
    await eventually(async () => (await review(server, env.tokens.bob)).status === 403, 'the deletion');
  });

  it('serves a version with a bad row without that row: the others apply, with a warning and a count', async () => {
    const log = logSink();
    env.api.configMaps.put('kube-system', 'aws-auth', { mapUsers: userRow(ALICE.arn, 'alice') });
    const server = await start({ backendMode: ['EKSConfigMap'] }, log);
    await eventually(async () => (await usernameOf(server, env.tokens.alice)) === 'alice', 'the first version');

    env.api.configMaps.put('kube-system', 'aws-auth', {
      mapUsers: `- userarn: not-an-arn\n  username: broken\n${userRow(BOB.arn, 'bob')}`,
      maproles: '- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: admin\n',
    });
    await eventually(async () => (await usernameOf(server, env.tokens.bob)) === 'bob', 'the version with a bad row');
    expect((await review(server, env.tokens.alice)).status).toBe(403);
    const text = await metrics(server);
    expect(text).toContain('eksauth_mapping_source_healthy{source="configmap:kube-system/aws-auth"} 1');
    expect(text).toContain('eksauth_mapping_skipped_total{source="configmap:kube-system/aws-auth",kind="invalid-row"} 1');
    expect(text).toContain('eksauth_mapping_skipped_total{source="configmap:kube-system/aws-auth",kind="near-miss-key"} 1');
    const warnings = log.entries().filter((e) => e.msg === 'mapping source: part skipped, the rest applies');
    expect(warnings.map((e) => [e.level, e.problem])).toEqual([
      ['warn', 'configmap:kube-system/aws-auth: data.maproles is not read (keys are case-sensitive): EKS reads mapRoles; rename the key'],
      ['warn', 'configmap:kube-system/aws-auth: data.mapUsers[0].userarn is not a usable IAM ARN; row skipped'],
    ]);
    // Above debug, nothing written in the row is logged.
    expect(log.lines().filter((line) => line.includes('not-an-arn'))).toEqual([]);
  });

  // A bad edit reverted to the last good content: nothing new to serve, but the source is healthy again.
  const healthy = async (server: RunningServer, source: string) => {
    const [ready, text] = [await readyz(server), await metrics(server)];
    return !ready.text.includes('latest version rejected') && text.includes(`eksauth_mapping_source_healthy{source="${source}"} 1`);
  };

  it('is healthy again when a rejected mapping file is put back to the last good content', async () => {
    const file = join(tempDir(), 'mapping.yaml');
    const good = `mapUsers:\n${userRow(ALICE.arn, 'alice-good').replace(/^/gm, '  ')}`;
    writeFileSync(file, good);
    const server = await start({ mappingFile: file });
    writeFileSync(file, 'mapUsers: [unclosed\n');
    await eventually(async () => (await readyz(server)).text.includes('latest version rejected'), 'the bad edit rejected');
    writeFileSync(file, good);
    await eventually(() => healthy(server, `file:${file}`), 'healthy after the revert');
    expect(await usernameOf(server, env.tokens.alice)).toBe('alice-good');
  });

  it('is healthy again when a rejected aws-auth ConfigMap is put back to the last good content', async () => {
    const good = { mapUsers: userRow(ALICE.arn, 'alice-good') };
    env.api.configMaps.put('kube-system', 'aws-auth', good);
    const server = await start({ backendMode: ['EKSConfigMap'] });
    await eventually(async () => (await usernameOf(server, env.tokens.alice)) === 'alice-good', 'the first version');
    env.api.configMaps.put('kube-system', 'aws-auth', { mapUsers: '- userarn: [unclosed' });
    await eventually(async () => (await readyz(server)).text.includes('latest version rejected'), 'the bad edit rejected');
    env.api.configMaps.put('kube-system', 'aws-auth', good);
    await eventually(() => healthy(server, 'configmap:kube-system/aws-auth'), 'healthy after the revert');
    expect(await usernameOf(server, env.tokens.alice)).toBe('alice-good');
  });

  it('resumes a dropped watch from its resourceVersion, and relists when that version is gone', async () => {
    env.api.configMaps.put('kube-system', 'aws-auth', { mapUsers: userRow(ALICE.arn, 'alice-a') });
    const server = await start({ backendMode: ['EKSConfigMap'] });
    await eventually(async () => (await usernameOf(server, env.tokens.alice)) === 'alice-a', 'the first version');

    // Lists and watches share a path; the store counts the watches, so the rest are lists.
    const lists = () => env.api.requests().filter((r) => r.path === '/api/v1/namespaces/kube-system/configmaps').length - env.api.configMaps.watchCount();
    const watches = env.api.configMaps.watchCount();
    const listsBefore = lists();
    env.api.configMaps.endWatches();
    env.api.configMaps.put('kube-system', 'aws-auth', { mapUsers: userRow(ALICE.arn, 'alice-b') });
    await eventually(async () => (await usernameOf(server, env.tokens.alice)) === 'alice-b', 'the edit made while the watch was down');
    expect(env.api.configMaps.watchCount()).toBeGreaterThan(watches);
    expect(lists()).toBe(listsBefore);

    // The edit is forgotten from the history before the informer can resume: its resourceVersion is now too old.
    env.api.configMaps.endWatches();
    env.api.configMaps.put('kube-system', 'aws-auth', { mapUsers: userRow(ALICE.arn, 'alice-c') });
    env.api.configMaps.compact();
    await eventually(async () => (await usernameOf(server, env.tokens.alice)) === 'alice-c', 'the edit after the history was compacted');
    expect(lists()).toBeGreaterThan(listsBefore);
  });

  it('applies the configured precedence between the ConfigMap and the file', async () => {
    env.api.configMaps.put('kube-system', 'aws-auth', { mapUsers: userRow(ALICE.arn, 'alice-from-configmap') });
    const file = join(tempDir(), 'mapping.yaml');
    writeFileSync(file, `mapUsers:\n${userRow(ALICE.arn, 'alice-from-file').replace(/^/gm, '  ')}`);
    const configMapFirst = await start({ backendMode: ['EKSConfigMap', 'MountedFile'], mappingFile: file });
    const fileFirst = await start({ backendMode: ['MountedFile', 'EKSConfigMap'], mappingFile: file });
    await eventually(() => configMapFirst.ready() && fileFirst.ready(), 'both servers ready');
    expect(await usernameOf(configMapFirst, env.tokens.alice)).toBe('alice-from-configmap');
    expect(await usernameOf(fileFirst, env.tokens.alice)).toBe('alice-from-file');
  });

  it('is not ready, and fails reviews closed, until the ConfigMap has been listed', async () => {
    const server = await start({ backendMode: ['EKSConfigMap'] }, logSink(), accessTo('https://127.0.0.1:9'));
    const ready = await readyz(server);
    expect(ready.status).toBe(503);
    expect(ready.text).toContain('[-]mapping configmap:kube-system/aws-auth: not loaded yet');
    const answer = await review(server, env.tokens.alice);
    expect(answer.status).toBe(503);
    expect(answer.body.status?.error).toMatch(/still loading/);
  });
});
