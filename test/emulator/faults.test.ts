/**
 * Fault injection and statistics, through the API and through the admin endpoints a test uses to drive an emulator
 * running in another process. Faults hit STS requests only, never the admin endpoints.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import type { EmulatorIdentity } from '../../src/emulator/config.js';
import type { Emulator, EmulatorStats } from '../../src/emulator/server.js';
import { startEmulator } from '../../src/emulator/server.js';
import { isEksAuthError } from '../../src/errors.js';
import type { HttpResult, Presigned } from './helpers.js';
import { jsonError, jsonIdentity, presignGetCallerIdentity, replay, send } from './helpers.js';

const HOST = 'sts.eu-west-1.amazonaws.com';
const [alice] = DEMO_EMULATOR_CONFIG.identities as [EmulatorIdentity];

describe('emulator faults and statistics', () => {
  let emulator: Emulator;
  let token: Presigned;

  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
  });
  afterAll(async () => {
    await emulator?.close();
  });
  afterEach(() => {
    emulator.setFault(undefined);
    emulator.resetStats();
  });

  async function call(json = true): Promise<HttpResult> {
    token = await presignGetCallerIdentity({ credentials: alice, region: 'eu-west-1', host: HOST, clusterId: 'c1', date: new Date() });
    return replay(emulator.url, token, HOST, 'c1', json);
  }

  async function admin(method: string, name: string, body?: string): Promise<HttpResult> {
    return send(emulator.url, { method, path: `/_emulator/${name}`, ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }) });
  }

  it('counts requests by action, and rejections', async () => {
    await call();
    const bad = await replay(emulator.url, token, HOST, 'c2');
    expect(bad.status).toBe(403);
    expect(emulator.stats()).toEqual({ requests: 2, byAction: { GetCallerIdentity: 2 }, rejected: 1 });
    const viaHttp = JSON.parse((await admin('GET', 'stats')).body) as EmulatorStats;
    expect(viaHttp).toEqual(emulator.stats());
    expect(JSON.parse((await admin('POST', 'reset-stats')).body)).toEqual({ requests: 0, byAction: {}, rejected: 0 });
    expect(emulator.stats().requests).toBe(0);
  });

  it('answers with a 5xx for the next N requests, then normally', async () => {
    emulator.setFault({ status: 503, times: 2 });
    const first = await call();
    expect(first.status).toBe(503);
    expect(jsonError(first)).toMatchObject({ Type: 'Receiver', Code: 'ServiceUnavailable' });
    const second = await call(false);
    expect(second.status).toBe(503);
    expect(second.body).toContain('<Code>ServiceUnavailable</Code>');
    expect(jsonIdentity(await call()).Arn).toBe(alice.arn);
    expect(emulator.stats()).toEqual({ requests: 3, byAction: { GetCallerIdentity: 3 }, rejected: 0 });
  });

  it('throttles like STS: 400, Throttling, Rate exceeded', async () => {
    emulator.setFault({ throttle: true });
    for (let i = 0; i < 2; i++) {
      const result = await call();
      expect(result.status).toBe(400);
      expect(JSON.parse(result.body)).toMatchObject({ Error: { Type: 'Sender', Code: 'Throttling', Message: 'Rate exceeded' }, RequestId: expect.any(String) });
    }
  });

  it('sends a 200 that is not an STS answer', async () => {
    emulator.setFault({ garbage: true, times: 1 });
    const result = await call();
    expect(result.status).toBe(200);
    expect(result.headers['content-type']).toMatch(/^text\/html/);
    expect(() => JSON.parse(result.body)).toThrow();
    expect(jsonIdentity(await call()).Arn).toBe(alice.arn);
  });

  it('holds a delayed answer while other requests, the admin endpoints included, are served', async () => {
    emulator.setFault({ latencyMs: 60_000 });
    const aborter = new AbortController();
    let settled = false;
    token = await presignGetCallerIdentity({ credentials: alice, region: 'eu-west-1', host: HOST, clusterId: 'c1', date: new Date() });
    const slow = send(emulator.url, { path: token.path, headers: { host: HOST, 'x-k8s-aws-id': 'c1' }, signal: aborter.signal })
      .finally(() => { settled = true; });
    // The admin endpoint answers at once; by then the delayed STS request has arrived (it is counted) but is unanswered.
    await expect.poll(async () => (JSON.parse((await admin('GET', 'stats')).body) as EmulatorStats).requests).toBe(1);
    expect(settled).toBe(false);
    aborter.abort();
    await expect(slow).rejects.toThrow();
  });

  it('is driven over HTTP: PUT fault, GET fault, clear with an empty body or null', async () => {
    const set = await admin('PUT', 'fault', JSON.stringify({ status: 500, times: 3 }));
    expect(set.status).toBe(200);
    expect(JSON.parse(set.body)).toEqual({ fault: { status: 500, times: 3 } });
    const failed = await call();
    expect(failed.status).toBe(500);
    expect(jsonError(failed)).toMatchObject({ Type: 'Receiver', Code: 'InternalFailure' });
    expect(JSON.parse((await admin('GET', 'fault')).body)).toEqual({ fault: { status: 500, times: 2 } });
    // Admin endpoints are never faulted.
    expect((await admin('GET', 'stats')).status).toBe(200);

    expect(JSON.parse((await admin('PUT', 'fault', '')).body)).toEqual({ fault: null });
    expect((await call()).status).toBe(200);

    await admin('PUT', 'fault', '{"throttle": true}');
    expect((await call()).status).toBe(400);
    expect(JSON.parse((await admin('PUT', 'fault', 'null')).body)).toEqual({ fault: null });
    expect((await call()).status).toBe(200);
  });

  it('refuses invalid faults with a clear message', async () => {
    const notJson = await admin('PUT', 'fault', '{status: 500}');
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body).error).toContain('not JSON');
    const badStatus = await admin('PUT', 'fault', '{"status": 200}');
    expect(JSON.parse(badStatus.body).error).toBe('Invalid emulator fault: fault field status must be a whole number from 500 to 599 (got 200).');
    const unknown = await admin('PUT', 'fault', '{"statusCode": 500}');
    expect(JSON.parse(unknown.body).error).toContain('unknown fault field statusCode');
    expect(() => emulator.setFault({ times: 0, throttle: true })).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
    expect((await admin('GET', 'nope')).status).toBe(404);
    expect((await admin('GET', 'reset-stats')).status).toBe(405);
    expect((await call()).status).toBe(200);
  });

  it('rejects an invalid configuration at start', async () => {
    const error = await startEmulator({ identities: [{ accessKeyId: 'K', secretAccessKey: 'S', arn: 'arn:aws:iam::1:user/x', userId: 'U' }] }).catch((err: unknown) => err);
    expect(isEksAuthError(error, 'ERR_INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toContain('identities[0].arn');
  });
});
