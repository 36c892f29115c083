// Lists the namespaces of an EKS cluster with @kubernetes/client-node, authenticated in process by eksauth: no
// kubeconfig, no exec plugin. The endpoint and CA come from DescribeCluster; tokens are re-signed before they expire.
//
//   CLUSTER_NAME=prod AWS_REGION=eu-west-1 node examples/list-namespaces.mjs
import { CoreV1Api } from '@kubernetes/client-node';
import { eksKubeConfig } from 'eksauth/client-node';

const kc = await eksKubeConfig({ clusterName: process.env.CLUSTER_NAME ?? 'prod', region: process.env.AWS_REGION });
const { items } = await kc.makeApiClient(CoreV1Api).listNamespace();
for (const namespace of items) console.log(namespace.metadata?.name);
