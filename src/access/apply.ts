/**
 * Reading a cluster's access entries, and carrying out an access plan against EKS: idempotent (it compares with the
 * entries as they are when it runs, not as they were when planned), updating entries that exist, and stopping at the
 * first failure with what it did before.
 */
import {
  associateAccessPolicy,
  createAccessEntry,
  describeAccessEntries,
  listAssociatedAccessPolicies,
  updateAccessEntry,
} from '../aws/access-entries.js';
import type { EksClientOptions } from '../aws/eks.js';
import { EksAuthError } from '../errors.js';
import { ACCESS_ENTRY_TYPES } from '../authn/mapping/access-entries/access-entries.js';
import { entryDiffers, missingPolicies, samePrincipal, type AccessPlan, type ExistingAccessEntry, type PlannedEntry, type PlannedPolicy } from './plan.js';

/** One EKS call apply made (or, with dryRun, would make). */
export interface AppliedStep {
  call: 'CreateAccessEntry' | 'UpdateAccessEntry' | 'AssociateAccessPolicy';
  principalArn: string;
  /** What the call sets, e.g. `type STANDARD, username admin, groups [devs]` or the policy ARN and scope. */
  detail: string;
  /** The policy an AssociateAccessPolicy step associates. */
  policy?: PlannedPolicy;
}

export interface ApplyOptions {
  eks: EksClientOptions;
  /** Report the calls without making them. */
  dryRun?: boolean;
  /** Called after each call (before it, with dryRun). */
  onStep?: (step: AppliedStep) => void;
}

/**
 * Every access entry of a cluster with its associated policies.
 *
 * @example
 * ```ts
 * import { readAccessEntries } from './apply.js';
 * const existing = await readAccessEntries('prod', { region: 'eu-west-1', credentials });
 * existing[0]?.entry.principalArn;
 * ```
 */
export async function readAccessEntries(clusterName: string, eks: EksClientOptions): Promise<ExistingAccessEntry[]> {
  const entries = await describeAccessEntries(clusterName, eks);
  return Promise.all(entries.map(async (entry) => ({ entry, policies: await listAssociatedAccessPolicies(clusterName, entry.principalArn, eks) })));
}

/**
 * Makes the cluster's entries match the plan: creates missing entries, updates the username and groups of those that
 * differ, associates missing policies. Running it twice makes no call the second time. On the first failing call it
 * throws ERR_ACCESS_APPLY naming the call and what was done before it.
 *
 * @example
 * ```ts
 * import { applyAccessPlan } from './apply.js';
 * const steps = await applyAccessPlan(plan, { eks: { region: 'eu-west-1', credentials } });
 * ```
 */
export async function applyAccessPlan(plan: AccessPlan, options: ApplyOptions): Promise<AppliedStep[]> {
  const existing = await readAccessEntries(plan.clusterName, options.eks);
  const done: AppliedStep[] = [];
  for (const planned of plan.entries) {
    for (const step of stepsFor(planned, existing)) {
      try {
        if (options.dryRun !== true) await run(plan.clusterName, planned, step, options.eks);
      } catch (err) {
        throw stopped(step, err, done);
      }
      done.push(step);
      options.onStep?.(step);
    }
  }
  return done;
}

/** The calls that bring one principal's entry to the plan, given what exists. */
function stepsFor(planned: PlannedEntry, existing: readonly ExistingAccessEntry[]): AppliedStep[] {
  const found = existing.find((candidate) => samePrincipal(candidate.entry.principalArn, planned.principalArn));
  const principalArn = found?.entry.principalArn ?? planned.principalArn;
  const identity = `username ${planned.username ?? '(EKS default)'}, groups [${planned.kubernetesGroups.join(', ')}]`;
  const steps: AppliedStep[] = [];
  if (found === undefined) steps.push({ call: 'CreateAccessEntry', principalArn, detail: `type ${planned.type}, ${identity}` });
  else if (found.entry.type !== planned.type) return [];
  else if (planned.type === 'STANDARD' && entryDiffers({ ...planned, policies: [] }, found)) steps.push({ call: 'UpdateAccessEntry', principalArn, detail: identity });
  for (const policy of missingPolicies(planned.policies, found?.policies ?? [])) {
    const scope = policy.accessScope.type === 'cluster' ? 'cluster' : `namespaces ${(policy.accessScope.namespaces ?? []).join(', ')}`;
    steps.push({ call: 'AssociateAccessPolicy', principalArn, detail: `${policy.policyArn} (${scope})`, policy });
  }
  return steps;
}

async function run(clusterName: string, planned: PlannedEntry, step: AppliedStep, eks: EksClientOptions): Promise<void> {
  const identity = { ...(planned.username === undefined ? {} : { username: planned.username }), kubernetesGroups: planned.kubernetesGroups };
  switch (step.call) {
    case 'CreateAccessEntry':
      await createAccessEntry(clusterName, { principalArn: step.principalArn, type: planned.type, ...(planned.type === 'STANDARD' ? identity : {}) }, eks);
      return;
    case 'UpdateAccessEntry':
      await updateAccessEntry(clusterName, step.principalArn, identity, eks);
      return;
    case 'AssociateAccessPolicy':
      if (step.policy !== undefined) await associateAccessPolicy(clusterName, step.principalArn, step.policy.policyArn, step.policy.accessScope, eks);
  }
}

function stopped(step: AppliedStep, err: unknown, done: readonly AppliedStep[]): EksAuthError {
  const why = err instanceof Error ? err.message : String(err);
  const before = done.length === 0 ? 'nothing was changed before it' : `done before it: ${done.map((d) => `${d.call} ${d.principalArn}`).join('; ')}`;
  return new EksAuthError('ERR_ACCESS_APPLY', `stopped at ${step.call} for ${step.principalArn}: ${why}; ${before}; fix the cause and run apply again (it skips what is done)`, { cause: err });
}

/**
 * Checks that a parsed JSON document is an access plan (as `eksauth access plan -o json` prints it).
 *
 * @example
 * ```ts
 * import { readAccessPlan } from './apply.js';
 * const plan = readAccessPlan(JSON.parse(text), 'plan.json');
 * ```
 */
export function readAccessPlan(doc: unknown, where: string): AccessPlan {
  const plan = doc as Partial<AccessPlan> | null;
  const fail = (why: string): never => {
    throw new EksAuthError('ERR_ACCESS_PLAN', `${where} ${why}; write it with \`eksauth access plan -o json > ${where}\``);
  };
  if (typeof plan !== 'object' || plan === null || plan.kind !== 'eksauth.access-plan') return fail('is not an access plan (no kind: eksauth.access-plan)');
  if (plan.version !== 1) fail(`has version ${String(plan.version)}; this eksauth reads version 1`);
  if (typeof plan.clusterName !== 'string' || plan.clusterName === '') fail('names no clusterName');
  if (!Array.isArray(plan.entries)) return fail('has no entries list');
  plan.entries.forEach((entry: Partial<PlannedEntry>, i) => {
    const ok = typeof entry.principalArn === 'string' && ACCESS_ENTRY_TYPES.includes(entry.type as never)
      && Array.isArray(entry.kubernetesGroups) && Array.isArray(entry.policies) && (entry.username === undefined || typeof entry.username === 'string');
    if (!ok) fail(`entries[${i}] lacks principalArn, a known type, kubernetesGroups or policies`);
  });
  return { ...(plan as AccessPlan), warnings: Array.isArray(plan.warnings) ? plan.warnings : [] };
}
