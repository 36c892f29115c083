/**
 * Loopback stand-ins for AWS endpoints in tests: a server that records each request (headers and body) and answers it,
 * by passing it on to the STS emulator or with a canned EC2 DescribeInstances answer.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  headers: IncomingHttpHeaders;
  body: string;
  status?: number;
}

export interface Recorder {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

/** A loopback HTTP server that records each request and answers with `answer`. */
export async function startRecorder(answer: (request: IncomingMessage, body: string) => Promise<{ status: number; body: string; headers?: Record<string, string> }>): Promise<Recorder> {
  const requests: Recorded[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const recorded: Recorded = { headers: request.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      void answer(request, recorded.body).then((reply) => {
        recorded.status = reply.status;
        response.writeHead(reply.status, { 'content-type': 'text/xml', ...reply.headers }).end(reply.body);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Passes a request on to `target` unchanged (the Host header too, so the signature still holds). */
export function forward(target: string, request: IncomingMessage, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(`${target}${request.url ?? '/'}`, { method: request.method ?? 'POST', headers: request.headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** The `InstanceId.N` values of a DescribeInstances request body. */
export function instanceIdsOf(body: string): string[] {
  return [...new URLSearchParams(body).entries()].filter(([key]) => key.startsWith('InstanceId.')).map(([, value]) => value);
}

/** A DescribeInstances answer naming every id, with a private DNS name made from it (in `region`). */
export function describeInstancesXml(instanceIds: readonly string[], region = 'us-west-2'): string {
  const items = instanceIds.map((id) =>
    `<item><instanceId>${id}</instanceId><privateDnsName>ip-${id}.${region}.compute.internal</privateDnsName></item>`).join('');
  return '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>' +
    `<reservationSet><item><reservationId>r-1</reservationId><instancesSet>${items}</instancesSet></item></reservationSet></DescribeInstancesResponse>`;
}
