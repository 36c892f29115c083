/** eksauth/inventory: choosing the access provider and applying a profile's extensions as cluster-inventory-api does. */
import { describe, expect, it } from 'vitest';
import { clusterAccess, clusterKubeConfig, parseProvidersFile, type ClusterProfile, type ProvidersFile } from '../../src/api/inventory.js';

const cluster = (server: string, extensions: { name: string; extension: unknown }[] = []) => ({ server, 'certificate-authority-data': 'Q0E=', extensions });
const PROVIDERS: ProvidersFile = {
  providers: [
    { name: 'plugin', execConfig: { command: 'my-plugin', args: ['get'], env: [{ name: 'A', value: 'provider' }] }, profileSourcedCLIArgsPolicy: 'Append', profileSourcedEnvVarsPolicy: 'AppendIfNotExists' },
    { name: 'eks', execConfig: { command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'prod', '--region', 'eu-west-1'] } },
  ],
};

describe('clusterAccess', () => {
  it('takes the first provider of the file that the profile offers; accessProviders override credentialProviders', () => {
    const profile: ClusterProfile = {
      metadata: { name: 'c1' },
      status: { credentialProviders: [{ name: 'eks', cluster: cluster('https://old') }], accessProviders: [{ name: 'eks', cluster: cluster('https://new') }] },
    };
    expect(clusterAccess(profile, PROVIDERS)).toMatchObject({ name: 'c1', provider: 'eks', server: 'https://new', certificateAuthorityData: 'Q0E=' });
  });

  it('appends the profile’s args, and its env without overriding the provider’s (AppendIfNotExists) or over it (Replace)', () => {
    const extensions = [
      { name: 'clusterprofiles.multicluster.x-k8s.io/exec/additional-args', extension: ['--cluster', 'c1'] },
      { name: 'clusterprofiles.multicluster.x-k8s.io/exec/additional-envs', extension: { A: 'profile', B: 'profile' } },
    ];
    const profile: ClusterProfile = { metadata: { name: 'c1' }, status: { accessProviders: [{ name: 'plugin', cluster: cluster('https://c1', extensions) }] } };
    const access = clusterAccess(profile, PROVIDERS);
    expect(access.exec.args).toEqual(['get', '--cluster', 'c1']);
    expect(access.exec.env).toEqual([{ name: 'A', value: 'provider' }, { name: 'B', value: 'profile' }]);
    expect(access.exec.interactiveMode).toBe('Never');
    const replace: ProvidersFile = { providers: [{ ...PROVIDERS.providers[0]!, profileSourcedEnvVarsPolicy: 'Replace' }] };
    expect(clusterAccess(profile, replace).exec.env).toEqual([{ name: 'A', value: 'profile' }, { name: 'B', value: 'profile' }]);
    expect(PROVIDERS.providers[0]!.execConfig.args).toEqual(['get']); // the providers file is not changed
  });

  it('names the providers a profile offers when the file has none of them', () => {
    const profile: ClusterProfile = { metadata: { name: 'c1' }, status: { accessProviders: [{ name: 'gke', cluster: cluster('https://c1') }] } };
    expect(() => clusterAccess(profile, PROVIDERS)).toThrow(/ClusterProfile c1 offers none of the providers.*offers: gke/);
  });

  it('parseProvidersFile refuses a file without providers or without exec commands', () => {
    expect(() => parseProvidersFile('{}')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_CONFIG' }));
    expect(() => parseProvidersFile('{"providers":[{"name":"x"}]}')).toThrow(/providers\[0\] needs a "name" and an "execConfig"/);
  });
});

describe('clusterKubeConfig', () => {
  const profile = (name: string): ClusterProfile => ({ metadata: { name: 'c1' }, status: { accessProviders: [{ name, cluster: cluster('https://c1') }] } });

  it('an EKS provider is served in process; with authenticator: false it stays an exec plugin', () => {
    expect(clusterKubeConfig(profile('eks'), PROVIDERS).getCurrentUser()).toMatchObject({ authProvider: { name: 'eksauth', config: { clusterName: 'prod', region: 'eu-west-1' } } });
    expect(clusterKubeConfig(profile('eks'), PROVIDERS, { authenticator: false }).getCurrentUser()?.exec).toMatchObject({ command: 'aws' });
  });

  it('any other provider runs its exec plugin, as the reference library builds it', () => {
    const kc = clusterKubeConfig(profile('plugin'), PROVIDERS);
    expect(kc.getCurrentUser()?.exec).toMatchObject({ command: 'my-plugin', args: ['get'], interactiveMode: 'Never' });
    expect(kc.getCurrentCluster()).toMatchObject({ server: 'https://c1', caData: 'Q0E=' });
  });
});
