export { NeoForgeClient, type ClientOptions, type RequestOptions, type Reply, type Tokens } from './client.js';
export { ApiError, ConflictError, NetworkError, type Problem } from './errors.js';
export { execute, type GraphQLErrorShape, type GraphQLOptions } from './graphql.js';
export { replay, queueWrite, type OfflineWrite, type ReplayReport } from './offline.js';
export { projects, tickets } from './rest.js';
export type * from './rest.js';
export { parseRetryAfter, defaultRetry, type RetryPolicy } from './retry.js';
export * as gql from './generated/graphql/graphql.js';
export type { paths, components } from './generated/openapi.js';
