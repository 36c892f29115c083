/**
 * aws-iam-authenticator's `--feature-gates` (Kubernetes style: `Name=true,Other=false`). eksauth acts on
 * `SSORoleMatch`; the reference's other gates are accepted so that existing flags keep working.
 */
import { EksAuthError } from '../../errors.js';

/** The reference's gates, all off by default (they are alpha there). */
export interface FeatureGates {
  /** `sso` rows in mapRoles match their permission set's roles; off: such rows are skipped with a warning. */
  SSORoleMatch: boolean;
  IAMIdentityMappingCRD: boolean;
  ConfiguredInitDirectories: boolean;
}

export const DEFAULT_FEATURE_GATES: Readonly<FeatureGates> = Object.freeze({
  SSORoleMatch: false,
  IAMIdentityMappingCRD: false,
  ConfiguredInitDirectories: false,
});

/**
 * Parses `Name=true,Other=false` (names case-sensitive, as Kubernetes; values true/false in any case) over the
 * defaults. Throws `ERR_INVALID_CONFIG` naming `what` for an unknown gate or a value that is not a boolean.
 *
 * @example
 * ```ts
 * import { parseFeatureGates } from 'eksauth/verify';
 * console.log(parseFeatureGates('SSORoleMatch=true', '--feature-gates').SSORoleMatch); // → true
 * ```
 */
export function parseFeatureGates(text: string, what: string): FeatureGates {
  const gates: FeatureGates = { ...DEFAULT_FEATURE_GATES };
  for (const entry of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const [name = '', value = '', extra] = entry.split('=').map((part) => part.trim());
    if (!isGateName(name)) {
      throw new EksAuthError('ERR_INVALID_CONFIG', `${what}: unknown feature gate "${name.slice(0, 60)}"; known: ${Object.keys(DEFAULT_FEATURE_GATES).join(', ')}.`);
    }
    const lower = value.toLowerCase();
    if (extra !== undefined || (lower !== 'true' && lower !== 'false')) {
      throw new EksAuthError('ERR_INVALID_CONFIG', `${what}: write ${name}=true or ${name}=false.`);
    }
    gates[name] = lower === 'true';
  }
  return gates;
}

function isGateName(name: string): name is keyof FeatureGates {
  return Object.hasOwn(DEFAULT_FEATURE_GATES, name);
}
