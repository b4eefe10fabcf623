// Offline writes: each queued write gets its idempotency key when it is queued, so replaying
// the queue any number of times (the app crashed, the answer was lost) writes each once.

import type { NeoForgeClient, Reply } from './client.js';
import { ConflictError } from './errors.js';

export interface OfflineWrite {
  method: 'POST' | 'PATCH' | 'DELETE';
  /** REST path under /api/v1, e.g. `/projects/{id}`. */
  path: string;
  body?: unknown;
  /** The ETag the change was made against (conditional write). */
  ifMatch?: string;
  /** Minted when queued; persisted with the write. */
  idempotencyKey: string;
}

export interface ReplayReport {
  /** Replies of the writes that went through, in order. */
  done: Reply<unknown>[];
  /** The first conflict: the write, its position, and the server's state. Replay stopped there. */
  conflict?: { index: number; write: OfflineWrite; error: ConflictError };
  /** The writes not yet sent (the conflicting one first). */
  remaining: OfflineWrite[];
}

/** Mints the key of a write made offline. */
export function queueWrite(write: Omit<OfflineWrite, 'idempotencyKey'>, mintKey = () => globalThis.crypto.randomUUID()): OfflineWrite {
  return { ...write, idempotencyKey: mintKey() };
}

/**
 * Sends `writes` in order, each with its own key (retried by the client as usual), stopping at
 * the first conflict and reporting it. Other errors propagate: the queue is left to the caller.
 */
export async function replay(client: NeoForgeClient, writes: readonly OfflineWrite[]): Promise<ReplayReport> {
  const done: Reply<unknown>[] = [];
  for (const [index, write] of writes.entries()) {
    try {
      done.push(
        await client.rest(write.method, write.path, {
          body: write.body,
          idempotencyKey: write.idempotencyKey,
          ...(write.ifMatch === undefined ? {} : { ifMatch: write.ifMatch }),
        }),
      );
    } catch (error) {
      if (error instanceof ConflictError) {
        return { done, conflict: { index, write, error }, remaining: writes.slice(index) };
      }
      throw error;
    }
  }
  return { done, remaining: [] };
}
