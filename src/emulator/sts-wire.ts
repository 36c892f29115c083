/**
 * What the STS emulator puts on the wire: STS's awsQuery XML by default and its JSON rendering when the client sends
 * `Accept: application/json` (as EKS token verifiers do), for results and for errors alike.
 */
import { randomUUID } from 'node:crypto';

export const STS_API_VERSION = '2011-06-15';
const XML_NAMESPACE = `https://sts.amazonaws.com/doc/${STS_API_VERSION}/`;

/** An HTTP answer, ready to send. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A failure STS would report with an ErrorResponse: HTTP status, error code and STS's message. */
export class StsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
    this.name = 'StsError';
  }
}

/** Result fields in STS's element order; dates are rendered per format (ISO-8601 in XML, epoch seconds in JSON). */
export type ResultValue = string | number | Date | ResultTree;
export interface ResultTree {
  [name: string]: ResultValue;
}

/** True when the client asked for STS's JSON rendering. */
export function wantsJson(accept: string | undefined): boolean {
  return accept !== undefined && /(^|[,\s])application\/json\b/i.test(accept);
}

/** `<Action>Response` with `<Action>Result` and the request id, as STS answers a successful call. */
export function renderResult(action: string, result: ResultTree, json: boolean): Reply {
  const requestId = randomUUID();
  if (json) {
    const body = {
      [`${action}Response`]: { [`${action}Result`]: toJson(result), ResponseMetadata: { RequestId: requestId } },
    };
    return reply(200, requestId, 'application/json', JSON.stringify(body));
  }
  const body = `<${action}Response xmlns="${XML_NAMESPACE}">\n`
    + `  <${action}Result>\n${toXml(result, '    ')}  </${action}Result>\n`
    + `  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n`
    + `</${action}Response>\n`;
  return reply(200, requestId, 'text/xml', body);
}

/** STS's ErrorResponse for an {@link StsError}. */
export function renderError(error: StsError, json: boolean): Reply {
  const requestId = randomUUID();
  if (json) {
    const body = { Error: { Type: error.type, Code: error.code, Message: error.message }, RequestId: requestId };
    return reply(error.status, requestId, 'application/json', JSON.stringify(body));
  }
  const body = `<ErrorResponse xmlns="${XML_NAMESPACE}">\n  <Error>\n`
    + `    <Type>${error.type}</Type>\n    <Code>${escapeXml(error.code)}</Code>\n`
    + `    <Message>${escapeXml(error.message)}</Message>\n  </Error>\n`
    + `  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`;
  return reply(error.status, requestId, 'text/xml', body);
}

function reply(status: number, requestId: string, contentType: string, body: string): Reply {
  return { status, headers: { 'content-type': contentType, 'x-amzn-requestid': requestId }, body };
}

function toJson(tree: ResultTree): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(tree)) {
    out[name] = value instanceof Date ? value.getTime() / 1000 : typeof value === 'object' ? toJson(value) : value;
  }
  return out;
}

function toXml(tree: ResultTree, indent: string): string {
  let out = '';
  for (const [name, value] of Object.entries(tree)) {
    if (value instanceof Date) out += `${indent}<${name}>${isoSeconds(value)}</${name}>\n`;
    else if (typeof value === 'object') out += `${indent}<${name}>\n${toXml(value, `${indent}  `)}${indent}</${name}>\n`;
    else out += `${indent}<${name}>${escapeXml(String(value))}</${name}>\n`;
  }
  return out;
}

/** `2026-01-02T03:04:05Z`: STS's timestamp format, without fractional seconds. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes the five XML special characters. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ENTITIES[c] ?? c);
}

// Common STS errors, with the codes, statuses and wording STS uses.

export function incompleteSignature(message: string): StsError {
  return new StsError(400, 'IncompleteSignature', message);
}

export function signatureDoesNotMatch(message?: string): StsError {
  return new StsError(403, 'SignatureDoesNotMatch', message
    ?? 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
}

export function invalidClientTokenId(): StsError {
  return new StsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
}

export function expiredToken(): StsError {
  return new StsError(403, 'ExpiredToken', 'The security token included in the request is expired');
}

export function validationError(message: string): StsError {
  return new StsError(400, 'ValidationError', message);
}

export function accessDenied(message: string): StsError {
  return new StsError(403, 'AccessDenied', message);
}

export function malformedQueryString(message: string): StsError {
  return new StsError(404, 'MalformedQueryString', message);
}
