import type { Command } from 'commander';

/** Collects a repeatable flag's values into a list. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/**
 * The flags that shape token verification, shared by `eksauth verify` and `eksauth server` so both read them alike.
 *
 * @example
 * ```ts
 * addVerifierFlags(program.command('verify')); // --sts-endpoint, --partition, --sts-region, --allowed-account
 * ```
 */
export function addVerifierFlags(command: Command): Command {
  return command
    .option('--sts-endpoint <url>', "connect to this STS address instead of the token's host (VPC endpoint, emulator; default AWS_ENDPOINT_URL_STS)")
    .option('--partition <name>', 'accept STS hosts of this partition (repeatable; default aws)', collect)
    .option('--sts-region <name>', 'also accept sts.<region>.<partition domain> for this region as given, e.g. one newer than the SDK data (repeatable)', collect)
    .option('--allowed-account <id>', 'map only identities of this account (repeatable)', collect);
}
