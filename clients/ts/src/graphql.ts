// Typed GraphQL operations over the same transport: the documents in documents/ compile to
// TypedDocumentStrings whose result and variable types are generated from schema.graphql.

import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
import type { NeoForgeClient, RequestOptions } from './client.js';
import { ApiError, ConflictError } from './errors.js';

export interface GraphQLErrorShape {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; retryAfter?: number; currentVersion?: number; current?: unknown; [k: string]: unknown };
}

type Variables<V> = V extends Record<string, never> ? [] | [V] : [V];

export interface GraphQLOptions extends Pick<RequestOptions, 'idempotencyKey' | 'headers'> {}

/**
 * Runs one operation. A mutation declaring `$idempotencyKey` gets one key for the logical
 * write, reused on every retry. Errors become ApiError (extensions.code), and
 * PRECONDITION_FAILED a ConflictError with `current` and `currentVersion`.
 */
export async function execute<R, V>(
  client: NeoForgeClient,
  document: DocumentTypeDecoration<R, V> & { toString(): string },
  options: GraphQLOptions = {},
  ...[variables]: Variables<V>
): Promise<R> {
  const query = document.toString();
  const vars: Record<string, unknown> = { ...(variables as Record<string, unknown> | undefined) };
  const keyed = /\$idempotencyKey\b/.test(query);
  if (keyed && vars.idempotencyKey === undefined) {
    vars.idempotencyKey = options.idempotencyKey ?? globalThis.crypto.randomUUID();
  }
  // A query or a keyed mutation is safe to resend after a lost answer; a plain mutation is not.
  const reply = await client.send<{ data?: R; errors?: GraphQLErrorShape[] }>(
    'POST',
    '/graphql',
    {
      body: { query, variables: vars },
      headers: { accept: 'application/graphql-response+json, application/json', ...options.headers },
      noKeyHeader: true,
      retryable: keyed || isQuery(query),
    },
    true,
  );
  const error = reply.data.errors?.[0];
  if (error) {
    const code = error.extensions?.code ?? 'GRAPHQL_ERROR';
    if (code === 'PRECONDITION_FAILED') {
      throw new ConflictError(reply.status, error.message, reply.data, error.extensions?.current, error.extensions?.currentVersion, undefined, variables);
    }
    const retryAfter = error.extensions?.retryAfter;
    throw new ApiError(reply.status, code, error.message, reply.data, retryAfter === undefined ? undefined : retryAfter * 1000);
  }
  return reply.data.data as R;
}

function isQuery(query: string): boolean {
  const op = query.replace(/#[^\n]*/g, '').match(/\b(query|mutation|subscription)\b/);
  return op?.[1] === 'query';
}
