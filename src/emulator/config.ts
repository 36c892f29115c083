/**
 * Configuration of the local STS emulator: which access keys exist, who they belong to, and which roles can be
 * assumed by whom. Read from YAML or JSON and validated strictly, because a typo in a test bed silently turns
 * "should be refused" into "was refused for the wrong reason".
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { EksAuthError } from '../errors.js';
import { parsePrincipalArn } from './principals.js';

/** A long-term access key (or, with `sessionToken`, a fixed set of temporary credentials) and who it belongs to. */
export interface EmulatorIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  /** `arn:<partition>:iam::<account>:user/<name>`, `…:root`, or `arn:<partition>:sts::<account>:assumed-role/<role>/<session>`; the account comes from here. */
  arn: string;
  /** What GetCallerIdentity reports as UserId, e.g. `AIDA…` for a user or `AROA…:<session>` for a role session. */
  userId: string;
  /**
   * When set, requests must carry this session token (X-Amz-Security-Token), as temporary credentials do. Lets a test
   * pin a role session (say, a node role) or a signature vector that was computed with a session token.
   */
  sessionToken?: string;
}

export interface EmulatorRole {
  /** `arn:<partition>:iam::<account>:role/[path/]<name>`; AssumeRole must name it exactly. */
  arn: string;
  /**
   * Who may assume the role: user or role ARNs (a role ARN admits any session of that role), an account root ARN
   * (anyone in that account) or `*` (anyone). Omitted: any known identity of the role's account.
   */
  trustedPrincipals?: string[];
  /** When set, AssumeRole must pass exactly this ExternalId. */
  externalId?: string;
}

export interface EmulatorConfig {
  identities: EmulatorIdentity[];
  roles?: EmulatorRole[];
}

const DEMO_ACCOUNT = '111122223333';

/**
 * Built-in identities for `eksauth emulator` without `--config` and for `eksauth demo`: users alice and bob in
 * account 111122223333, role eks-admin (alice may assume it) and role eks-partner (anyone in the account, with
 * ExternalId `partner-42`). The keys are made up and work only against the emulator.
 */
export const DEMO_EMULATOR_CONFIG: EmulatorConfig = {
  identities: [
    {
      accessKeyId: 'EKSAUTHDEMOALICE0001',
      secretAccessKey: 'eksauth/demo/alice/not+a+real+secret/001',
      arn: `arn:aws:iam::${DEMO_ACCOUNT}:user/alice`,
      userId: 'AIDAEKSAUTHDEMOALICE1',
    },
    {
      accessKeyId: 'EKSAUTHDEMOBOB000001',
      secretAccessKey: 'eksauth/demo/bob/not+a+real+secret/00001',
      arn: `arn:aws:iam::${DEMO_ACCOUNT}:user/bob`,
      userId: 'AIDAEKSAUTHDEMOBOB001',
    },
  ],
  roles: [
    { arn: `arn:aws:iam::${DEMO_ACCOUNT}:role/eks-admin`, trustedPrincipals: [`arn:aws:iam::${DEMO_ACCOUNT}:user/alice`] },
    { arn: `arn:aws:iam::${DEMO_ACCOUNT}:role/eks-partner`, externalId: 'partner-42' },
  ],
};

const IDENTITY_FIELDS = ['accessKeyId', 'secretAccessKey', 'arn', 'userId', 'sessionToken'] as const;
const ROLE_FIELDS = ['arn', 'trustedPrincipals', 'externalId'] as const;
const TOP_FIELDS = ['identities', 'roles'] as const;
const EXAMPLE = 'identities:\n  - accessKeyId: EXAMPLEKEYID0001\n    secretAccessKey: <secret>\n    arn: arn:aws:iam::111122223333:user/alice\n    userId: AIDAEXAMPLEUSERID0001';

/** Collects the location of a problem so every message says which file and which field to fix. */
class ConfigReader {
  constructor(private readonly source: string) {}

  fail(path: string, problem: string): never {
    const where = path === '' ? this.source : `${this.source}: ${path}`;
    throw new EksAuthError('ERR_INVALID_CONFIG', `Invalid emulator config ${where}: ${problem}`);
  }

  object(value: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(path, `expected a mapping with the fields ${allowed.join(', ')} (got ${describe(value)}).`);
    }
    const record = value as Record<string, unknown>;
    const unknown = Object.keys(record).filter((key) => !allowed.includes(key));
    if (unknown.length > 0) {
      this.fail(path, `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; allowed: ${allowed.join(', ')}.`);
    }
    return record;
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, `expected a list (got ${describe(value)}).`);
    return value;
  }

  /** A string matching `pattern`; `hint` says what a valid value looks like. Secrets are never echoed. */
  string(value: unknown, path: string, pattern: RegExp, hint: string, secret = false): string {
    if (typeof value !== 'string') this.fail(path, `expected a string, ${hint} (got ${describe(value)}).`);
    if (!pattern.test(value)) {
      this.fail(path, secret ? `invalid value; ${hint}.` : `invalid value ${JSON.stringify(value)}; ${hint}.`);
    }
    return value;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * Parses and validates an emulator configuration (YAML, or JSON which is valid YAML).
 *
 * @param source names the file in error messages
 * @throws EksAuthError ERR_INVALID_CONFIG naming the file, the field and what a valid value looks like
 */
export function parseEmulatorConfig(text: string, source: string): EmulatorConfig {
  const reader = new ConfigReader(source);
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const syntaxError = doc.errors[0];
  if (syntaxError !== undefined) {
    reader.fail('', `not valid YAML or JSON: ${syntaxError.message.split('\n')[0]}`);
  }
  const content: unknown = doc.toJS();
  if (content === null || content === undefined) reader.fail('', `the file is empty; it needs at least one identity, e.g.\n${EXAMPLE}`);
  const root = reader.object(content, '', TOP_FIELDS);
  if (root.identities === undefined) reader.fail('identities', `missing; the emulator needs at least one identity, e.g.\n${EXAMPLE}`);
  const identities = reader.array(root.identities, 'identities').map((item, i) => readIdentity(reader, item, `identities[${i}]`));
  if (identities.length === 0) reader.fail('identities', `empty; add at least one identity, e.g.\n${EXAMPLE}`);
  rejectDuplicates(reader, identities.map((id) => id.accessKeyId), 'identities', 'accessKeyId');
  const config: EmulatorConfig = { identities };
  if (root.roles !== undefined) {
    config.roles = reader.array(root.roles, 'roles').map((item, i) => readRole(reader, item, `roles[${i}]`));
    rejectDuplicates(reader, config.roles.map((role) => role.arn), 'roles', 'arn');
  }
  return config;
}

function readIdentity(reader: ConfigReader, value: unknown, path: string): EmulatorIdentity {
  const raw = reader.object(value, path, IDENTITY_FIELDS);
  const identity: EmulatorIdentity = {
    accessKeyId: reader.string(raw.accessKeyId, `${path}.accessKeyId`, /^\w{1,128}$/, 'letters, digits or _ (1 to 128), e.g. EXAMPLEKEYID0001'),
    secretAccessKey: reader.string(raw.secretAccessKey, `${path}.secretAccessKey`, /^[\x21-\x7e]{1,128}$/, '1 to 128 printable characters without spaces', true),
    arn: reader.string(raw.arn, `${path}.arn`, /^arn:/, 'an ARN like arn:aws:iam::111122223333:user/alice'),
    userId: reader.string(raw.userId, `${path}.userId`, /^[\w:+=,.@-]{1,128}$/, 'the unique id GetCallerIdentity reports, e.g. AIDAEXAMPLEUSERID0001'),
  };
  const principal = parsePrincipalArn(identity.arn);
  if (principal === undefined || principal.kind === 'role') {
    reader.fail(`${path}.arn`, `${JSON.stringify(identity.arn)} is not a principal that signs requests; use arn:aws:iam::<12-digit account>:user/<name>, arn:aws:iam::<account>:root or arn:aws:sts::<account>:assumed-role/<role>/<session> (to let a user assume a role, list the role under roles instead).`);
  }
  if (raw.sessionToken !== undefined) {
    identity.sessionToken = reader.string(raw.sessionToken, `${path}.sessionToken`, /^[\x21-\x7e]{1,4096}$/, '1 to 4096 printable characters without spaces', true);
  }
  return identity;
}

function readRole(reader: ConfigReader, value: unknown, path: string): EmulatorRole {
  const raw = reader.object(value, path, ROLE_FIELDS);
  const arn = reader.string(raw.arn, `${path}.arn`, /^arn:/, 'a role ARN like arn:aws:iam::111122223333:role/eks-admin');
  if (parsePrincipalArn(arn)?.kind !== 'role') {
    reader.fail(`${path}.arn`, `${JSON.stringify(arn)} is not a role ARN; use arn:aws:iam::<12-digit account>:role/[path/]<name>.`);
  }
  const role: EmulatorRole = { arn };
  if (raw.trustedPrincipals !== undefined) {
    role.trustedPrincipals = reader.array(raw.trustedPrincipals, `${path}.trustedPrincipals`)
      .map((entry, i) => readTrustEntry(reader, entry, `${path}.trustedPrincipals[${i}]`));
  }
  if (raw.externalId !== undefined) {
    role.externalId = reader.string(raw.externalId, `${path}.externalId`, /^[\w+=,.@:/-]{2,1224}$/, '2 to 1224 characters from letters, digits and +=,.@:/-_');
  }
  return role;
}

function readTrustEntry(reader: ConfigReader, value: unknown, path: string): string {
  const entry = reader.string(value, path, /^(\*|arn:.*)$/, "'*' or an IAM ARN like arn:aws:iam::111122223333:user/alice");
  if (entry !== '*' && parsePrincipalArn(entry) === undefined) {
    reader.fail(path, `${JSON.stringify(entry)} is not a user, role, root or assumed-role ARN; use e.g. arn:aws:iam::111122223333:user/alice or arn:aws:iam::111122223333:role/ci.`);
  }
  return entry;
}

function rejectDuplicates(reader: ConfigReader, values: string[], list: string, field: string): void {
  const seen = new Map<string, number>();
  values.forEach((value, i) => {
    const first = seen.get(value);
    if (first !== undefined) reader.fail(`${list}[${i}].${field}`, `duplicates ${list}[${first}].${field}; each ${field} may appear once.`);
    seen.set(value, i);
  });
}

/**
 * Reads and validates an emulator configuration file.
 *
 * @throws EksAuthError ERR_INVALID_CONFIG when the file cannot be read or is not a valid configuration
 */
export async function loadEmulatorConfig(path: string): Promise<EmulatorConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new EksAuthError('ERR_INVALID_CONFIG', `Cannot read emulator config ${path} (${code}); check the path given to --config.`, { cause: err });
  }
  return parseEmulatorConfig(text, path);
}
