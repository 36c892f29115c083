/**
 * Username and group templates, as aws-iam-authenticator and EKS render them:
 *
 * | template | value |
 * |---|---|
 * | `{{AccountID}}` | the caller's 12-digit account |
 * | `{{SessionName}}` | the session name with `@` replaced by `-` (empty for IAM users) |
 * | `{{SessionNameRaw}}` | the session name as is |
 * | `{{AccessKeyID}}` | the access key id that signed the token |
 * | `{{EC2PrivateDNSName}}` | the private DNS name of the EC2 instance whose id is the session name |
 *
 * Session names are chosen by whoever calls AssumeRole: only template on them for roles whose trust policy decides
 * who may set them (EC2, SAML, OIDC). Rendering is a single pass, so a value is never expanded again.
 */
import type { StsIdentity } from '../arn.js';
import { EksAuthError } from '../../errors.js';

export const TEMPLATE_NAMES = ['AccountID', 'SessionName', 'SessionNameRaw', 'AccessKeyID', 'EC2PrivateDNSName'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

const TEMPLATE = /\{\{([^{}]*)\}\}/g;
const EC2_INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

function isTemplateName(name: string): name is TemplateName {
  return (TEMPLATE_NAMES as readonly string[]).includes(name);
}

/**
 * What is wrong with a template string, or `undefined` when it is fine: unknown `{{Names}}` and stray braces are
 * mistakes that would otherwise end up verbatim in a username.
 *
 * @example
 * ```ts
 * import { findTemplateProblem } from './templates.js';
 * findTemplateProblem('dev:{{SessionName}}'); // undefined
 * findTemplateProblem('dev:{{Session}}'); // 'unknown template {{Session}}; known: {{AccountID}}, …'
 * ```
 */
export function findTemplateProblem(text: string): string | undefined {
  for (const [, name = ''] of text.matchAll(TEMPLATE)) {
    if (!isTemplateName(name)) {
      return `unknown template {{${name}}}; known: ${TEMPLATE_NAMES.map((n) => `{{${n}}}`).join(', ')}`;
    }
  }
  const rest = text.replace(TEMPLATE, '');
  if (rest.includes('{{') || rest.includes('}}')) return 'unbalanced {{ or }}';
  return undefined;
}

/**
 * True when `text` contains `{{name}}`.
 *
 * @example
 * ```ts
 * import { usesTemplate } from './templates.js';
 * usesTemplate('system:node:{{EC2PrivateDNSName}}', 'EC2PrivateDNSName'); // true
 * ```
 */
export function usesTemplate(text: string, name: TemplateName): boolean {
  return text.includes(`{{${name}}}`);
}

/**
 * True when `value` looks like an EC2 instance id (`i-` and 8 to 17 lower-case hex digits).
 *
 * @example
 * ```ts
 * import { isEc2InstanceId } from './templates.js';
 * isEc2InstanceId('i-0123456789abcdef0'); // true
 * isEc2InstanceId('alice'); // false
 * ```
 */
export function isEc2InstanceId(value: string): boolean {
  return EC2_INSTANCE_ID.test(value);
}

export interface TemplateContext {
  identity: StsIdentity;
  /** Needed only when a template uses `{{EC2PrivateDNSName}}`. */
  ec2PrivateDnsName?: (instanceId: string) => Promise<string>;
}

/**
 * Renders username/group templates for one identity. `{{EC2PrivateDNSName}}` is looked up at most once, and only when
 * used; it fails (`ERR_TEMPLATE`) without a resolver, when the session name is not an instance id, or when the lookup
 * fails. Messages never repeat the session name, which the caller may have chosen.
 *
 * @example
 * ```ts
 * import { renderTemplates } from './templates.js';
 * import { toStsIdentity } from '../arn.js';
 * const identity = toStsIdentity(
 *   { arn: 'arn:aws:sts::111122223333:assumed-role/Dev/alice@example.com', account: '111122223333', userId: 'AROAEXAMPLE:alice@example.com' },
 *   'ASIAEXAMPLE',
 * );
 * await renderTemplates(['dev:{{SessionName}}', 'acct-{{AccountID}}'], { identity });
 * // ['dev:alice-example.com', 'acct-111122223333']
 * ```
 */
export async function renderTemplates(templates: readonly string[], context: TemplateContext): Promise<string[]> {
  const needsDns = templates.some((t) => usesTemplate(t, 'EC2PrivateDNSName'));
  const values = templateValues(context.identity, needsDns ? await resolvePrivateDnsName(context) : '');
  return templates.map((template) =>
    template.replace(TEMPLATE, (whole: string, name: string) => {
      if (!isTemplateName(name)) throw new EksAuthError('ERR_TEMPLATE', `unknown template ${whole} in '${template}'`);
      return values[name];
    }),
  );
}

function templateValues(identity: StsIdentity, ec2PrivateDnsName: string): Record<TemplateName, string> {
  const sessionName = identity.sessionName ?? '';
  return {
    AccountID: identity.accountId,
    // '@' is not allowed in DNS-1123-style names; federated session names are often e-mail addresses.
    SessionName: sessionName.replaceAll('@', '-'),
    SessionNameRaw: sessionName,
    AccessKeyID: identity.accessKeyId,
    EC2PrivateDNSName: ec2PrivateDnsName,
  };
}

async function resolvePrivateDnsName(context: TemplateContext): Promise<string> {
  const { identity, ec2PrivateDnsName } = context;
  if (ec2PrivateDnsName === undefined) {
    throw new EksAuthError(
      'ERR_TEMPLATE',
      '{{EC2PrivateDNSName}} is used but no EC2 resolver is configured (MapOptions.ec2PrivateDnsName; see createEc2PrivateDnsResolver)',
    );
  }
  const instanceId = identity.sessionName ?? '';
  if (!isEc2InstanceId(instanceId)) {
    throw new EksAuthError(
      'ERR_TEMPLATE',
      `{{EC2PrivateDNSName}}: the session name of ${identity.canonicalArn} is not an EC2 instance id (i-…), so there is no instance to look up`,
    );
  }
  try {
    return await ec2PrivateDnsName(instanceId);
  } catch (err) {
    const why = err instanceof EksAuthError ? err.message : 'the lookup failed';
    throw new EksAuthError('ERR_TEMPLATE', `{{EC2PrivateDNSName}} for ${instanceId}: ${why}`, { cause: err });
  }
}
