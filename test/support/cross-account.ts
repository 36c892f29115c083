/**
 * Principals of three accounts for the tests that check no answer, log line or hint names another account's mapping
 * rows: account A maps eks-admin and alice, account B maps alicia, account C maps nothing.
 */
import type { EmulatorConfig, EmulatorIdentity } from '../../src/emulator/config.js';

export const ACCOUNT_A = '111122223333';
export const ACCOUNT_B = '444455556666';
export const ACCOUNT_C = '555566667777';

/** User alica of account B: account B maps alicia (a same-account near miss), account A maps alice. */
export const ALICA: EmulatorIdentity = {
  accessKeyId: 'EKSAUTHLEAKALICA0001',
  secretAccessKey: 'eksauth/leaks/alica/not+a+real+secret/01',
  arn: `arn:aws:iam::${ACCOUNT_B}:user/alica`,
  userId: 'AIDAEKSAUTHLEAKALICA1',
};
/** A session of role eks-admim in account C, which maps nothing: one edit from account A's eks-admin. */
export const ADMIM: EmulatorIdentity = {
  accessKeyId: 'ASIAEKSAUTHLEAKADMIM',
  secretAccessKey: 'eksauth/leaks/admim/not+a+real+secret/01',
  sessionToken: 'eksauth-leaks-admim-session-token',
  arn: `arn:aws:sts::${ACCOUNT_C}:assumed-role/eks-admim/ci`,
  userId: 'AROAEKSAUTHLEAKADMIM:ci',
};
export const LEAK_EMULATOR_CONFIG: EmulatorConfig = { identities: [ALICA, ADMIM] };

/** Rows of account A that must never reach a caller of another account, and B's own near miss. */
export const LEAK_MAPPING = `mapRoles:
  - rolearn: arn:aws:iam::${ACCOUNT_A}:role/eks-admin
    username: admin
    groups: [system:masters]
mapUsers:
  - userarn: arn:aws:iam::${ACCOUNT_A}:user/alice
    username: alice
  - userarn: arn:aws:iam::${ACCOUNT_B}:user/alicia
    username: alicia
`;
