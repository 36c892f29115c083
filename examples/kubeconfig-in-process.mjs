// Uses an existing kubeconfig, say one written by `aws eks update-kubeconfig` or `eksauth update-kubeconfig`, and
// serves its `eksauth token` / `aws eks get-token` exec users in process instead of spawning one process per token.
//
//   KUBECONFIG=~/.kube/config node examples/kubeconfig-in-process.mjs
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createEksAuthenticator, useEksAuthenticator } from 'eksauth/client-node';

const kc = new KubeConfig();
kc.loadFromDefault();
const switched = useEksAuthenticator(kc, createEksAuthenticator());
console.error(`serving ${switched} EKS user(s) in process`);
const { items } = await kc.makeApiClient(CoreV1Api).listNamespace();
for (const namespace of items) console.log(namespace.metadata?.name);
