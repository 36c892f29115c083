import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parseMappingFile } from '../authn/mapping/file/mapping-file.js';
import { mapIdentity } from '../authn/mapping/map-identity.js';
import type { MappingSource } from '../authn/mapping/types.js';
import { verifyToken } from '../authn/verify.js';
import { DEMO_EMULATOR_CONFIG } from '../emulator/config.js';
import { startEmulator, type Emulator } from '../emulator/server.js';
import { isEksAuthError } from '../errors.js';
import { EXEC_API_V1 } from '../exec/exec-info.js';
import { decodeToken } from '../token/format.js';
import { showWholeChain } from './demo-chain.js';
import { selfCommand } from './self.js';

const run = promisify(execFile);
const CLUSTER = 'demo-cluster';
const REGION = 'eu-west-1';
/** The aws-auth rows a cluster admin would write for the demo identities. */
export const DEMO_MAPPING = `
mapUsers:
  - userarn: arn:aws:iam::111122223333:user/alice
    username: alice
    groups: [developers]
mapRoles:
  - rolearn: arn:aws:iam::111122223333:role/eks-admin
    username: "admin:{{SessionName}}"
    groups: [system:masters]
`;

/**
 * `eksauth demo`: the chain on local defaults. Starts the STS emulator, runs the real `eksauth token` the way kubectl
 * does, decodes the token, verifies it as a cluster would (strict validation, then the emulator says who signed it)
 * and maps the identity to a Kubernetes user, for a user and for an assumed role.
 */
export async function runDemo(): Promise<void> {
  const emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
  try {
    say(`STS emulator listening on ${emulator.url} (checks SigV4 signatures for real)\n`);
    const [alice] = DEMO_EMULATOR_CONFIG.identities;
    if (alice === undefined) throw new Error('the demo configuration has no identities');
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: alice.accessKeyId,
      AWS_SECRET_ACCESS_KEY: alice.secretAccessKey,
      AWS_ENDPOINT_URL_STS: emulator.url,
      AWS_EC2_METADATA_DISABLED: 'true',
      KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion: EXEC_API_V1, kind: 'ExecCredential', spec: { interactive: false } }),
    };
    await showToken(emulator, ['token', '--cluster-name', CLUSTER, '--region', REGION], env, `as ${alice.arn}`);
    const role = DEMO_EMULATOR_CONFIG.roles?.[0];
    if (role !== undefined) {
      await showToken(emulator, ['token', '--cluster-name', CLUSTER, '--region', REGION, '--role-arn', role.arn], env, `assuming ${role.arn}`);
    }
    // The whole chain through kubectl, an API server and the webhook (src/cli/demo-chain.ts).
    await showWholeChain({
      emulator, cluster: CLUSTER, region: REGION, mapping: DEMO_MAPPING, credentials: alice, ...(role ? { roleArn: role.arn } : {}),
    });
  } finally {
    await emulator.close();
  }
}

async function showToken(emulator: Emulator, args: string[], env: NodeJS.ProcessEnv, label: string): Promise<void> {
  say(`$ eksauth ${args.join(' ')}    # ${label}`);
  const self = selfCommand();
  const { stdout } = await run(self.command, [...self.args, ...args], { env });
  const credential = JSON.parse(stdout) as { apiVersion: string; status: { token: string; expirationTimestamp: string } };
  say(`  ExecCredential ${credential.apiVersion}, expires ${credential.status.expirationTimestamp}`);
  describeUrl(new URL(decodeToken(credential.status.token) ?? ''));
  const { identity } = await verifyToken(credential.status.token, { clusterId: CLUSTER, stsEndpoint: emulator.url });
  say(`  STS says: ${identity.arn} (account ${identity.accountId}, user id ${identity.userId})`);
  const mapped = await mapIdentity(identity, [DEMO_SOURCE]);
  say(mapped.mapped
    ? `  Kubernetes user: ${mapped.user.username}, groups ${mapped.user.groups.join(', ')} (uid ${mapped.user.uid})`
    : `  not mapped: ${mapped.reason}`);
  await showReplayRefused(credential.status.token, emulator);
  say('');
}

// Shows the parts of the presigned URL a person can check; the signature and session token stay hidden.
function describeUrl(url: URL): void {
  const q = url.searchParams;
  say(`  token → GET https://${url.host}/ Action=${q.get('Action')} X-Amz-Date=${q.get('X-Amz-Date')}`);
  say(`          SignedHeaders=${q.get('X-Amz-SignedHeaders')} Expires=${q.get('X-Amz-Expires')} ` +
    `Credential=${q.get('X-Amz-Credential')?.split('/').slice(1).join('/')} ` +
    `session token: ${q.has('X-Amz-Security-Token') ? 'yes (hidden)' : 'no'}`);
}

const DEMO_SOURCE: MappingSource = parseMappingFile(DEMO_MAPPING, 'demo mapping');

async function showReplayRefused(token: string, emulator: Emulator): Promise<void> {
  try {
    await verifyToken(token, { clusterId: 'another-cluster', stsEndpoint: emulator.url });
    say('  replay against another-cluster: ACCEPTED (unexpected)');
  } catch (err) {
    if (!isEksAuthError(err)) throw err;
    say(`  replay against another-cluster: refused (${err.code})`);
  }
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
