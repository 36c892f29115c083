/**
 * Injected STS failures, so that clients and verifiers can be tested against the ways STS goes wrong: slow answers,
 * 5xx, throttling and bodies that are not STS at all.
 */
import { EksAuthError } from '../errors.js';
import type { Reply } from './sts-wire.js';
import { renderError, StsError } from './sts-wire.js';

export interface EmulatorFault {
  /** Delay before answering (the request is then answered normally unless another fault field applies). */
  latencyMs?: number;
  /** Answer with this HTTP status (500 to 599) and STS's error body for it. */
  status?: number;
  /** Answer like STS throttling: 400 with code Throttling, 'Rate exceeded'. */
  throttle?: boolean;
  /** Answer 200 with a body that is not an STS response. */
  garbage?: boolean;
  /** Apply to the next N STS requests only; default: until cleared. */
  times?: number;
}

const FAULT_FIELDS = ['latencyMs', 'status', 'throttle', 'garbage', 'times'];
const MAX_LATENCY_MS = 600_000;

/** What to do with one STS request. */
export interface FaultPlan {
  latencyMs: number;
  /** The injected answer, or undefined to answer normally. */
  reply?: Reply;
}

/** Holds the current fault and counts down `times`. */
export class FaultState {
  private fault: EmulatorFault | undefined;
  private remaining = Infinity;

  set(fault: EmulatorFault | undefined): void {
    const valid = validateFault(fault);
    this.fault = valid;
    this.remaining = valid?.times ?? Infinity;
  }

  current(): EmulatorFault | undefined {
    return this.fault === undefined ? undefined : { ...this.fault, ...(Number.isFinite(this.remaining) ? { times: this.remaining } : {}) };
  }

  /** Takes the fault for the next STS request (counting it against `times`), or undefined when none applies. */
  next(json: boolean): FaultPlan | undefined {
    const fault = this.fault;
    if (fault === undefined) return undefined;
    this.remaining -= 1;
    if (this.remaining <= 0) this.fault = undefined;
    const plan: FaultPlan = { latencyMs: fault.latencyMs ?? 0 };
    const reply = injectedReply(fault, json);
    if (reply !== undefined) plan.reply = reply;
    return plan;
  }
}

// Throttling wins over a status, which wins over garbage, when a fault sets several.
function injectedReply(fault: EmulatorFault, json: boolean): Reply | undefined {
  if (fault.throttle === true) return renderError(new StsError(400, 'Throttling', 'Rate exceeded'), json);
  if (fault.status !== undefined) return renderError(serverError(fault.status), json);
  if (fault.garbage === true) {
    return {
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: '<html><head><title>Gateway</title></head><body>eksauth emulator: injected garbage, not an STS response</body></html>\n',
    };
  }
  return undefined;
}

function serverError(status: number): StsError {
  if (status === 503) return new StsError(503, 'ServiceUnavailable', 'Service Unavailable', 'Receiver');
  return new StsError(status, 'InternalFailure', 'The request processing has failed because of an unknown error, exception or failure.', 'Receiver');
}

/**
 * Checks a fault given through the API or the admin endpoint; an empty fault (nothing to inject) clears.
 *
 * @throws EksAuthError ERR_USAGE naming the bad field
 */
export function validateFault(fault: unknown): EmulatorFault | undefined {
  if (fault === undefined || fault === null) return undefined;
  if (typeof fault !== 'object' || Array.isArray(fault)) throw usage('a fault must be an object such as {"status": 503, "times": 2}');
  const raw = fault as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((key) => !FAULT_FIELDS.includes(key));
  if (unknown.length > 0) throw usage(`unknown fault field ${unknown.join(', ')}; allowed: ${FAULT_FIELDS.join(', ')}`);
  const out: EmulatorFault = {};
  if (raw.latencyMs !== undefined) out.latencyMs = integer(raw.latencyMs, 'latencyMs', 0, MAX_LATENCY_MS);
  if (raw.status !== undefined) out.status = integer(raw.status, 'status', 500, 599);
  if (raw.throttle !== undefined) out.throttle = boolean(raw.throttle, 'throttle');
  if (raw.garbage !== undefined) out.garbage = boolean(raw.garbage, 'garbage');
  if (raw.times !== undefined) out.times = integer(raw.times, 'times', 1, Number.MAX_SAFE_INTEGER);
  const injects = (out.latencyMs ?? 0) > 0 || out.status !== undefined || out.throttle === true || out.garbage === true;
  return injects ? out : undefined;
}

function integer(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw usage(`fault field ${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return value;
}

function boolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw usage(`fault field ${name} must be true or false (got ${JSON.stringify(value)})`);
  return value;
}

function usage(message: string): EksAuthError {
  return new EksAuthError('ERR_USAGE', `Invalid emulator fault: ${message}.`);
}
