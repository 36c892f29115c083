/**
 * EKS's REST-JSON wire format as the emulator speaks it: errors (the type in `x-amzn-errortype`, `message` in the
 * body), JSON replies, request bodies, path segments and the `maxResults`/`nextToken` pagination every List call uses.
 */
import { randomUUID } from 'node:crypto';
import type { Reply } from './sts-wire.js';

/** An EKS error as the REST-JSON protocol carries it: the type in a header, `message` in the body. */
export class EksError extends Error {
  constructor(readonly status: number, readonly type: string, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

/** InvalidParameterException, EKS's answer to a field it refuses. */
export function invalidParameter(message: string, clusterName?: string): EksError {
  return new EksError(400, 'InvalidParameterException', message, clusterName === undefined ? {} : { clusterName });
}

export const MAX_RESULTS = 100;

/** One page of `items` from a List call's `maxResults` and `nextToken` query parameters. */
export function page<T>(items: readonly T[], query: ReadonlyMap<string, string>): { items: T[]; nextToken: string | null } {
  const maxResults = readMaxResults(query.get('maxResults'));
  const start = readNextToken(query.get('nextToken'));
  const next = start + maxResults < items.length ? Buffer.from(String(start + maxResults)).toString('base64') : null;
  return { items: items.slice(start, start + maxResults), nextToken: next };
}

function readMaxResults(value: string | undefined): number {
  if (value === undefined) return MAX_RESULTS;
  const n = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_RESULTS)) throw invalidParameter(`maxResults must be between 1 and ${MAX_RESULTS} (got ${value.slice(0, 20)}).`);
  return n;
}

function readNextToken(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  const offset = Number(Buffer.from(value, 'base64').toString('utf8'));
  if (!Number.isInteger(offset) || offset < 0) throw invalidParameter('The nextToken is not one this emulator issued.');
  return offset;
}

/** A percent-decoded path segment (a cluster name, a principal ARN, a policy ARN). */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidParameter('A path segment is not valid percent-encoding.');
  }
}

/** The JSON object in a request body; an empty body is an empty object. */
export function readJsonBody(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EksError(400, 'SerializationException', 'The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EksError(400, 'SerializationException', 'The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

export function jsonReply(status: number, value: unknown): Reply {
  return { status, headers: { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() }, body: JSON.stringify(value) };
}

export function errorReply(err: EksError): Reply {
  const reply = jsonReply(err.status, { ...err.extra, message: err.message });
  return { ...reply, headers: { ...reply.headers, 'x-amzn-errortype': err.type } };
}

/** An epoch-seconds timestamp, the form REST-JSON services send. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}
