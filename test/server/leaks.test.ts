/**
 * What the webhook reveals, over real HTTPS against the STS emulator: an unmapped caller learns nothing about mapping
 * rows (the nearest row of its own account goes to the debug log only, and rows of other accounts nowhere), and
 * `/readyz` names a rejected version's source and location, never its content.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import type { ServerConfigInput } from '../../src/server/config.js';
import { startServer, type RunningServer } from '../../src/server/run.js';
import { ACCOUNT_B, ACCOUNT_C, ADMIM, ALICA, LEAK_EMULATOR_CONFIG, LEAK_MAPPING } from '../support/cross-account.js';
import { tempDir } from '../support/tools.js';
import { eventually, logSink, mintToken, request, review } from './helpers.js';

const CLUSTER = 'prod-eu';
describe('what an unmapped caller and /readyz reveal', () => {
  let emulator: Emulator;
  const running: RunningServer[] = [];

  beforeAll(async () => {
    emulator = await startEmulator(LEAK_EMULATOR_CONFIG);
  });
  afterAll(async () => {
    await Promise.all(running.map((server) => server.close()));
    await emulator?.close();
  });

  async function start(mapping: string, settings: ServerConfigInput = {}, log = logSink()): Promise<{ server: RunningServer; file: string }> {
    const dir = tempDir();
    const file = join(dir, 'mapping.yaml');
    writeFileSync(file, mapping);
    const server = await startServer({
      clusterId: CLUSTER, port: 0, opsPort: 0, stateDir: join(dir, 'state'), mappingFile: file, stsEndpoint: emulator.url,
      mappingReloadIntervalMs: 50, ...settings,
    }, { logDestination: log });
    running.push(server);
    return { server, file };
  }

  it('answers an unmapped caller with its own ARN only; the debug log has the same-account hint, never another account', async () => {
    const log = logSink();
    const { server } = await start(LEAK_MAPPING, { logLevel: 'debug' }, log);

    const crossAccount = await review(server, await mintToken(ADMIM, CLUSTER));
    expect(crossAccount.status).toBe(403);
    expect(crossAccount.body.status?.error).toMatch(new RegExp(`^arn:aws:iam::${ACCOUNT_C}:role/eks-admim is not mapped`));
    const sameAccount = await review(server, await mintToken(ALICA, CLUSTER));
    expect(sameAccount.status).toBe(403);
    expect(sameAccount.body.status?.error).toMatch(new RegExp(`^arn:aws:iam::${ACCOUNT_B}:user/alica is not mapped`));
    for (const answer of [crossAccount, sameAccount]) {
      expect(JSON.stringify(answer.body)).not.toMatch(/111122223333|eks-admin|alicia|user\/alice\b/);
    }

    const entries = log.entries();
    const hints = entries.filter((e) => e.msg === 'unmapped: nearest mapping row');
    expect(hints).toHaveLength(2);
    expect(hints.every((e) => e.level === 'debug')).toBe(true);
    expect(hints.find((e) => e.canonicalArn === ALICA.arn)?.hint).toContain(`user arn:aws:iam::${ACCOUNT_B}:user/alicia`);
    expect(hints.find((e) => e.canonicalArn === `arn:aws:iam::${ACCOUNT_C}:role/eks-admim`)?.hint).toMatch(/no row names a principal of account 555566667777$/);
    expect(log.lines().join('\n')).not.toMatch(/111122223333|eks-admin\b/);
    // Above debug, no line names a row.
    expect(entries.filter((e) => e.level !== 'debug').map((e) => JSON.stringify(e)).join('\n')).not.toContain('alicia');
  });

  it('names the source, the row and the kind of problem for a skipped row and a rejected version, the content only at debug', async () => {
    const log = logSink();
    const { server, file } = await start(LEAK_MAPPING, { logLevel: 'debug' }, log);
    const readyz = async () => (await request(`${server.opsUrl}/readyz`)).text;
    const aboveDebug = () => log.entries().filter((e) => e.level !== 'debug').map((e) => JSON.stringify(e)).join('\n');

    // A row that fails validation is skipped, as aws-iam-authenticator does; the warning says where and what, not what was written.
    const rejected = `arn:aws:iam::${ACCOUNT_B}:user/*`;
    writeFileSync(file, `${LEAK_MAPPING}  - userarn: ${rejected}\n    username: wildcard-operator\n`);
    await eventually(() => aboveDebug().includes('mapUsers[2].userarn is not a usable IAM ARN; row skipped'), 'the bad row skipped');
    expect(aboveDebug()).not.toMatch(/wildcard-operator|\/\*/);
    expect(log.entries().find((e) => e.level === 'debug' && String(e.detail).includes(rejected))).toBeDefined();
    expect(await readyz()).not.toMatch(/arn:aws|wildcard-operator|444455556666/);

    // A version that does not parse is rejected whole: /readyz names the source and the place, never the content.
    writeFileSync(file, `${LEAK_MAPPING}  - userarn: [${rejected}\n`);
    await eventually(async () => (await readyz()).includes('latest version rejected'), 'the bad edit rejected');
    const text = await readyz();
    expect(text).toContain(`(latest version rejected: file:${file} is not valid YAML at line`);
    expect(text).not.toMatch(/arn:aws|wildcard-operator|444455556666/);
    const metrics = (await request(`${server.opsUrl}/metrics`)).text;
    expect(metrics).not.toMatch(/arn:aws|wildcard-operator/);
    expect(aboveDebug()).not.toContain(rejected);
  });
});
