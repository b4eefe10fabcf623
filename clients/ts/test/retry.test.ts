// Retry-After parsing and backoff bounds (no server needed).

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { delayFor, parseRetryAfter } from '../src/retry.js';

it('reads Retry-After as seconds or an HTTP-date', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('3', now), 3000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now), 0, 'a past date: now');
  assert.equal(parseRetryAfter(null, now), undefined);
  assert.equal(parseRetryAfter('soon', now), undefined);
});

it('waits what the server asks, capped, else jittered exponential backoff', () => {
  const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 2000 };
  assert.equal(delayFor(policy, 0, 1500), 1500);
  assert.equal(delayFor(policy, 0, 60_000), 2000);
  for (let attempt = 0; attempt < 8; attempt++) {
    const d = delayFor(policy, attempt);
    assert.ok(d >= 0 && d <= Math.min(2000, 100 * 2 ** attempt), `${attempt}: ${d}`);
  }
});
