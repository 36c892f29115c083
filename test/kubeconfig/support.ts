/** Fixtures and a described cluster shared by the kubeconfig unit tests. */
import { readFileSync } from 'node:fs';
import type { EksCluster } from '../../src/aws/eks.js';

/** The text of test/kubeconfig/fixtures/<name>. */
export function fixture(name: string): string {
  return readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
}

export const PROD: EksCluster = {
  name: 'prod',
  arn: 'arn:aws:eks:eu-west-1:111122223333:cluster/prod',
  endpoint: 'https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com',
  certificateAuthorityData: 'TkVXQ0E=',
  status: 'ACTIVE',
};

export const EDGE: EksCluster = {
  name: 'edge',
  arn: 'arn:aws:eks:us-west-2:111122223333:cluster/edge',
  endpoint: 'https://10.0.12.34',
  certificateAuthorityData: 'RURHRUNB',
  status: 'ACTIVE',
  id: '7f2a9c1e-4b6d-4e8f-9a0b-1c2d3e4f5a6b',
  outpostConfig: { outpostArns: ['arn:aws:outposts:us-west-2:111122223333:outpost/op-0123456789abcdef0'], controlPlaneInstanceType: 'm5.large' },
};
