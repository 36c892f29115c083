/** The entries update-kubeconfig writes: aws-cli's names and key order, an exec block that runs eksauth or aws. */
import { describe, expect, it } from 'vitest';
import { buildKubeconfigEntries, renderNameTemplate } from '../../src/kubeconfig/entries.js';
import { EDGE, PROD } from './support.js';

// JSON.stringify compares key order too, which is part of "exactly as the reference builds them".
const ordered = (value: unknown): string => JSON.stringify(value);

describe('buildKubeconfigEntries', () => {
  it('builds aws-cli’s three entries, with an exec block that runs eksauth token', () => {
    const entries = buildKubeconfigEntries(PROD);
    expect(ordered(entries.cluster)).toBe(ordered({
      cluster: { 'certificate-authority-data': 'TkVXQ0E=', server: PROD.endpoint },
      name: PROD.arn,
    }));
    expect(ordered(entries.user)).toBe(ordered({
      name: PROD.arn,
      user: { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', args: ['token', '--cluster-name', 'prod', '--region', 'eu-west-1'], command: 'eksauth' } },
    }));
    expect(ordered(entries.context)).toBe(ordered({ context: { cluster: PROD.arn, user: PROD.arn }, name: PROD.arn }));
  });

  it('writes the aws CLI form for --exec-command aws, with --role for the role', () => {
    const { user } = buildKubeconfigEntries(PROD, { execCommand: 'aws', roleArn: 'arn:aws:iam::111122223333:role/eks-admin' });
    expect(ordered(user.user.exec)).toBe(ordered({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      args: ['--region', 'eu-west-1', 'eks', 'get-token', '--cluster-name', 'prod', '--output', 'json', '--role', 'arn:aws:iam::111122223333:role/eks-admin'],
      command: 'aws',
    }));
    expect(buildKubeconfigEntries(PROD, { execCommand: '/usr/local/bin/aws' }).user.user.exec.args[0]).toBe('--region');
  });

  it('passes the profile as an argument, not as an AWS_PROFILE env entry (aws-cli#7794), in both forms', () => {
    for (const execCommand of ['eksauth', 'aws']) {
      const { exec } = buildKubeconfigEntries(PROD, { execCommand, profile: 'prod-admin' }).user.user;
      expect(exec.args.slice(-2)).toEqual(['--profile', 'prod-admin']);
      expect(exec.env).toBeUndefined();
    }
  });

  it('names an Outposts local cluster by its id, the region coming from the ARN', () => {
    expect(buildKubeconfigEntries(EDGE).user.user.exec.args).toEqual(['token', '--cluster-id', EDGE.id, '--region', 'us-west-2']);
    expect(buildKubeconfigEntries(EDGE, { execCommand: 'aws' }).user.user.exec.args.slice(4, 6)).toEqual(['--cluster-id', EDGE.id]);
  });

  it('names a cluster whose outpostConfig has an etcdInstanceType by its name, as aws CLI v2 does', () => {
    const extended = { ...EDGE, outpostConfig: { ...EDGE.outpostConfig, etcdInstanceType: 'm5.large' } };
    expect(buildKubeconfigEntries(extended).user.user.exec.args).toEqual(['token', '--cluster-name', 'edge', '--region', 'us-west-2']);
    expect(buildKubeconfigEntries(extended, { execCommand: 'aws' }).user.user.exec.args.slice(4, 6)).toEqual(['--cluster-name', 'edge']);
  });

  it('writes --cluster-name as the name given, like aws-cli', () => {
    expect(buildKubeconfigEntries(PROD, { clusterName: 'PROD-alias' }).user.user.exec.args.slice(1, 3)).toEqual(['--cluster-name', 'PROD-alias']);
  });

  it('adds proxy-url after server, and names the context after the user alias unless --alias is given', () => {
    const entries = buildKubeconfigEntries(PROD, { proxyUrl: 'http://proxy:3128', userAlias: 'prod-admin' });
    expect(Object.keys(entries.cluster.cluster)).toEqual(['certificate-authority-data', 'server', 'proxy-url']);
    expect(entries.context).toEqual({ context: { cluster: PROD.arn, user: 'prod-admin' }, name: 'prod-admin' });
    expect(buildKubeconfigEntries(PROD, { userAlias: 'u', alias: 'ctx' }).context.name).toBe('ctx');
  });

  it('writes v1 with interactiveMode IfAvailable, or the mode asked for', () => {
    expect(buildKubeconfigEntries(PROD, { apiVersion: 'v1' }).user.user.exec).toMatchObject({ apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: 'IfAvailable' });
    expect(buildKubeconfigEntries(PROD, { apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: 'never' }).user.user.exec.interactiveMode).toBe('Never');
    expect(buildKubeconfigEntries(PROD, { interactiveMode: 'Always' }).user.user.exec).toMatchObject({ apiVersion: 'client.authentication.k8s.io/v1beta1', interactiveMode: 'Always' });
  });

  it.each([
    [{ apiVersion: 'v1alpha1' }, '--api-version v1alpha1 is not supported: use v1beta1 (the default, as aws-cli writes) or v1'],
    [{ interactiveMode: 'Sometimes' }, '--interactive-mode Sometimes is not valid: use Never, IfAvailable, Always'],
    [{ alias: '{cluster}-{zone}' }, 'unknown placeholder {zone} in "{cluster}-{zone}": use {cluster}, {region}, {account} or {arn}'],
  ])('refuses %j with ERR_USAGE', (options, message) => {
    expect(() => buildKubeconfigEntries(PROD, options)).toThrow(expect.objectContaining({ code: 'ERR_USAGE', message }));
  });
});

describe('renderNameTemplate', () => {
  it('fills in cluster, region, account and arn', () => {
    const vars = { cluster: 'prod', region: 'eu-west-1', account: '111122223333', arn: PROD.arn };
    expect(renderNameTemplate('{cluster}-{region}', vars)).toBe('prod-eu-west-1');
    expect(renderNameTemplate('{account}/{cluster}', vars)).toBe('111122223333/prod');
    expect(renderNameTemplate('plain', vars)).toBe('plain');
  });
});
