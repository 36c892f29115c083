/**
 * `eksauth server --kubeconfig-pregenerated` leaves the webhook kubeconfig alone, but says at start when that file
 * would send kube-apiserver to another port than the one the webhook listens on (every review would fail in
 * kube-apiserver's log, not in ours), and says nothing when they agree.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEksauth } from '../support/eksauth.js';
import { freePort, tempDir } from '../support/tools.js';
import { eventually, spawnServer } from './helpers.js';

async function startedOutput(args: string[]): Promise<string> {
  const server = spawnServer(args);
  try {
    await eventually(() => server.output().includes('eksauth server listening'), `the server to listen (output: ${server.output()})`);
    return server.output();
  } finally {
    server.stop();
    await server.exited;
  }
}

describe('server --kubeconfig-pregenerated', () => {
  it('warns when the kubeconfig names another port, and not when it names this one', async () => {
    const dir = tempDir('eksauth-pregenerated-');
    const [initPort, otherPort] = [await freePort(), await freePort()];
    const kubeconfig = join(dir, 'webhook.yaml');
    const shared = ['-i', 'prod', '--state-dir', join(dir, 'state'), '--generate-kubeconfig', kubeconfig];
    const init = await runEksauth(['server', 'init', ...shared, '--port', String(initPort)]);
    expect(init.code, init.stderr).toBe(0);
    shared.push('--ops-port', 'off', '--backend-mode', 'MountedFile');

    const other = await startedOutput([...shared, '--port', String(otherPort), '--kubeconfig-pregenerated']);
    expect(other).toContain(
      `--kubeconfig-pregenerated: the webhook kubeconfig ${kubeconfig} sends kube-apiserver to port ${initPort} (https://127.0.0.1:${initPort}/authenticate), but the webhook listens on port ${otherPort}; pass --port ${initPort}, or run \`eksauth server init\` again with --port ${otherPort}`,
    );
    const same = await startedOutput([...shared, '--port', String(initPort), '--kubeconfig-pregenerated']);
    expect(same).not.toContain('--kubeconfig-pregenerated:');
  });

  it('warns when there is no kubeconfig to leave alone', async () => {
    const dir = tempDir('eksauth-pregenerated-');
    const missing = join(dir, 'none.yaml');
    const output = await startedOutput(['-i', 'prod', '--state-dir', join(dir, 'state'), '--generate-kubeconfig', missing, '--ops-port', 'off', '--backend-mode', 'MountedFile', '--port', String(await freePort()), '--kubeconfig-pregenerated']);
    expect(output).toContain(`--kubeconfig-pregenerated: the webhook kubeconfig ${missing} cannot be read (ENOENT), so kube-apiserver has none; run \`eksauth server init\` with the same settings`);
  });
});
