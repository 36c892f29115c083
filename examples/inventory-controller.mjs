// A multi-cluster controller's start: one client per cluster of a cluster inventory, from the ClusterProfiles (JSON
// files here; a controller would list them from its hub cluster) and the providers file that says how to get
// credentials (cluster-inventory-api's --clusterprofile-provider-file). EKS clusters are authenticated in process,
// sharing one authenticator; other providers run their exec plugin.
//
//   CLUSTER_PROFILES=prod.json,staging.json PROVIDERS_FILE=providers.json node examples/inventory-controller.mjs
import { readFile } from 'node:fs/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { clusterKubeConfig, createEksAuthenticator, loadProvidersFile } from 'eksauth/inventory';

const providers = await loadProvidersFile(process.env.PROVIDERS_FILE ?? 'clusterprofile-provider-file.json');
const authenticator = createEksAuthenticator();
for (const file of (process.env.CLUSTER_PROFILES ?? '').split(',').filter(Boolean)) {
  const profile = JSON.parse(await readFile(file, 'utf8'));
  const core = clusterKubeConfig(profile, providers, { authenticator }).makeApiClient(CoreV1Api);
  const { items } = await core.listNamespace();
  console.log(`${profile.metadata.name}: ${items.map((namespace) => namespace.metadata?.name).join(' ')}`);
}
