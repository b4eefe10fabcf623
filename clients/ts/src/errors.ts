// Errors the client raises. A lost conditional write is a ConflictError carrying what won,
// so offline replay can show or merge the conflict without fetching again.

import type { components } from './generated/openapi.js';

/** RFC 9457 problem+json as the server sends it. */
export type Problem = components['schemas']['Problem'];

/** Any error answer: REST problem+json, or a GraphQL error with `extensions.code`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * A conditional write lost (REST 412, GraphQL PRECONDITION_FAILED). `current` is the server's
 * state (REST: the resource as GET returns it; GraphQL: the type's fields, camelCase);
 * `etag` / `currentVersion` is what to send as If-Match / expectedVersion to overwrite it.
 * `attempted` is the change the client tried to make.
 */
export class ConflictError<Current = unknown, Attempted = unknown> extends ApiError {
  constructor(
    status: number,
    message: string,
    body: unknown,
    readonly current: Current | undefined,
    readonly currentVersion: number | undefined,
    readonly etag: string | undefined,
    readonly attempted: Attempted,
  ) {
    super(status, 'PRECONDITION_FAILED', message, body);
    this.name = 'ConflictError';
  }
}

/** The request never got an answer (connection refused, reset, dropped mid-response). */
export class NetworkError extends Error {
  constructor(override readonly cause: unknown) {
    super(`network error: ${String((cause as Error)?.message ?? cause)}`);
    this.name = 'NetworkError';
  }
}
