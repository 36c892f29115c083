/**
 * The backends aws-iam-authenticator has beyond MountedFile and EKSConfigMap, through the server's HTTP answers:
 * DynamicFile (EKS's JSON file, `userid` strictness, absent and deleted files), CRD (IAMIdentityMapping resources
 * watched through the test API server) and the backend-mode file switching the chain while reviews are in flight.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tools.js';
import { ALICE, BOB, eventually, logSink, review } from './helpers.js';
import { CLUSTER, metricsOf, readyz, useMappingServers, usernameOf } from './mapping-servers.js';

const dynamicFile = (rows: object[], version = '1') => JSON.stringify({ Version: version, LastUpdatedDateTime: '1733130000', ClusterId: CLUSTER, mapUsers: rows });
const modeFile = (backendMode: string, version: string) => JSON.stringify({ backendMode, Version: version, LastUpdatedDateTime: '1733130000' });

describe('DynamicFile, CRD and backend-mode switching', () => {
  const { env, start } = useMappingServers();

  it('DynamicFile: absent maps nobody (and is ready), written maps, a bad row is skipped, invalid keeps the last good, deleted maps nobody', async () => {
    const file = join(tempDir(), 'dynamic.json');
    const log = logSink();
    const server = await start({ backendMode: ['DynamicFile'], dynamicFilePath: file }, log);
    expect(server.ready()).toBe(true);
    expect((await review(server, env.tokens.alice)).status).toBe(403);

    writeFileSync(file, dynamicFile([{ userarn: ALICE.arn, username: 'alice-dyn', groups: ['g'], userid: ALICE.userId }]));
    await eventually(async () => (await usernameOf(server, env.tokens.alice)) === 'alice-dyn', 'the written file');

    // A row that fails validation is skipped with a warning; the other rows apply, as for aws-auth.
    writeFileSync(file, dynamicFile([{ userarn: 'not-an-arn', username: 'x' }, { userarn: ALICE.arn, username: 'alice-dyn-2' }], '2'));
    await eventually(async () => (await usernameOf(server, env.tokens.alice)) === 'alice-dyn-2', 'the version with a bad row');
    expect(log.entries().filter((e) => e.msg === 'mapping source: part skipped, the rest applies').map((e) => [e.level, e.kind])).toEqual([['warn', 'invalid-row']]);
    expect((await readyz(server)).text).not.toContain('latest version rejected');

    // A row without its key refuses the whole version, as the reference's ErrParsingMap: the last good one stays.
    writeFileSync(file, dynamicFile([{ username: 'keyless' }, { userarn: ALICE.arn, username: 'alice-dyn-3' }], '3'));
    await eventually(async () => (await readyz(server)).text.includes('latest version rejected'), 'the keyless version reported');
    expect(await usernameOf(server, env.tokens.alice)).toBe('alice-dyn-2');

    writeFileSync(file, '{"mapUsers": [{"userarn": "not-an-arn", "username": "x"}');
    await eventually(async () => /^aws_iam_authenticator_dynamicfile_failures_total 2$/m.test(await metricsOf(server)), 'the invalid version counted');
    expect((await readyz(server)).text).toContain('latest version rejected');
    expect(await usernameOf(server, env.tokens.alice)).toBe('alice-dyn-2');
    expect((await readyz(server)).text).not.toContain('not-an-arn');
    // The reference's DynamicFile metrics: the failed load counted, the mode gauges, each served version's latency.
    const metrics = await metricsOf(server);
    expect(metrics).toMatch(/^aws_iam_authenticator_dynamicfile_failures_total 2$/m);
    expect(metrics).toMatch(/^aws_iam_authenticator_dynamic_file_enabled 1$/m);
    expect(metrics).toMatch(/^aws_iam_authenticator_dynamic_file_only 1$/m);
    // The first version served is not measured (its age says nothing of the delay), as the reference skips it.
    expect(metrics).toMatch(/^aws_iam_authenticator_dynamic_e2e_latency_seconds_count\{type="dynamic_file"\} 1$/m);

    rmSync(file);
    await eventually(async () => (await review(server, env.tokens.alice)).status === 403, 'the deletion');
  });

  it('DynamicFile with dynamicfileUserIDStrict: the row matches the principal id, not the name', async () => {
    const file = join(tempDir(), 'dynamic.json');
    writeFileSync(file, dynamicFile([
      { userarn: ALICE.arn, username: 'alice-by-id', userid: ALICE.userId },
      // Bob's name, but the id of a deleted-and-re-created user: not Bob.
      { userarn: BOB.arn, username: 'old-bob', userid: 'AIDAOLDBOBDELETED0001' },
    ]));
    const server = await start({ backendMode: ['DynamicFile'], dynamicFilePath: file, dynamicFileUserIdStrict: true });
    expect(await usernameOf(server, env.tokens.alice)).toBe('alice-by-id');
    expect((await review(server, env.tokens.bob)).status).toBe(403);
  });

  it('CRD: IAMIdentityMapping resources map while watched; a bad one is skipped with a warning, the others served', async () => {
    const log = logSink();
    const server = await start({ backendMode: ['CRD'] }, log);
    await eventually(() => server.ready(), 'the first list');
    expect((await review(server, env.tokens.alice)).status).toBe(403);

    env.api.identityMappings.put('', 'alice', { arn: ALICE.arn, username: 'alice-crd', groups: ['system:masters'] });
    await eventually(async () => (await usernameOf(server, env.tokens.alice)) === 'alice-crd', 'the created resource');
    expect((await review(server, env.tokens.alice)).body.status?.user?.groups).toEqual(['system:masters']);

    env.api.identityMappings.put('', 'broken', { arn: 'arn:aws:iam::111122223333:user/carol', username: '{{Nope}}' });
    const skipped = () => log.entries().filter((e) => e.msg === 'mapping source: part skipped, the rest applies');
    await eventually(() => skipped().length > 0, 'the bad resource reported');
    expect(skipped()[0]).toMatchObject({ level: 'warn', kind: 'invalid-row' });
    expect((await readyz(server)).text).not.toContain('latest version rejected');
    expect(log.entries().filter((e) => e.level !== 'debug' && JSON.stringify(e).includes('{{Nope}}'))).toEqual([]);
    expect(await usernameOf(server, env.tokens.alice)).toBe('alice-crd');

    env.api.identityMappings.delete('', 'alice');
    await eventually(async () => (await review(server, env.tokens.alice)).status === 403, 'the deletion');
    env.api.identityMappings.delete('', 'broken');
  });

  it('reservedPrefixConfig applies to the CRD and DynamicFile backends by their own names', async () => {
    const file = join(tempDir(), 'dynamic.json');
    writeFileSync(file, dynamicFile([{ userarn: ALICE.arn, username: 'dyn:alice' }]));
    env.api.identityMappings.put('', 'bob', { arn: BOB.arn, username: 'dyn:bob' });
    const server = await start({
      backendMode: ['CRD', 'DynamicFile'], dynamicFilePath: file, reservedPrefixConfig: { DynamicFile: ['dyn:'], CRD: ['crd:'] },
    });
    await eventually(async () => (await usernameOf(server, env.tokens.bob)) === 'dyn:bob', 'the CRD row, whose backend does not reserve dyn:');
    expect((await review(server, env.tokens.alice)).status).toBe(403);
    expect(await metricsOf(server)).toMatch(/^aws_iam_authenticator_dynamic_file_only 0$/m);

    env.api.identityMappings.put('', 'bob', { arn: BOB.arn, username: 'crd:bob' });
    await eventually(async () => (await review(server, env.tokens.bob)).status === 403, 'the CRD row with a prefix its backend reserves');
    env.api.identityMappings.delete('', 'bob');
  });

  it('backend-mode file: switches the chain while reviews are in flight, with no review failing', async () => {
    const dynamic = join(tempDir(), 'dynamic.json');
    writeFileSync(dynamic, dynamicFile([{ userarn: ALICE.arn, username: 'alice-dynamic' }]));
    env.api.configMaps.put('kube-system', 'aws-auth', { mapUsers: `- userarn: ${ALICE.arn}\n  username: alice-configmap\n` });
    env.api.identityMappings.put('', 'alice', { arn: ALICE.arn, username: 'alice-crd' });
    const modes = join(tempDir(), 'backend-mode.json');
    writeFileSync(modes, modeFile('DynamicFile', '1'));
    const log = logSink();
    // As in aws-iam-authenticator, dynamicfilepath needs DynamicFile among the configured backends.
    const server = await start({ backendMode: ['MountedFile', 'DynamicFile'], dynamicFilePath: dynamic, dynamicBackendModePath: modes }, log);
    expect(await usernameOf(server, env.tokens.alice)).toBe('alice-dynamic');

    const seen = new Set<string>();
    const failures: string[] = [];
    let reviewing = true;
    const loop = async (): Promise<void> => {
      while (reviewing) {
        const answer = await review(server, env.tokens.alice);
        if (answer.status === 200) seen.add(answer.body.status?.user?.username ?? '');
        else failures.push(`${answer.status} ${JSON.stringify(answer.body)}`);
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    const switches: [string, string][] = [['EKSConfigMap', 'alice-configmap'], ['CRD DynamicFile', 'alice-crd'], ['DynamicFile', 'alice-dynamic'], ['EKSConfigMap,CRD', 'alice-configmap']];
    let version = 1;
    for (const [backendMode, username] of switches) {
      writeFileSync(modes, modeFile(backendMode, String(++version)));
      await eventually(async () => (await usernameOf(server, env.tokens.alice)) === username, `switched to ${backendMode}`);
    }
    rmSync(modes);
    await eventually(async () => (await usernameOf(server, env.tokens.alice)) === 'alice-dynamic', 'back to the configured backends');
    reviewing = false;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    expect([...seen].sort()).toEqual(['alice-configmap', 'alice-crd', 'alice-dynamic']);
    expect(log.entries().filter((e) => e.msg === 'backend modes in service').map((e) => e.backendMode)).toEqual([
      ['DynamicFile'], ['EKSConfigMap'], ['CRD', 'DynamicFile'], ['DynamicFile'], ['EKSConfigMap', 'CRD'], ['MountedFile', 'DynamicFile'],
    ]);
    // The reference's gauges follow the chain in service: DynamicFile among others now.
    const metrics = await metricsOf(server);
    expect(metrics).toMatch(/^aws_iam_authenticator_dynamic_file_enabled 1$/m);
    expect(metrics).toMatch(/^aws_iam_authenticator_dynamic_file_only 0$/m);
    // Each of the four versions written after start is measured once; the one found at start and the deletion are not.
    expect(metrics).toMatch(/^aws_iam_authenticator_dynamic_e2e_latency_seconds_count\{type="dynamic_backend_mode"\} 4$/m);
    expect(metrics).not.toMatch(/type="dynamic_file"/);
  });

  it('backend-mode file: an invalid file, or a switch to DynamicFile without its path, keeps the current chain', async () => {
    const modes = join(tempDir(), 'backend-mode.json');
    env.api.configMaps.put('kube-system', 'aws-auth', { mapUsers: `- userarn: ${ALICE.arn}\n  username: alice-configmap\n` });
    writeFileSync(modes, modeFile('EKSConfigMap', '1'));
    const log = logSink();
    const server = await start({ dynamicBackendModePath: modes }, log);
    await eventually(async () => (await usernameOf(server, env.tokens.alice)) === 'alice-configmap', 'the mode file applied at start');
    for (const text of ['{"backendMode": "LDAP"}', '{"Version": "3"}', modeFile('DynamicFile', '4')]) {
      const before = log.entries().filter((e) => e.msg === 'backend-mode file not applied (keeping the current backends)').length;
      writeFileSync(modes, text);
      await eventually(() => log.entries().filter((e) => e.msg === 'backend-mode file not applied (keeping the current backends)').length > before, `${text} refused`);
      expect(await usernameOf(server, env.tokens.alice)).toBe('alice-configmap');
    }
  });
});
