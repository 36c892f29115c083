import { describe, expect, it, vi } from 'vitest';
import { findTemplateProblem, isEc2InstanceId, renderTemplates, usesTemplate } from '../../../src/authn/mapping/templates.js';
import { EksAuthError } from '../../../src/errors.js';
import { ACCESS_KEY_ID, assumedRole, iamUser } from './identities.js';

const alice = assumedRole('Dev', 'alice@example.com');
const node = assumedRole('NodeRole', 'i-0123456789abcdef0');

describe('renderTemplates', () => {
  it('renders {{AccountID}}', async () => {
    expect(await renderTemplates(['acct-{{AccountID}}'], { identity: alice })).toEqual(['acct-111122223333']);
  });

  it('renders {{SessionName}} with @ replaced by -', async () => {
    expect(await renderTemplates(['dev:{{SessionName}}'], { identity: alice })).toEqual(['dev:alice-example.com']);
  });

  it('renders {{SessionNameRaw}} as is', async () => {
    expect(await renderTemplates(['dev:{{SessionNameRaw}}'], { identity: alice })).toEqual(['dev:alice@example.com']);
  });

  it('renders {{AccessKeyID}}', async () => {
    expect(await renderTemplates(['key:{{AccessKeyID}}'], { identity: alice })).toEqual([`key:${ACCESS_KEY_ID}`]);
  });

  it('renders session templates empty for IAM users', async () => {
    expect(await renderTemplates(['u:{{SessionName}}{{SessionNameRaw}}'], { identity: iamUser('bob') })).toEqual(['u:']);
  });

  it('renders {{EC2PrivateDNSName}} with one lookup of the session name, only when used', async () => {
    const resolve = vi.fn(async (id: string) => `ip-10-0-0-1.${id}.internal`);
    const rendered = await renderTemplates(
      ['system:node:{{EC2PrivateDNSName}}', 'n-{{EC2PrivateDNSName}}', 'static'],
      { identity: node, ec2PrivateDnsName: resolve },
    );
    expect(rendered).toEqual([
      'system:node:ip-10-0-0-1.i-0123456789abcdef0.internal',
      'n-ip-10-0-0-1.i-0123456789abcdef0.internal',
      'static',
    ]);
    expect(resolve).toHaveBeenCalledTimes(1);
    await renderTemplates(['no-dns'], { identity: node, ec2PrivateDnsName: resolve });
    expect(resolve).toHaveBeenCalledTimes(1);
  });

  it('renders in a single pass: values are never expanded again', async () => {
    const rendered = await renderTemplates(['{{EC2PrivateDNSName}}'], {
      identity: node,
      ec2PrivateDnsName: async () => '{{AccountID}}',
    });
    expect(rendered).toEqual(['{{AccountID}}']);
  });

  it('fails {{EC2PrivateDNSName}} without a resolver', async () => {
    await expect(renderTemplates(['system:node:{{EC2PrivateDNSName}}'], { identity: node })).rejects.toMatchObject({
      code: 'ERR_TEMPLATE',
      message: expect.stringContaining('no EC2 resolver is configured'),
    });
  });

  it('fails {{EC2PrivateDNSName}} when the session name is not an instance id, without repeating it', async () => {
    const resolve = vi.fn(async () => 'ip-10-0-0-1.internal');
    const error = await renderTemplates(['{{EC2PrivateDNSName}}'], { identity: alice, ec2PrivateDnsName: resolve }).catch(
      (err: unknown) => err,
    );
    expect(error).toMatchObject({ code: 'ERR_TEMPLATE', message: expect.stringContaining('not an EC2 instance id') });
    expect((error as Error).message).not.toContain('alice');
    expect(resolve).not.toHaveBeenCalled();
  });

  it('wraps a failed lookup', async () => {
    const failing = async (): Promise<string> => {
      throw new EksAuthError('ERR_EC2_PRIVATE_DNS', 'instance i-0123456789abcdef0 was not found in eu-west-1');
    };
    await expect(renderTemplates(['{{EC2PrivateDNSName}}'], { identity: node, ec2PrivateDnsName: failing })).rejects.toMatchObject({
      code: 'ERR_TEMPLATE',
      message: expect.stringContaining('was not found in eu-west-1'),
    });
  });

  it('refuses unknown templates from a custom source', async () => {
    await expect(renderTemplates(['{{Whoami}}'], { identity: alice })).rejects.toMatchObject({ code: 'ERR_TEMPLATE' });
  });
});

describe('template helpers', () => {
  it('finds unknown names and stray braces', () => {
    expect(findTemplateProblem('admin:{{SessionName}}-{{AccountID}}')).toBeUndefined();
    expect(findTemplateProblem('plain')).toBeUndefined();
    expect(findTemplateProblem('admin:{{Sessionname}}')).toMatch(/^unknown template \{\{Sessionname\}\}; known: \{\{AccountID\}\}/);
    expect(findTemplateProblem('admin:{{SessionName}')).toBe('unbalanced {{ or }}');
    expect(findTemplateProblem('admin:}}')).toBe('unbalanced {{ or }}');
  });

  it('tells whether a template is used and whether a value is an instance id', () => {
    expect(usesTemplate('system:node:{{EC2PrivateDNSName}}', 'EC2PrivateDNSName')).toBe(true);
    expect(usesTemplate('system:node:{{SessionName}}', 'EC2PrivateDNSName')).toBe(false);
    expect(isEc2InstanceId('i-0123abcd')).toBe(true);
    expect(isEc2InstanceId('i-0123456789abcdef0')).toBe(true);
    expect(isEc2InstanceId('i-0123ABCD')).toBe(false);
    expect(isEc2InstanceId('i-0123abc')).toBe(false);
    expect(isEc2InstanceId('x-0123456789abcdef0')).toBe(false);
  });
});
