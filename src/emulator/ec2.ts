/**
 * The EC2 action the emulator serves: DescribeInstances (EC2's query protocol, a form POST to `/` signed for service
 * `ec2`), so that the webhook's `{{EC2PrivateDNSName}}` lookup makes the real call it makes against EC2. Requests are
 * SigV4-checked with the same keys as STS and EKS, including the sessions AssumeRole issued (an
 * `ec2DescribeInstancesRoleARN`). A caller sees the configured instances of its own account in the region it signed
 * for, as in AWS; an id it cannot see is `InvalidInstanceID.NotFound`, as EC2 answers it.
 */
import { randomUUID } from 'node:crypto';
import type { EmulatorConfig, EmulatorInstance } from './config.js';
import type { Caller, KeyStore } from './credentials.js';
import { parsePrincipalArn } from './principals.js';
import type { ReceivedRequest } from './request.js';
import { actionParams } from './request.js';
import type { Reply } from './sts-wire.js';
import { escapeXml, StsError } from './sts-wire.js';

const EC2_API_VERSION = '2016-11-15';
const XML_NAMESPACE = `http://ec2.amazonaws.com/doc/${EC2_API_VERSION}/`;
// The signature checks are STS's; EC2 names an unknown or refused key AuthFailure.
const EC2_AUTH_ERRORS: Record<string, [number, string]> = {
  InvalidClientTokenId: [401, 'AuthFailure'],
  ExpiredToken: [400, 'RequestExpired'],
};

/**
 * Whether a request to `/` is signed for EC2 (its credential scope names service `ec2`); STS gets the rest.
 *
 * @example
 * ```ts
 * isEc2Request({ authorization: 'AWS4-HMAC-SHA256 Credential=AKIA…/20260101/eu-west-1/ec2/aws4_request, …' }); // true
 * ```
 */
export function isEc2Request(headers: { authorization?: string | string[] | undefined }): boolean {
  const authorization = Array.isArray(headers.authorization) ? headers.authorization.join(', ') : headers.authorization;
  return authorization !== undefined && /Credential=[^/,\s]+\/\d{8}\/[^/,\s]+\/ec2\/aws4_request/.test(authorization);
}

export interface Ec2Outcome {
  /** The Action parameter ('(none)' when absent), for statistics. */
  action: string;
  reply: Reply;
}

/**
 * Answers DescribeInstances for the configured instances.
 *
 * @example
 * ```ts
 * const ec2 = new Ec2Service(config, new KeyStore(config), () => new Date());
 * const { reply } = await ec2.handle(request); // the DescribeInstancesResponse, or EC2's <Response><Errors>…
 * ```
 */
export class Ec2Service {
  private readonly instances: (EmulatorInstance & { account: string })[];

  constructor(config: EmulatorConfig, private readonly keys: KeyStore, private readonly now: () => Date) {
    const owner = parsePrincipalArn(config.identities[0]?.arn ?? '')?.account ?? '000000000000';
    this.instances = (config.instances ?? []).map((instance) => ({ ...instance, account: instance.account ?? owner }));
  }

  /** Answers one EC2 request; failures become EC2 error replies, anything else is a bug and propagates. */
  async handle(request: ReceivedRequest): Promise<Ec2Outcome> {
    let action = '(none)';
    try {
      const params = actionParams(request);
      action = params.get('Action') ?? action;
      const { caller, region } = await this.keys.authenticate(request, 'ec2', this.now());
      if (action !== 'DescribeInstances' || (params.get('Version') ?? EC2_API_VERSION) !== EC2_API_VERSION) {
        throw new StsError(400, 'InvalidAction', `The action ${action.slice(0, 60)} is not valid for this web service; the emulator's EC2 serves DescribeInstances.`);
      }
      return { action, reply: describeInstances(this.visible(caller, region), requestedIds(params)) };
    } catch (err) {
      if (err instanceof StsError) return { action, reply: errorReply(err) };
      throw err;
    }
  }

  private visible(caller: Caller, region: string): (EmulatorInstance & { account: string })[] {
    return this.instances.filter((instance) => instance.account === caller.account && instance.region === region);
  }
}

/** `InstanceId.1`, `InstanceId.2`, … in their order. */
function requestedIds(params: Map<string, string>): string[] {
  return [...params.entries()]
    .filter(([key]) => /^InstanceId\.\d+$/.test(key))
    .sort(([a], [b]) => Number(a.slice(11)) - Number(b.slice(11)))
    .map(([, value]) => value);
}

function describeInstances(visible: readonly (EmulatorInstance & { account: string })[], ids: readonly string[]): Reply {
  const malformed = ids.find((id) => !/^i-[0-9a-f]{8,17}$/.test(id));
  if (malformed !== undefined) throw new StsError(400, 'InvalidInstanceID.Malformed', `Invalid id: "${malformed.slice(0, 40)}"`);
  const missing = ids.filter((id) => !visible.some((instance) => instance.instanceId === id));
  if (missing.length > 0) {
    throw new StsError(400, 'InvalidInstanceID.NotFound', missing.length === 1
      ? `The instance ID '${missing[0]}' does not exist`
      : `The instance IDs '${missing.join(', ')}' do not exist`);
  }
  const chosen = ids.length === 0 ? visible : ids.map((id) => visible.find((instance) => instance.instanceId === id)!);
  // One reservation per instance, each with what the webhook reads; EC2 reports many more fields.
  const reservations = chosen.map((instance) => `    <item>\n      <reservationId>r-${instance.instanceId.slice(2)}</reservationId>\n`
    + `      <ownerId>${instance.account}</ownerId>\n      <groupSet/>\n      <instancesSet>\n        <item>\n`
    + `          <instanceId>${instance.instanceId}</instanceId>\n`
    + `          <instanceState><code>${instance.privateDnsName === '' ? 48 : 16}</code><name>${instance.privateDnsName === '' ? 'terminated' : 'running'}</name></instanceState>\n`
    + `          <privateDnsName>${instance.privateDnsName}</privateDnsName>\n        </item>\n      </instancesSet>\n    </item>\n`).join('');
  const requestId = randomUUID();
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeInstancesResponse xmlns="${XML_NAMESPACE}">\n    <requestId>${requestId}</requestId>\n`
    + `    <reservationSet>\n${reservations}    </reservationSet>\n</DescribeInstancesResponse>\n`;
  return { status: 200, headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId }, body };
}

/** EC2's error document: `<Response><Errors><Error>` with the code and message, and the request id. */
function errorReply(err: StsError): Reply {
  const [status, code] = EC2_AUTH_ERRORS[err.code] ?? [err.status, err.code];
  const requestId = randomUUID();
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(err.message)}</Message></Error></Errors>`
    + `<RequestID>${requestId}</RequestID></Response>\n`;
  return { status, headers: { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId }, body };
}
