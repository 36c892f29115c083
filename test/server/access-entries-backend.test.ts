/**
 * The EKSAccessEntries backend through the server's HTTP answers, against the emulator's EKS API over loopback:
 * entries created, updated and deleted with the EKS API apply at the next read (`accessEntriesRefreshInterval`); an
 * EKS refusal keeps the last good set in service and is reported on `/readyz` and in the metrics, as the other
 * backends report an unreadable version; access policies are authorization and change no username or group.
 */
import { join } from 'node:path';
import type { AwsCredentialIdentity } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessPolicyArn } from '../../src/authn/mapping/access-entries/access-policies.js';
import { associateAccessPolicy, createAccessEntry, deleteAccessEntry, updateAccessEntry } from '../../src/aws/access-entries.js';
import { DEMO_EMULATOR_CONFIG, type EmulatorConfig } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { parseServerConfigFile, resolveServerConfig } from '../../src/server/config.js';
import { startServer, type RunningServer } from '../../src/server/run.js';
import { tempDir } from '../support/tools.js';
import { ALICE, BOB, eventually, logSink, mintToken, REGION, review } from './helpers.js';
import { metricsOf, readyz } from './mapping-servers.js';

const CLUSTER = 'prod-eu';
const SOURCE = `access-entries:${CLUSTER}`;
const CONFIG: EmulatorConfig = {
  identities: DEMO_EMULATOR_CONFIG.identities,
  clusters: [{ name: CLUSTER, region: REGION, endpoint: 'https://127.0.0.1:1', authenticationMode: 'API' }],
};
const NOT_A_KEY: AwsCredentialIdentity = { accessKeyId: 'AKIAREVOKEDKEY000001', secretAccessKey: 'revoked' };

describe('the EKSAccessEntries backend', () => {
  let emulator: Emulator;
  let server: RunningServer;
  // The server's own credentials; a test swaps them for a key EKS does not know, as when they are revoked.
  let serverCredentials: AwsCredentialIdentity = ALICE;
  const log = logSink();
  const tokens = { alice: '', bob: '' };
  const eks = () => ({ region: REGION, credentials: ALICE, endpoint: emulator.url });
  const userOf = async (token: string) => (await review(server, token)).body.status?.user;

  beforeAll(async () => {
    emulator = await startEmulator(CONFIG);
    tokens.alice = await mintToken(ALICE, CLUSTER);
    tokens.bob = await mintToken(BOB, CLUSTER);
    server = await startServer({
      clusterId: CLUSTER, port: 0, opsPort: null, stateDir: join(tempDir(), 'state'), stsEndpoint: emulator.url,
      backendMode: ['EKSAccessEntries'], accessEntriesRefreshIntervalMs: 200,
    }, { logDestination: log, eks: { region: REGION, endpoint: emulator.url, credentials: async () => serverCredentials } });
    await eventually(() => server.ready(), 'the first read of the access entries');
  });
  afterAll(async () => {
    await server?.close();
    await emulator?.close();
  });

  it('applies entries created, updated and deleted with the EKS API at the next read', async () => {
    expect((await review(server, tokens.alice)).status).toBe(403);
    await createAccessEntry(CLUSTER, { principalArn: ALICE.arn, username: 'alice', kubernetesGroups: ['developers'] }, eks());
    await eventually(async () => (await userOf(tokens.alice))?.username === 'alice', 'the created entry');
    expect((await userOf(tokens.alice))?.groups).toEqual(['developers']);

    await updateAccessEntry(CLUSTER, ALICE.arn, { username: 'alice:dev', kubernetesGroups: ['developers', 'oncall'] }, eks());
    await eventually(async () => (await userOf(tokens.alice))?.username === 'alice:dev', 'the updated entry');
    expect((await userOf(tokens.alice))?.groups).toEqual(['developers', 'oncall']);

    await deleteAccessEntry(CLUSTER, ALICE.arn, eks());
    await eventually(async () => (await review(server, tokens.alice)).status === 403, 'the deleted entry');
    // Read again and again, one ListAccessEntries each time (and a DescribeAccessEntry per entry, no policy calls).
    expect(emulator.stats().byAction.ListAccessEntries).toBeGreaterThan(3);
    expect(emulator.stats().byAction.ListAssociatedAccessPolicies).toBeUndefined();
  });

  it('access policies are authorization: associating one changes neither username nor groups', async () => {
    await createAccessEntry(CLUSTER, { principalArn: ALICE.arn, username: 'alice', kubernetesGroups: ['viewers'] }, eks());
    await eventually(async () => (await userOf(tokens.alice))?.username === 'alice', 'the entry');
    await associateAccessPolicy(CLUSTER, ALICE.arn, accessPolicyArn('AmazonEKSClusterAdminPolicy'), { type: 'cluster' }, eks());
    // Bob's entry, created after the association, shows a read that saw the association has happened.
    await createAccessEntry(CLUSTER, { principalArn: BOB.arn }, eks());
    await eventually(async () => (await review(server, tokens.bob)).status === 200, 'an entry created after the association');
    expect(await userOf(tokens.alice)).toMatchObject({ username: 'alice', groups: ['viewers'] });
    // An entry with no groups maps to its default username and no groups, whatever policy it has.
    expect(await userOf(tokens.bob)).toMatchObject({ username: BOB.arn, groups: [] });
  });

  it('an EKS refusal keeps the last good set, and /readyz and the metrics say so until a read succeeds', async () => {
    const errors = async () => Number(/^eksauth_mapping_source_errors_total\{source="access-entries:prod-eu",kind="read"\} (\d+)$/m.exec(await metricsOf(server))?.[1] ?? 0);
    const before = await errors();
    serverCredentials = NOT_A_KEY;
    await eventually(async () => (await readyz(server)).text.includes('latest version rejected'), 'the refused read reported');
    const ready = await readyz(server);
    // Still ready: the last good set is served. Named by source and EKS's error type, never by a principal.
    expect(ready.status).toBe(200);
    expect(ready.text).toContain(`[+]mapping ${SOURCE}: 2 rows (latest version rejected: the access entries could not be read from EKS (UnrecognizedClientException, ERR_EKS_REJECTED))`);
    expect(ready.text).not.toContain('111122223333');
    expect(await errors()).toBeGreaterThan(before);
    expect(await metricsOf(server)).toMatch(/^eksauth_mapping_source_healthy\{source="access-entries:prod-eu"\} 0$/m);
    await deleteAccessEntry(CLUSTER, ALICE.arn, eks());
    expect((await userOf(tokens.alice))?.username).toBe('alice');
    expect(log.entries().filter((e) => e.level === 'error' && e.source === SOURCE).map((e) => e.msg)).toContain('mapping source not updated (keeping the last good version)');
    // The whole EKS message (which names the key) is for the debug log only.
    expect(log.entries().filter((e) => e.level !== 'debug' && JSON.stringify(e).includes(NOT_A_KEY.accessKeyId))).toEqual([]);

    serverCredentials = ALICE;
    await eventually(async () => (await review(server, tokens.alice)).status === 403, 'the next good read, without the deleted entry');
    expect((await readyz(server)).text).not.toContain('latest version rejected');
    expect(await metricsOf(server)).toMatch(/^eksauth_mapping_source_healthy\{source="access-entries:prod-eu"\} 1$/m);
  });

  it('reads accessEntriesRefreshInterval from the config file as the other durations, and refuses zero', () => {
    const { settings } = parseServerConfigFile(`clusterID: ${CLUSTER}\nserver:\n  backendMode: EKSAccessEntries\n  accessEntriesRefreshInterval: 2m\n`, 'c.yaml');
    expect(resolveServerConfig(settings).accessEntriesRefreshIntervalMs).toBe(120_000);
    expect(resolveServerConfig({ clusterId: CLUSTER }).accessEntriesRefreshIntervalMs).toBe(30_000);
    expect(() => resolveServerConfig({ ...settings, accessEntriesRefreshIntervalMs: 0 })).toThrow('Server setting accessEntriesRefreshInterval must be more than zero.');
  });
});
