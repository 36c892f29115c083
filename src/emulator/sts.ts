/**
 * The STS actions the emulator serves: GetCallerIdentity (presigned GET, as in EKS tokens, or header-signed POST, as
 * the AWS CLI sends it) and AssumeRole (header-signed POST, as the AWS SDKs and CLI send it). Every request is
 * authenticated with a real SigV4 check before any action runs.
 */
import type { EmulatorConfig, EmulatorRole } from './config.js';
import { KeyStore } from './credentials.js';
import type { Caller } from './credentials.js';
import { parsePrincipalArn, roleUniqueId, trustEntryAdmits } from './principals.js';
import type { ReceivedRequest } from './request.js';
import { actionParams, headerValue } from './request.js';
import { checkAge, checkScope, checkSignature, readSignature } from './sigv4.js';
import type { ClaimedSignature } from './sigv4.js';
import type { Reply, ResultTree } from './sts-wire.js';
import { accessDenied, renderError, renderResult, STS_API_VERSION, StsError, validationError, wantsJson } from './sts-wire.js';

/** The signed header that binds an EKS token to one cluster. */
const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
const DEFAULT_SESSION_SECONDS = 3600;
/** Roles here have the default MaxSessionDuration, which is also the limit for role chaining. */
const MAX_SESSION_SECONDS = 3600;

export interface StsOutcome {
  /** The Action parameter ('(none)' when absent), for statistics. */
  action: string;
  reply: Reply;
}

export class StsService {
  private readonly keys: KeyStore;
  private readonly roles: Map<string, EmulatorRole>;

  /**
   * `keys` is shared with the emulator's other services, so they accept the sessions AssumeRole issues here.
   * `sessionLifetimeSeconds` caps how long the credentials AssumeRole issues live (see EmulatorOptions).
   */
  constructor(
    config: EmulatorConfig,
    private readonly now: () => Date,
    keys: KeyStore = new KeyStore(config),
    private readonly sessionLifetimeSeconds?: number,
  ) {
    this.keys = keys;
    this.roles = new Map((config.roles ?? []).map((role) => [role.arn, role]));
  }

  /** Answers one STS request; STS errors become ErrorResponses, anything else is a bug and propagates. */
  async handle(request: ReceivedRequest): Promise<StsOutcome> {
    const json = wantsJson(headerValue(request, 'accept'));
    let action = '(none)';
    try {
      const params = actionParams(request);
      action = params.get('Action') ?? action;
      return { action, reply: await this.dispatch(request, params, json) };
    } catch (err) {
      if (err instanceof StsError) return { action, reply: renderError(err, json) };
      throw err;
    }
  }

  private async dispatch(request: ReceivedRequest, params: Map<string, string>, json: boolean): Promise<Reply> {
    if (request.method !== 'GET' && request.method !== 'POST') {
      throw new StsError(405, 'MethodNotAllowed', `STS does not accept ${request.method} requests; use GET or POST.`);
    }
    const caller = await this.authenticate(request, params);
    const action = params.get('Action');
    const version = params.get('Version') ?? STS_API_VERSION;
    if (action === undefined || action === '') throw new StsError(400, 'MissingAction', 'The request must contain the parameter Action.');
    if (version !== STS_API_VERSION) throw new StsError(400, 'InvalidAction', `Could not find operation ${action} for version ${version}`);
    switch (action) {
      case 'GetCallerIdentity':
        return renderResult(action, { Arn: caller.arn, UserId: caller.userId, Account: caller.account }, json);
      case 'AssumeRole':
        return renderResult(action, this.assumeRole(caller, params), json);
      default:
        throw new StsError(400, 'InvalidAction', `Could not find operation ${action} for version ${version}`);
    }
  }

  /** Verifies the signature and returns who made it; the order of checks follows AWS (shape, scope, time, key, signature). */
  private async authenticate(request: ReceivedRequest, params: Map<string, string>): Promise<Caller> {
    const now = this.now();
    const claim = readSignature(request);
    if (claim.mode === 'presigned') checkEksTokenShape(claim, params);
    checkScope(claim, headerValue(request, 'host'), 'sts');
    checkAge(claim, now);
    const { secret, caller } = this.keys.resolve(claim.accessKeyId, claim.sessionToken, now);
    await checkSignature(request, claim, secret);
    return caller;
  }

  private assumeRole(caller: Caller, params: Map<string, string>): ResultTree {
    const input = readAssumeRoleInput(params);
    const role = this.roles.get(input.roleArn);
    if (role === undefined || !mayAssume(caller, role, input.externalId)) {
      throw accessDenied(`User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${input.roleArn}`);
    }
    if (input.durationSeconds > MAX_SESSION_SECONDS) {
      throw validationError(caller.roleName !== undefined
        ? 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.'
        : 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    }
    const session = roleSession(role.arn, input.roleSessionName);
    const now = this.now();
    const lifetimeSeconds = Math.min(input.durationSeconds, this.sessionLifetimeSeconds ?? input.durationSeconds);
    const expiration = new Date(Math.floor(now.getTime() / 1000) * 1000 + lifetimeSeconds * 1000);
    const issued = this.keys.issue(session, expiration, now);
    return {
      AssumedRoleUser: { AssumedRoleId: session.userId, Arn: session.arn },
      Credentials: {
        AccessKeyId: issued.accessKeyId,
        SecretAccessKey: issued.secretAccessKey,
        SessionToken: issued.sessionToken,
        Expiration: expiration,
      },
    };
  }
}

/**
 * Presigned requests are accepted only in the shape of an EKS token: GetCallerIdentity with x-k8s-aws-id signed.
 * A token that does not sign the cluster id could be replayed against any cluster, so the test bed refuses it.
 */
function checkEksTokenShape(claim: ClaimedSignature, params: Map<string, string>): void {
  const action = params.get('Action');
  if (action !== 'GetCallerIdentity') {
    throw accessDenied(`This STS emulator accepts presigned requests only for GetCallerIdentity (got Action ${JSON.stringify(action ?? null)}).`);
  }
  if (!claim.signedHeaders.includes(CLUSTER_ID_HEADER)) {
    throw accessDenied(`This STS emulator accepts presigned GetCallerIdentity requests only when they sign the ${CLUSTER_ID_HEADER} header, as EKS tokens do (X-Amz-SignedHeaders is '${claim.signedHeaders.join(';')}').`);
  }
}

interface AssumeRoleInput {
  roleArn: string;
  roleSessionName: string;
  durationSeconds: number;
  externalId?: string;
}

/** Validates AssumeRole's parameters, reporting every problem at once in STS's ValidationError style. */
function readAssumeRoleInput(params: Map<string, string>): AssumeRoleInput {
  const problems: string[] = [];
  const field = (name: string, member: string, min: number, max: number, pattern: RegExp, required: boolean): string | undefined => {
    const value = params.get(name);
    if (value === undefined) {
      if (required) problems.push(`Value null at '${member}' failed to satisfy constraint: Member must not be null`);
    } else if (value.length < min) {
      problems.push(`Value '${value}' at '${member}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`);
    } else if (value.length > max) {
      problems.push(`Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
    } else if (!pattern.test(value)) {
      problems.push(`Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${pattern.source.slice(1, -1)}`);
    }
    return value;
  };
  const roleArn = field('RoleArn', 'roleArn', 20, 2048, /^[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD]+$/, true);
  const roleSessionName = field('RoleSessionName', 'roleSessionName', 2, 64, /^[\w+=,.@-]*$/, true);
  const externalId = field('ExternalId', 'externalId', 2, 1224, /^[\w+=,.@:/-]*$/, false);
  const durationSeconds = readDuration(params.get('DurationSeconds'), problems);
  if (problems.length > 0) {
    throw validationError(`${problems.length} validation error${problems.length > 1 ? 's' : ''} detected: ${problems.join('; ')}`);
  }
  const input: AssumeRoleInput = { roleArn: roleArn!, roleSessionName: roleSessionName!, durationSeconds };
  if (externalId !== undefined) input.externalId = externalId;
  return input;
}

function readDuration(value: string | undefined, problems: string[]): number {
  if (value === undefined) return DEFAULT_SESSION_SECONDS;
  const seconds = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  if (Number.isNaN(seconds)) problems.push(`Value '${value}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer`);
  else if (seconds < 900) problems.push(`Value '${value}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`);
  else if (seconds > 43200) problems.push(`Value '${value}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200`);
  return seconds;
}

/** The role's trust policy as configured: named principals (or, when none are named, its own account) and external id. */
function mayAssume(caller: Caller, role: EmulatorRole, externalId: string | undefined): boolean {
  if (role.externalId !== undefined && role.externalId !== externalId) return false;
  if (role.trustedPrincipals === undefined) return caller.account === parsePrincipalArn(role.arn)?.account;
  return role.trustedPrincipals.some((entry) => trustEntryAdmits(entry, caller));
}

/** The caller a role session appears as: `arn:…:sts::<account>:assumed-role/<role>/<session>`, `AROA…:<session>`. */
function roleSession(roleArn: string, sessionName: string): Caller {
  const role = parsePrincipalArn(roleArn);
  if (role?.kind !== 'role') throw new Error(`configured role ARN ${roleArn} did not parse`);
  return {
    arn: `arn:${role.partition}:sts::${role.account}:assumed-role/${role.name}/${sessionName}`,
    userId: `${roleUniqueId(roleArn)}:${sessionName}`,
    account: role.account,
    roleName: role.name,
  };
}
