/**
 * The `@example` of every public function and class, run as the program a user would paste (build first).
 *
 * The public API is read from the build as users get it: each entry of package.json `exports`, its functions and
 * classes from the module itself, their doc comments from its `.d.ts` (TypeScript's own JSDoc reader). One without an
 * `@example` fails the first test, so an export cannot be added undocumented.
 *
 * Each example runs as an ES module (`node file.mjs`) whose `eksauth/…` imports resolve to this package's build
 * through its `exports` (the file lives inside the package, as a user's would under node_modules), in a directory of
 * its own, which is also HOME, against a world of its own: the STS/EKS emulator (demo identities: alice's keys in the
 * environment, role eks-admin, clusters prod and staging in eu-west-1 and edge in us-west-2), the test API server as
 * cluster prod, and an EC2 stand-in for DescribeInstances. Files an example may read, in its directory:
 * `.kube/config` (written by update-kubeconfig for prod), `mapping.yaml` and `config.yaml` (aws-auth rows for alice;
 * a server config file), `providers.json` and `cluster-profile.json` (a cluster-inventory providers file and prod's
 * ClusterProfile). prod has one access entry, role eks-admin in group `admins` with AmazonEKSViewPolicy.
 *
 * What an example prints is written after it as `// → line`, `…` standing for any text; stdout must be those lines.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { associateAccessPolicy, createAccessEntry } from '../../src/aws/access-entries.js';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { updateKubeconfig } from '../../src/kubeconfig/update.js';
import { createSelfSignedCertificate } from '../../src/server/tls.js';
import { emulatorAuthenticator, startTestApiServer, type TestApiServer } from '../../src/testbed/apiserver.js';
import { describeInstancesXml, instanceIdsOf, startRecorder, type Recorder } from '../support/aws-recorder.js';
import { cleanEnv, runCommand, tempDir } from '../support/tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const [alice] = DEMO_EMULATOR_CONFIG.identities;
const ALICE_KEYS = { accessKeyId: alice!.accessKeyId, secretAccessKey: alice!.secretAccessKey };
const REGION = 'eu-west-1';

interface PublicEntry {
  /** `eksauth` or `eksauth/<subpath>`. */
  specifier: string;
  js: string;
  dts: string;
}

/** The entries of package.json `exports` (all but package.json itself), as built. */
function publicEntries(): PublicEntry[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, { import?: string; types?: string }> };
  return Object.entries(pkg.exports)
    .filter(([, target]) => typeof target === 'object' && target.types !== undefined)
    .map(([subpath, target]) => ({ specifier: `${pkg.name}${subpath.slice(1)}`, js: join(ROOT, target.import!), dts: join(ROOT, target.types!) }));
}

interface DocExample {
  /** `eksauth/verify: verifyToken` */
  label: string;
  code: string;
}

/** The code of each `@example` of each export, from the declarations (no type checking: the build did that). */
function examplesOf(entries: PublicEntry[]): Map<string, string[]> {
  const libDir = join(ROOT, 'dist/lib');
  const files = readdirSync(libDir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.d.ts')).map((file) => join(libDir, file));
  const program = ts.createProgram(files, { noResolve: true, noLib: true, types: [], module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext });
  const checker = program.getTypeChecker();
  const found = new Map<string, string[]>();
  for (const entry of entries) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(entry.dts)!)!;
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const examples = symbol.getJsDocTags(checker).filter((tag) => tag.name === 'example').map((tag) => codeOf(ts.displayPartsToString(tag.text)));
      found.set(`${entry.specifier}: ${exported.name}`, examples);
    }
  }
  return found;
}

/** The fenced block of an `@example`, or all of it when it has no fence. */
function codeOf(text: string): string {
  return /```[a-z]*\n([\s\S]*?)```/.exec(text)?.[1] ?? text;
}

/** What the example says it prints: its `// → …` comments, in order, as patterns. */
function expectedOutput(code: string): RegExp[] {
  return [...code.matchAll(/\/\/ → (.*)$/gm)].map((m) => new RegExp(`^${m[1]!.trimEnd().split('…').map(escapeRegExp).join('.*')}$`));
}

function fileNameOf(label: string): string {
  return label.replace(/\W+/g, '-');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const entries = publicEntries();
const documented = examplesOf(entries);
/** Every public function and class, by the module's own exports at run time (so a `const f = () => …` counts too). */
const publicCallables = (
  await Promise.all(entries.map(async (entry) => {
    const module = (await import(pathToFileURL(entry.js).href)) as Record<string, unknown>;
    return Object.keys(module).filter((name) => typeof module[name] === 'function').map((name) => `${entry.specifier}: ${name}`);
  }))
).flat();
// One run per distinct example, under the first entry that exports it: a re-export shares its doc comment.
const examples: DocExample[] = [];
for (const label of publicCallables) {
  for (const code of documented.get(label) ?? []) if (!examples.some((example) => example.code === code)) examples.push({ label, code });
}

describe('doc comment examples of the public API (build first)', { timeout: 120_000 }, () => {
  it('every public function and class has an @example that says what it prints', () => {
    expect(publicCallables.length).toBeGreaterThan(50);
    expect(publicCallables.filter((label) => (documented.get(label) ?? []).length === 0)).toEqual([]);
    expect(examples.filter((example) => expectedOutput(example.code).length === 0).map((example) => example.label)).toEqual([]);
  });

  let scripts: string;
  let sharedTls: { certPem: string; keyPem: string; caPem: string };
  let ec2: Recorder;
  beforeAll(async () => {
    // Inside the package (the ignored .tmp/), so that `eksauth/…` resolves to this build by the package's own name.
    scripts = join(ROOT, '.tmp', `doc-examples-${process.pid}`);
    mkdirSync(scripts, { recursive: true });
    const certificate = await createSelfSignedCertificate({ commonName: 'eksauth-test-apiserver', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], days: 2 });
    sharedTls = { ...certificate, caPem: certificate.certPem };
    ec2 = await startRecorder(async (_request, body) => ({ status: 200, body: describeInstancesXml(instanceIdsOf(body), REGION) }));
  });
  afterAll(async () => {
    rmSync(scripts, { recursive: true, force: true });
    await ec2?.close();
  });

  it('every example type-checks, strict, against the published declarations', () => {
    const files = examples.map(({ label, code }) => {
      const file = join(scripts, `${fileNameOf(label)}.mts`);
      writeFileSync(file, code);
      return file;
    });
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2023.d.ts'], types: ['node'], strict: true, noEmit: true, skipLibCheck: true,
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(problems).toEqual([]);
  });

  it.each(examples)('$label', async ({ label, code }) => {
    const world = await startWorld(sharedTls);
    try {
      const script = join(scripts, `${fileNameOf(label)}.mjs`);
      writeFileSync(script, code);
      const run = await runCommand(process.execPath, [script], { cwd: world.home, env: world.env(ec2.url) });
      expect(run.code, `${label} failed:\n${run.stderr}`).toBe(0);
      const printed = run.stdout.split('\n').slice(0, -1);
      expect(printed, run.stderr).toEqual(expectedOutput(code).map((pattern) => expect.stringMatching(pattern)));
    } finally {
      await world.close();
    }
  });
});

interface World {
  home: string;
  env(ec2Url: string): Record<string, string>;
  close(): Promise<void>;
}

/** A fresh emulator and API server for one example (examples create and delete access entries), and its files. */
async function startWorld(tls: { certPem: string; keyPem: string; caPem: string }): Promise<World> {
  let emulator: Emulator | undefined;
  const api: TestApiServer = await startTestApiServer({ tls, authenticate: (token) => emulatorAuthenticator({ clusterId: 'prod', stsEndpoint: emulator!.url })(token) });
  const prod = { name: 'prod', region: REGION, endpoint: api.url, certificateAuthorityData: Buffer.from(api.caPem).toString('base64') };
  emulator = await startEmulator(
    { ...DEMO_EMULATOR_CONFIG, clusters: [prod, ...(DEMO_EMULATOR_CONFIG.clusters ?? []).filter((cluster) => cluster.name !== 'prod')] },
    { certificateAuthority: { certPem: tls.caPem } },
  );
  const eks = { region: REGION, credentials: ALICE_KEYS, endpoint: emulator.url };
  const admin = 'arn:aws:iam::111122223333:role/eks-admin';
  await createAccessEntry('prod', { principalArn: admin, kubernetesGroups: ['admins'] }, eks);
  await associateAccessPolicy('prod', admin, 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy', { type: 'cluster' }, eks);
  const home = tempDir('eksauth-doc-example-');
  await updateKubeconfig({ name: 'prod', region: REGION, kubeconfig: join(home, '.kube/config'), credentials: ALICE_KEYS, endpointUrl: emulator.url });
  writeFixtures(home, api);
  return {
    home,
    env: (ec2Url) => cleanEnv({
      HOME: home,
      AWS_ACCESS_KEY_ID: alice!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: alice!.secretAccessKey,
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL_STS: emulator!.url,
      AWS_ENDPOINT_URL_EKS: emulator!.url,
      AWS_ENDPOINT_URL_EC2: ec2Url,
      // The SDK's notice on Node 20, printed by the user's program when it loads the SDK; not the example's to silence.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    }),
    close: async () => {
      await api.close();
      await emulator?.close();
    },
  };
}

const MAPPING = 'mapUsers:\n  - userarn: arn:aws:iam::111122223333:user/alice\n    username: alice\n    groups: [developers]\n';

function writeFixtures(home: string, api: TestApiServer): void {
  writeFileSync(join(home, 'mapping.yaml'), MAPPING);
  writeFileSync(join(home, 'config.yaml'), `clusterID: prod\nserver:\n  port: 21362\n  stateDir: /var/eksauth\n${MAPPING.replace(/^/gm, '  ').trimEnd()}\n`);
  writeFileSync(join(home, 'providers.json'), JSON.stringify({
    providers: [
      { name: 'gke', execConfig: { apiVersion: 'client.authentication.k8s.io/v1', command: 'gke-gcloud-auth-plugin' } },
      { name: 'eks', execConfig: { apiVersion: 'client.authentication.k8s.io/v1', command: 'eksauth', args: ['token'], provideClusterInfo: true } },
    ],
  }, null, 2));
  writeFileSync(join(home, 'cluster-profile.json'), JSON.stringify({
    apiVersion: 'multicluster.x-k8s.io/v1alpha1',
    kind: 'ClusterProfile',
    metadata: { name: 'prod', namespace: 'fleet' },
    status: {
      accessProviders: [{
        name: 'eks',
        cluster: {
          server: api.url,
          'certificate-authority-data': Buffer.from(api.caPem).toString('base64'),
          extensions: [{ name: 'client.authentication.k8s.io/exec', extension: { clusterId: 'prod', region: REGION } }],
        },
      }],
    },
  }, null, 2));
}
