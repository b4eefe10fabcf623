// The client against a real server (started here) behind a proxy that drops answers and
// injects 503/429/409s: idempotent retries, conflicts, offline replay, ETags, refresh.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { ApiError, ConflictError, NeoForgeClient, execute, gql, projects, queueWrite, replay, tickets } from '../src/index.js';
import { FaultyProxy } from './proxy.js';
import { signUp, startServer, type Server } from './server.js';

let server: Server;
let proxy: FaultyProxy;
let ada: { email: string; password: string };

before(async () => {
  server = await startServer();
  proxy = await new FaultyProxy(server.url).start();
  ada = await signUp(server.url, 'ada@example.com');
});

after(async () => {
  await proxy?.stop();
  await server?.stop();
});

async function signedIn(): Promise<NeoForgeClient> {
  // Waits are real (Retry-After is the point) but backoff after network errors is short.
  const client = new NeoForgeClient({ baseUrl: proxy.url, retry: { baseDelayMs: 20 } });
  await client.login(ada.email, ada.password);
  return client;
}

async function countProjects(client: NeoForgeClient, name: string): Promise<number> {
  const page = await projects.list(client, `?q=${encodeURIComponent(name)}&page_size=100`, { noCache: true });
  return page.data.items.filter((p) => p.name === name).length;
}

describe('idempotent writes', () => {
  it('creates with a key, and the same key replays the same resource', async () => {
    const client = await signedIn();
    const first = await projects.create(client, { name: 'Keyed', visibility: 'private' }, { idempotencyKey: 'create-keyed-1' });
    assert.equal(first.status, 201);
    assert.equal(first.idempotencyKey, 'create-keyed-1');
    assert.equal(first.replayed, false);
    const again = await projects.create(client, { name: 'Keyed', visibility: 'private' }, { idempotencyKey: 'create-keyed-1' });
    assert.equal(again.replayed, true);
    assert.deepEqual(again.data, first.data);
    assert.equal(again.etag, first.etag);
    assert.equal(await countProjects(client, 'Keyed'), 1);
  });

  it('retries a create whose answer was dropped with the same key and gets the same resource', async () => {
    const client = await signedIn();
    const before = proxy.seen.length;
    proxy.inject('POST', '/api/v1/projects', { kind: 'drop-response' });
    const reply = await projects.create(client, { name: 'Dropped once' });
    assert.equal(reply.status, 201);
    assert.equal(reply.replayed, true, 'the second attempt is the first result replayed');
    const posts = proxy.seen.slice(before).filter((s) => s.method === 'POST' && s.path === '/api/v1/projects');
    assert.equal(posts.length, 2);
    assert.ok(posts[0]?.key, 'a key was minted');
    assert.equal(posts[0]?.key, posts[1]?.key, 'the retry reused it');
    assert.equal(await countProjects(client, 'Dropped once'), 1, 'written once');
  });

  it('retries a GraphQL mutation whose answer was dropped with the same idempotencyKey', async () => {
    const client = await signedIn();
    proxy.inject('POST', '/graphql', { kind: 'drop-response' });
    const { createProject } = await execute(client, gql.CreateProjectDocument, {}, { input: { name: 'GraphQL dropped once' } });
    assert.equal(createProject.project.version, 1);
    assert.equal(await countProjects(client, 'GraphQL dropped once'), 1, 'written once');
  });

  it('treats the 404 of a DELETE resent after a lost answer as done', async () => {
    const client = await signedIn();
    const p = await projects.create(client, { name: 'Deleted once' });
    proxy.inject('DELETE', `/api/v1/projects/${p.data.id}`, { kind: 'drop-response' });
    const reply = await projects.remove(client, p.data.id);
    assert.equal(reply.status, 404);
    assert.equal(await countProjects(client, 'Deleted once'), 0);
    // Without a lost answer, a 404 is an error as usual.
    const err = await projects.remove(client, p.data.id).catch((e: unknown) => e);
    assert.ok(err instanceof ApiError && err.status === 404, String(err));
  });

  it('waits out a 409 IDEMPOTENCY_KEY_IN_USE as Retry-After says, with the same key', async () => {
    const client = await signedIn();
    proxy.inject('POST', '/api/v1/support/tickets', {
      kind: 'answer',
      status: 409,
      headers: { 'content-type': 'application/problem+json', 'retry-after': '1' },
      body: JSON.stringify({ type: 'about:blank', title: 'Conflict', status: 409, detail: 'in use', instance: '/', code: 'IDEMPOTENCY_KEY_IN_USE' }),
    });
    const start = proxy.seen.length;
    const reply = await tickets.create(client, { subject: 'Help', body: 'Please.' });
    assert.equal(reply.status, 201);
    const sent = proxy.seen.slice(start).filter((s) => s.path === '/api/v1/support/tickets');
    assert.equal(sent.length, 2);
    assert.equal(sent[0]?.key, sent[1]?.key);
    assert.ok(sent[1]!.at - sent[0]!.at >= 950, `waited ${sent[1]!.at - sent[0]!.at} ms`);
  });
});

describe('conflicts', () => {
  it('a 412 carries the current state; the merge retried with its ETag wins', async () => {
    const client = await signedIn();
    const created = await projects.create(client, { name: 'Shared', description: 'v1' });
    const v1 = created.etag!;
    // Another device changes the description first.
    const other = await signedIn();
    await projects.update(other, created.data.id, { description: 'from the other device' }, { ifMatch: v1 });

    const mine = { name: 'Shared (renamed offline)' };
    const err = await projects.update(client, created.data.id, mine, { ifMatch: v1 }).catch((e: unknown) => e);
    assert.ok(err instanceof ConflictError, String(err));
    const current = err.current as { description: string; version: number; name: string };
    assert.equal(current.description, 'from the other device');
    assert.equal(current.name, 'Shared');
    assert.equal(err.currentVersion, 2);
    assert.equal(err.etag, `"project-${created.data.id}-v2"`);
    assert.deepEqual(err.attempted, mine);

    const merged = await projects.update(client, created.data.id, mine, { ifMatch: err.etag! });
    assert.equal(merged.data.version, 3);
    assert.equal(merged.data.description, 'from the other device');
    assert.equal(merged.data.name, 'Shared (renamed offline)');
  });

  it('GraphQL PRECONDITION_FAILED is the same typed conflict', async () => {
    const client = await signedIn();
    const { createProject } = await execute(client, gql.CreateProjectDocument, {}, { input: { name: 'GQL' } });
    const id = createProject.project.id;
    await execute(client, gql.UpdateProjectDocument, {}, { input: { id, name: 'GQL v2' }, expectedVersion: 1 });
    const err = await execute(client, gql.UpdateProjectDocument, {}, { input: { id, name: 'stale' }, expectedVersion: 1 }).catch((e: unknown) => e);
    assert.ok(err instanceof ConflictError, String(err));
    assert.equal(err.currentVersion, 2);
    assert.equal((err.current as { name: string }).name, 'GQL v2');
    const ok = await execute(client, gql.UpdateProjectDocument, {}, { input: { id, name: 'merged' }, expectedVersion: err.currentVersion! });
    assert.equal(ok.updateProject.project.version, 3);
  });
});

describe('offline replay', () => {
  it('replays a queue of five writes twice without duplicates', async () => {
    const client = await signedIn();
    const existing = await projects.create(client, { name: 'Offline base' });
    const queue = [
      queueWrite({ method: 'POST', path: '/projects', body: { name: 'Offline 1' } }),
      queueWrite({ method: 'POST', path: '/projects', body: { name: 'Offline 2' } }),
      queueWrite({ method: 'PATCH', path: `/projects/${existing.data.id}`, body: { description: 'edited offline' }, ifMatch: existing.etag! }),
      queueWrite({ method: 'POST', path: '/support/tickets', body: { subject: 'Offline ticket', body: 'Queued.' } }),
      queueWrite({ method: 'POST', path: '/projects', body: { name: 'Offline 3' } }),
    ];
    // The queue as the app persisted it: replayed again after a crash before it saved progress.
    const saved = JSON.parse(JSON.stringify(queue));
    const first = await replay(client, queue);
    assert.equal(first.done.length, 5);
    assert.equal(first.conflict, undefined);
    assert.ok(first.done.every((r) => !r.replayed));
    const second = await replay(client, saved);
    assert.equal(second.done.length, 5);
    assert.ok(second.done.every((r) => r.replayed), 'every write was already done');
    assert.deepEqual(
      second.done.map((r) => r.data),
      first.done.map((r) => r.data),
    );
    for (const name of ['Offline 1', 'Offline 2', 'Offline 3']) assert.equal(await countProjects(client, name), 1);
    const base = await projects.get(client, existing.data.id, { noCache: true });
    assert.equal(base.data.version, 2, 'the patch applied once');
  });

  it('stops at the first conflict and reports it with the server state', async () => {
    const client = await signedIn();
    const p = await projects.create(client, { name: 'Contested' });
    await projects.update(client, p.data.id, { description: 'won online' }, { ifMatch: p.etag! });
    const queue = [
      queueWrite({ method: 'POST', path: '/projects', body: { name: 'Before conflict' } }),
      queueWrite({ method: 'PATCH', path: `/projects/${p.data.id}`, body: { name: 'lost offline' }, ifMatch: p.etag! }),
      queueWrite({ method: 'POST', path: '/projects', body: { name: 'After conflict' } }),
    ];
    const report = await replay(client, queue);
    assert.equal(report.done.length, 1);
    assert.equal(report.conflict?.index, 1);
    assert.equal((report.conflict?.error.current as { description: string }).description, 'won online');
    assert.deepEqual(report.conflict?.error.attempted, { name: 'lost offline' });
    assert.equal(report.remaining.length, 2);
    assert.equal(await countProjects(client, 'After conflict'), 0, 'nothing after the conflict was sent');
  });
});

describe('caching and transport', () => {
  it('revalidates a GET with If-None-Match and uses the cached body on 304', async () => {
    const client = await signedIn();
    const p = await projects.create(client, { name: 'Cached' });
    const first = await projects.get(client, p.data.id);
    assert.equal(first.status, 200);
    const second = await projects.get(client, p.data.id);
    assert.equal(second.status, 304);
    assert.equal(second.fromCache, true);
    assert.deepEqual(second.data, first.data);
    await projects.update(client, p.data.id, { name: 'Cached v2' }, { ifMatch: first.etag! });
    const third = await projects.get(client, p.data.id);
    assert.equal(third.status, 200);
    assert.equal(third.data.name, 'Cached v2');
  });

  it('refreshes an expired access token once, even for concurrent requests', async () => {
    const signed = await signedIn();
    const { refreshToken } = signed.tokens;
    const client = new NeoForgeClient({ baseUrl: proxy.url, accessToken: 'expired.or.revoked', refreshToken: refreshToken! });
    const before = proxy.seen.length;
    const [a, b] = await Promise.all([client.rest<{ email: string }>('GET', '/auth/me'), client.rest<{ email: string }>('GET', '/auth/me')]);
    assert.equal(a.data.email, ada.email);
    assert.equal(b.data.email, ada.email);
    const refreshes = proxy.seen.slice(before).filter((s) => s.path === '/api/v1/auth/refresh');
    assert.equal(refreshes.length, 1, 'one refresh served both');
    assert.notEqual(client.tokens.refreshToken, refreshToken, 'the refresh token rotated');
    // The rotated token keeps working for the next refresh.
    client.setTokens({ access_token: 'expired.again' });
    assert.equal((await client.rest<{ email: string }>('GET', '/auth/me')).data.email, ada.email);
  });

  it('honours Retry-After on a 503', async () => {
    const client = await signedIn();
    proxy.inject('GET', '/api/v1/status', {
      kind: 'answer',
      status: 503,
      headers: { 'content-type': 'application/problem+json', 'retry-after': '1' },
      body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'db down', instance: '/', code: 'SERVICE_UNAVAILABLE' }),
    });
    const start = proxy.seen.length;
    const reply = await client.rest('GET', '/status');
    assert.equal(reply.status, 200);
    const sent = proxy.seen.slice(start);
    assert.equal(sent.length, 2);
    assert.ok(sent[1]!.at - sent[0]!.at >= 950, `waited ${sent[1]!.at - sent[0]!.at} ms`);
  });

  it('gives up with the error when retries run out', async () => {
    const client = new NeoForgeClient({ baseUrl: proxy.url, retry: { attempts: 2, maxDelayMs: 10 } });
    const busy = {
      kind: 'answer' as const,
      status: 503,
      headers: { 'content-type': 'application/problem+json', 'retry-after': '1' },
      body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'db down', instance: '/', code: 'SERVICE_UNAVAILABLE' }),
    };
    proxy.inject('GET', '/api/v1/status', busy);
    proxy.inject('GET', '/api/v1/status', busy);
    const err = await client.rest('GET', '/status').catch((e: unknown) => e);
    assert.ok(err instanceof ApiError && err.status === 503 && err.retryAfterMs === 1000, String(err));
  });
});

describe('rate limits', () => {
  let limited: Server;
  before(async () => {
    limited = await startServer({ NEOFORGE_RATE_LIMIT_ANONYMOUS: '2/s' });
  });
  after(async () => {
    await limited?.stop();
  });

  it('waits out a real 429 as its Retry-After says', async () => {
    const raw: number[] = [];
    const client = new NeoForgeClient({
      baseUrl: limited.url,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        raw.push(res.status);
        return res;
      },
    });
    const started = Date.now();
    for (let i = 0; i < 5; i++) assert.equal((await client.rest('GET', '/status', { noCache: true })).status, 200);
    assert.ok(raw.includes(429), `the server limited the burst: ${raw.join(',')}`);
    assert.ok(Date.now() - started >= 900, 'the client waited instead of failing');
  });
});
