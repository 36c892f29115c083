/**
 * Conformance with aws-iam-authenticator's backends, one row per behaviour: what eksauth server answers (over HTTP,
 * or as the CLI exits) beside what the reference does, with the reference code that does it. Rows that differ on
 * purpose say so in `reference` and the README's "Migrating from aws-iam-authenticator".
 */
import { exitStatusOf } from '../../src/errors.js';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ServerConfigInput } from '../../src/server/config.js';
import type { RunningServer } from '../../src/server/run.js';
import { runEksauth } from '../support/eksauth.js';
import { tempDir } from '../support/tools.js';
import { ALICE, BOB, eventually, logSink, review, spawnServer } from './helpers.js';
import { CLUSTER, readyz, useMappingServers } from './mapping-servers.js';

const ALICE_ACCOUNT = '111122223333';
const dynamic = (doc: object): string => {
  const file = join(tempDir(), 'dynamic.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
};
const aliceRow = (extra: object = {}) => ({ userarn: ALICE.arn, username: 'alice-dyn', groups: [], ...extra });

/** The part of each start failure's one line that says which check refused it. */
const REFUSALS = ['is not a valid mode', 'lists a backend twice', 'includes DynamicFile but dynamicfilepath is not set',
  'is set but backendMode does not include DynamicFile', 'Cannot reach the Kubernetes API for the EKSConfigMap backend',
  'Cannot reach the Kubernetes API for the CRD backend'];

interface Row {
  behaviour: string;
  /** What aws-iam-authenticator does, and where. */
  reference: string;
  expected: string;
  observe: () => Promise<string>;
}

describe('conformance with aws-iam-authenticator: backends', () => {
  const { env, start, accessTo } = useMappingServers();
  /** `200 <username>` or the status of alice's review. */
  const answerFor = async (server: RunningServer, token = env.tokens.alice): Promise<string> => {
    const answer = await review(server, token);
    return answer.status === 200 ? `200 ${answer.body.status?.user?.username ?? ''}` : String(answer.status);
  };
  const serve = async (settings: ServerConfigInput, token?: string): Promise<string> => {
    const server = await start(settings);
    await eventually(() => server.ready(), 'ready');
    return answerFor(server, token);
  };
  const cliStart = async (args: string[]): Promise<string> => {
    const result = await runEksauth(['server', '-i', CLUSTER, '--port', '0', '--ops-port', 'off', '--state-dir', join(tempDir(), 's'), ...args],
      { env: { KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: undefined }, timeoutMs: 30_000 });
    const reason = REFUSALS.find((phrase) => result.stderr.includes(phrase));
    return result.code === exitStatusOf('ERR_INVALID_CONFIG') && reason !== undefined ? `refused: ${reason}` : `exit ${String(result.code)}: ${result.stderr.slice(-300)}`;
  };

  const refusedAtStart = (behaviour: string, reference: string, reason: string, args: string[]): Row =>
    ({ behaviour, reference, expected: `refused: ${reason}`, observe: () => cliStart(args) });

  const rows: Row[] = [
    {
      behaviour: 'DynamicFile: a row matches on the canonical ARN, the userid unused',
      reference: 'dynamicfile/mapper.go Map: key = lower-cased canonical ARN unless dynamicfileUserIDStrict',
      expected: '200 alice-dyn',
      observe: () => serve({ backendMode: ['DynamicFile'], dynamicFilePath: dynamic({ mapUsers: [aliceRow({ userid: 'AIDASOMEONEELSE00001' })] }) }),
    },
    {
      behaviour: 'DynamicFile strict: a row matches on the principal id (userid)',
      reference: 'dynamicfile/mapper.go Map: key = identity.UserID (the principal id)',
      expected: '200 alice-dyn',
      observe: () => serve({ backendMode: ['DynamicFile'], dynamicFileUserIdStrict: true, dynamicFilePath: dynamic({ mapUsers: [aliceRow({ userid: ALICE.userId })] }) }),
    },
    {
      behaviour: 'DynamicFile strict: the same name with another principal id (deleted and re-created) is refused',
      reference: 'dynamicfile/mapper.go Map: no row under the new id → ErrNotMapped → 403',
      expected: '403',
      observe: () => serve({ backendMode: ['DynamicFile'], dynamicFileUserIdStrict: true, dynamicFilePath: dynamic({ mapUsers: [aliceRow({ userid: 'AIDAOLDALICE00000001' })] }) }),
    },
    {
      behaviour: 'DynamicFile strict: the principal id with another ARN (renamed) is refused',
      reference: 'dynamicfile/mapper.go match: ARN given and not the caller\'s → ErrIDAndARNMismatch → 403',
      expected: '403',
      observe: () => serve({ backendMode: ['DynamicFile'], dynamicFileUserIdStrict: true, dynamicFilePath: dynamic({ mapUsers: [{ userarn: BOB.arn, username: 'x', userid: ALICE.userId }] }) }),
    },
    {
      behaviour: 'DynamicFile strict: a row with a userid and no ARN matches that principal',
      reference: 'dynamicfile/mapper.go match: an empty ARN is not compared',
      expected: '200 by-id',
      observe: () => serve({ backendMode: ['DynamicFile'], dynamicFileUserIdStrict: true, dynamicFilePath: dynamic({ mapUsers: [{ username: 'by-id', userid: ALICE.userId }] }) }),
    },
    {
      behaviour: 'DynamicFile: a row without its key refuses the file; at start that maps nobody',
      reference: 'dynamicfile.go CallBackForFileLoad: a row with no userarn/rolearn (userid when strict) → ErrParsingMap, saveMap not called',
      expected: '403',
      observe: () => serve({ backendMode: ['DynamicFile'], dynamicFilePath: dynamic({ mapUsers: [aliceRow(), { username: 'keyless' }] }) }),
    },
    {
      behaviour: 'DynamicFile strict: a row without userid refuses the file, even when the others are good',
      reference: 'dynamicfile.go CallBackForFileLoad: key = userid when userIDStrict; empty → ErrParsingMap',
      expected: '403',
      observe: () => serve({ backendMode: ['DynamicFile'], dynamicFileUserIdStrict: true, dynamicFilePath: dynamic({ mapUsers: [aliceRow({ userid: ALICE.userId }), { userarn: BOB.arn, username: 'bob' }] }) }),
    },
    {
      behaviour: 'DynamicFile: mapAccounts maps every principal of the account to its own ARN',
      reference: 'server.go doMapping: IsAccountAllowed → username = canonical ARN, no groups',
      expected: `200 ${ALICE.arn}`,
      observe: () => serve({ backendMode: ['DynamicFile'], dynamicFilePath: dynamic({ mapAccounts: [ALICE_ACCOUNT] }) }),
    },
    {
      behaviour: 'DynamicFile: bookkeeping fields (Version, LastUpdatedDateTime, ClusterId) are ignored',
      reference: 'dynamicfile.go DynamicFileData: json.Unmarshal ignores ClusterId; Version and LastUpdatedDateTime feed a metric',
      expected: '200 alice-dyn',
      observe: () => serve({ backendMode: ['DynamicFile'], dynamicFilePath: dynamic({ Version: '7', LastUpdatedDateTime: '1733130000', ClusterId: 'x', mapUsers: [aliceRow()] }) }),
    },
    {
      behaviour: 'DynamicFile: an absent file maps nobody (and does not stop the server)',
      reference: 'fileutil StartLoadDynamicFile: waits for the file; the mapper maps nobody meanwhile',
      expected: '403',
      observe: () => serve({ backendMode: ['DynamicFile'], dynamicFilePath: join(tempDir(), 'not-yet.json') }),
    },
    {
      behaviour: 'DynamicFile: a deleted file maps nobody',
      reference: 'dynamicfile.go CallBackForFileDeletion: saves empty maps',
      expected: '403',
      observe: async () => {
        const file = dynamic({ mapUsers: [aliceRow()] });
        const server = await start({ backendMode: ['DynamicFile'], dynamicFilePath: file });
        rmSync(file);
        await eventually(async () => (await answerFor(server)) === '403', 'the deletion');
        return answerFor(server);
      },
    },
    {
      behaviour: 'DynamicFile: a version that does not parse leaves the last one in service',
      reference: 'dynamicfile.go CallBackForFileLoad: an error returns before saveMap',
      expected: '200 alice-dyn',
      observe: async () => {
        const file = dynamic({ mapUsers: [aliceRow()] });
        const server = await start({ backendMode: ['DynamicFile'], dynamicFilePath: file });
        writeFileSync(file, '{"mapUsers": [{"username": "no-arn"}');
        await eventually(async () => (await readyz(server)).text.includes('latest version rejected'), 'the new version refused');
        return answerFor(server);
      },
    },
    {
      behaviour: 'CRD: an IAMIdentityMapping maps its ARN to its username and groups',
      reference: 'crd/mapper.go Map: index canonicalARN → spec.username, spec.groups',
      expected: '200 bob-crd',
      observe: async () => {
        env.api.identityMappings.put('', 'conformance-bob', { arn: BOB.arn, username: 'bob-crd', groups: ['g'] });
        const server = await start({ backendMode: ['CRD'] });
        await eventually(async () => (await answerFor(server, env.tokens.bob)) === '200 bob-crd', 'the resource');
        return answerFor(server, env.tokens.bob);
      },
    },
    {
      behaviour: '--master replaces the kubeconfig\'s API server address',
      reference: 'crd/mapper.go, configmap/client: clientcmd.BuildConfigFromFlags(cfg.Master, cfg.Kubeconfig)',
      expected: '200 bob-crd',
      observe: async () => {
        env.api.identityMappings.put('', 'conformance-bob', { arn: BOB.arn, username: 'bob-crd', groups: ['g'] });
        const server = await start({ backendMode: ['CRD'], master: env.api.url }, logSink(), accessTo('https://127.0.0.1:9'));
        await eventually(() => server.ready(), 'listed through --master');
        return answerFor(server, env.tokens.bob);
      },
    },
    {
      behaviour: 'Backends in order: the first with a row wins',
      reference: 'server.go doMapping: mappers in backend-mode order, first mapping returned',
      expected: '200 bob-crd',
      observe: async () => {
        const server = await start({ backendMode: ['CRD', 'DynamicFile'], dynamicFilePath: dynamic({ mapUsers: [{ userarn: BOB.arn, username: 'bob-dyn' }] }) });
        await eventually(async () => (await answerFor(server, env.tokens.bob)) === '200 bob-crd', 'CRD first');
        return answerFor(server, env.tokens.bob);
      },
    },
    {
      behaviour: 'Backends in order: an earlier backend\'s mapAccounts beats a later backend\'s row',
      reference: 'server.go doMapping: IsAccountAllowed is asked of each mapper before the next one',
      expected: `200 ${BOB.arn}`,
      observe: () => serve({ backendMode: ['DynamicFile', 'CRD'], dynamicFilePath: dynamic({ mapAccounts: [ALICE_ACCOUNT] }) }, env.tokens.bob),
    },
    {
      behaviour: 'Backend-mode file: its backendMode replaces the configured one at start',
      reference: 'server.go CallBackForFileLoad: rebuilds the chain when backendMode differs',
      expected: '200 alice-dyn',
      observe: () => {
        const modes = join(tempDir(), 'mode.json');
        writeFileSync(modes, JSON.stringify({ backendMode: 'DynamicFile', Version: '1', LastUpdatedDateTime: '1733130000' }));
        return serve({ backendMode: ['MountedFile', 'DynamicFile'], dynamicFilePath: dynamic({ mapUsers: [aliceRow()] }), dynamicBackendModePath: modes });
      },
    },
    {
      behaviour: 'Backend-mode file: one that does not parse at start leaves the configured backends',
      reference: 'server.go New: the chain is built from cfg.BackendMode; CallBackForFileLoad then fails and changes nothing',
      expected: '200 alice-dyn',
      observe: () => {
        const modes = join(tempDir(), 'mode.json');
        writeFileSync(modes, '{"backendMode": "LDAP"}');
        return serve({ backendMode: ['DynamicFile'], dynamicFilePath: dynamic({ mapUsers: [aliceRow()] }), dynamicBackendModePath: modes });
      },
    },
    {
      behaviour: 'Backend-mode file: deleted → the configured backends again',
      reference: 'server.go CallBackForFileDeletion: BuildMapperChain(cfg.BackendMode)',
      expected: '200 alice-dyn',
      observe: async () => {
        const modes = join(tempDir(), 'mode.json');
        writeFileSync(modes, JSON.stringify({ backendMode: 'CRD' }));
        const server = await start({ backendMode: ['MountedFile', 'DynamicFile'], dynamicFilePath: dynamic({ mapUsers: [aliceRow()] }), dynamicBackendModePath: modes });
        await eventually(() => server.ready(), 'the CRD listed');
        expect(await answerFor(server)).toBe('403'); // no IAMIdentityMapping for alice
        rmSync(modes);
        await eventually(async () => (await answerFor(server)) === '200 alice-dyn', 'the configured backends');
        return answerFor(server);
      },
    },
    {
      behaviour: 'Backend-mode file: a file that does not parse leaves the current backends',
      reference: 'server.go CallBackForFileLoad: json.Unmarshal error returned, mapper kept',
      expected: '200 alice-dyn',
      observe: async () => {
        const modes = join(tempDir(), 'mode.json');
        const log = logSink();
        const server = await start({ backendMode: ['DynamicFile'], dynamicFilePath: dynamic({ mapUsers: [aliceRow()] }), dynamicBackendModePath: modes }, log);
        writeFileSync(modes, '{"backendMode": ');
        await eventually(() => log.entries().some((e) => e.msg === 'backend-mode file not applied (keeping the current backends)'), 'the file refused');
        return answerFor(server);
      },
    },
    // Every name parses; what stops it is the next check, reaching the API outside a pod (the last row).
    refusedAtStart('--backend-mode takes every reference mode, comma-separated, deprecated names included',
      'mapper.go ValidBackendModeChoices: File, ConfigMap, MountedFile, EKSConfigMap, CRD, DynamicFile',
      'Cannot reach the Kubernetes API for the EKSConfigMap backend', ['--backend-mode', 'File,ConfigMap,CRD']),
    {
      behaviour: 'The deprecated names File and ConfigMap work, with a warning',
      reference: 'mapper.go ValidateBackendMode: "warning: backend-mode %q is deprecated, use %q instead"',
      expected: 'backend-mode "File" is deprecated, use "MountedFile" instead',
      observe: async () => {
        const server = spawnServer(['-i', CLUSTER, '--port', '0', '--ops-port', 'off', '--state-dir', join(tempDir(), 's'), '--backend-mode', 'File']);
        await eventually(() => server.output().includes('eksauth server listening'), 'the server to listen').finally(() => server.stop());
        await server.exited;
        const logged = server.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: string; msg: string });
        return logged.find((entry) => entry.level === 'warn' && entry.msg.includes('deprecated'))?.msg ?? server.output();
      },
    },
    refusedAtStart('DynamicFile without dynamicfilepath does not start',
      'root.go getConfig: "dynamicfile is set in backend-mode but dynamicfilepath is not set" (Fatal)',
      'includes DynamicFile but dynamicfilepath is not set', ['--backend-mode', 'DynamicFile']),
    refusedAtStart('dynamicfilepath without DynamicFile does not start',
      'root.go getConfig: "dynamicfile is not set in backend-mode but dynamicfilepath is set" (Fatal)',
      'is set but backendMode does not include DynamicFile', ['--dynamicfile-path', '/d.json']),
    refusedAtStart('An unknown backend mode does not start',
      'mapper.go ValidateBackendMode: "backend-mode %q is not a valid mode"',
      'is not a valid mode', ['--backend-mode', 'LDAP']),
    refusedAtStart('A backend listed twice does not start',
      'mapper.go ValidateBackendMode: "backend-mode %q has duplicates"',
      'lists a backend twice', ['--backend-mode', 'CRD,CRD']),
    refusedAtStart('EKSConfigMap outside a pod without --kubeconfig does not start (no endless "Invalid URL" retries)',
      'configmap/client: rest.InClusterConfig fails outside a pod → "backend-mode creation failed" (Fatal)',
      'Cannot reach the Kubernetes API for the EKSConfigMap backend', ['--backend-mode', 'EKSConfigMap']),
    refusedAtStart('CRD outside a pod without --kubeconfig does not start',
      'crd/mapper.go NewCRDMapper: rest.InClusterConfig fails → "backend-mode creation failed" (Fatal)',
      'Cannot reach the Kubernetes API for the CRD backend', ['--backend-mode', 'CRD']),
  ];

  it.each(rows.map((row) => [row.behaviour, row] as const))('%s', async (_, row) => {
    expect(await row.observe(), row.reference).toBe(row.expected);
  });
});
