/**
 * A request as the emulator received it, kept byte-faithful where SigV4 needs it (raw path, decoded query pairs in
 * their original case, headers, raw body), plus the merged query/form parameters an action reads.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { malformedQueryString } from './sts-wire.js';

export interface QueryParam {
  key: string;
  value: string;
}

export interface ReceivedRequest {
  method: string;
  /** The path exactly as sent (still percent-encoded), without the query. */
  rawPath: string;
  /** Decoded query pairs in the order and case they were sent. */
  query: QueryParam[];
  /** Node's lower-cased headers. */
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Splits `path?query` without decoding the path. */
export function splitTarget(target: string): { rawPath: string; rawQuery: string } {
  const at = target.indexOf('?');
  return at < 0 ? { rawPath: target, rawQuery: '' } : { rawPath: target.slice(0, at), rawQuery: target.slice(at + 1) };
}

/**
 * Decodes `a=1&b=2`. In a URL query `+` is kept as a plus (SigV4 clients percent-encode spaces as %20); in a form
 * body `+` means a space. A parameter repeated in any letter case is refused, because a verifier and STS reading
 * different copies of a repeated parameter is how token validation has been bypassed before.
 */
export function parseParams(raw: string, form: boolean): QueryParam[] {
  const params: QueryParam[] = [];
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    params.push({ key: decode(rawKey, form), value: decode(rawValue, form) });
  }
  return params;
}

function decode(text: string, form: boolean): string {
  try {
    return decodeURIComponent(form ? text.replace(/\+/g, ' ') : text);
  } catch {
    throw malformedQueryString('The query string contains a syntax error (an invalid percent-encoding).');
  }
}

/** Refuses a key that appears twice, in any letter case, across all the given lists. */
export function rejectRepeatedKeys(...lists: QueryParam[][]): void {
  const seen = new Set<string>();
  for (const { key } of lists.flat()) {
    const folded = key.toLowerCase();
    if (seen.has(folded)) throw malformedQueryString(`The parameter '${key}' appears more than once; each parameter may be given once.`);
    seen.add(folded);
  }
}

/** The action parameters: the query plus, for a form POST, the body. */
export function actionParams(request: ReceivedRequest): Map<string, string> {
  const form = isFormPost(request) ? parseParams(request.body.toString('utf8'), true) : [];
  rejectRepeatedKeys(request.query, form);
  return new Map([...request.query, ...form].map(({ key, value }) => [key, value]));
}

function isFormPost(request: ReceivedRequest): boolean {
  const type = request.headers['content-type'] ?? '';
  return request.method === 'POST' && /^application\/x-www-form-urlencoded\b/i.test(type);
}

/** A header's single value; Node joins repeated headers, which then fail signature checks as they should. */
export function headerValue(request: ReceivedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
