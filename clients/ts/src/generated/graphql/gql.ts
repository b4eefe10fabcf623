/* eslint-disable */
import * as types from './graphql.js';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "fragment TokenFields on AuthPayload {\n  accessToken\n  tokenType\n  expiresIn\n  refreshToken\n  sessionId\n  user {\n    id\n    email\n    displayName\n    role\n  }\n}\n\nmutation Login($input: LoginInput!) {\n  login(input: $input) {\n    ...TokenFields\n  }\n}\n\nmutation RefreshToken($input: RefreshTokenInput!) {\n  refreshToken(input: $input) {\n    ...TokenFields\n  }\n}\n\nquery Viewer {\n  viewer {\n    id\n    email\n    displayName\n    role\n  }\n}": typeof types.TokenFieldsFragmentDoc,
    "fragment ProjectFields on Project {\n  id\n  ownerId\n  name\n  description\n  visibility\n  createdAt\n  updatedAt\n  version\n}\n\nquery Project($id: ID!) {\n  project(id: $id) {\n    ...ProjectFields\n  }\n}\n\nquery Projects($first: Int, $after: String, $filter: ProjectFilter) {\n  projects(first: $first, after: $after, filter: $filter) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    nodes {\n      ...ProjectFields\n    }\n  }\n}\n\nmutation CreateProject($input: CreateProjectInput!, $idempotencyKey: String) {\n  createProject(input: $input, idempotencyKey: $idempotencyKey) {\n    project {\n      ...ProjectFields\n    }\n  }\n}\n\nmutation UpdateProject($input: UpdateProjectInput!, $expectedVersion: Int, $idempotencyKey: String) {\n  updateProject(\n    input: $input\n    expectedVersion: $expectedVersion\n    idempotencyKey: $idempotencyKey\n  ) {\n    project {\n      ...ProjectFields\n    }\n  }\n}\n\nmutation DeleteProject($input: DeleteProjectInput!, $expectedVersion: Int) {\n  deleteProject(input: $input, expectedVersion: $expectedVersion) {\n    deletedId\n  }\n}": typeof types.ProjectFieldsFragmentDoc,
    "fragment TicketFields on SupportTicket {\n  id\n  requesterId\n  projectId\n  subject\n  body\n  status\n  priority\n  assigneeId\n  createdAt\n  updatedAt\n  version\n}\n\nmutation CreateSupportTicket($input: CreateSupportTicketInput!, $idempotencyKey: String) {\n  createSupportTicket(input: $input, idempotencyKey: $idempotencyKey) {\n    ticket {\n      ...TicketFields\n    }\n  }\n}\n\nmutation UpdateSupportTicket($input: UpdateSupportTicketInput!, $expectedVersion: Int, $idempotencyKey: String) {\n  updateSupportTicket(\n    input: $input\n    expectedVersion: $expectedVersion\n    idempotencyKey: $idempotencyKey\n  ) {\n    ticket {\n      ...TicketFields\n    }\n  }\n}": typeof types.TicketFieldsFragmentDoc,
};
const documents: Documents = {
    "fragment TokenFields on AuthPayload {\n  accessToken\n  tokenType\n  expiresIn\n  refreshToken\n  sessionId\n  user {\n    id\n    email\n    displayName\n    role\n  }\n}\n\nmutation Login($input: LoginInput!) {\n  login(input: $input) {\n    ...TokenFields\n  }\n}\n\nmutation RefreshToken($input: RefreshTokenInput!) {\n  refreshToken(input: $input) {\n    ...TokenFields\n  }\n}\n\nquery Viewer {\n  viewer {\n    id\n    email\n    displayName\n    role\n  }\n}": types.TokenFieldsFragmentDoc,
    "fragment ProjectFields on Project {\n  id\n  ownerId\n  name\n  description\n  visibility\n  createdAt\n  updatedAt\n  version\n}\n\nquery Project($id: ID!) {\n  project(id: $id) {\n    ...ProjectFields\n  }\n}\n\nquery Projects($first: Int, $after: String, $filter: ProjectFilter) {\n  projects(first: $first, after: $after, filter: $filter) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    nodes {\n      ...ProjectFields\n    }\n  }\n}\n\nmutation CreateProject($input: CreateProjectInput!, $idempotencyKey: String) {\n  createProject(input: $input, idempotencyKey: $idempotencyKey) {\n    project {\n      ...ProjectFields\n    }\n  }\n}\n\nmutation UpdateProject($input: UpdateProjectInput!, $expectedVersion: Int, $idempotencyKey: String) {\n  updateProject(\n    input: $input\n    expectedVersion: $expectedVersion\n    idempotencyKey: $idempotencyKey\n  ) {\n    project {\n      ...ProjectFields\n    }\n  }\n}\n\nmutation DeleteProject($input: DeleteProjectInput!, $expectedVersion: Int) {\n  deleteProject(input: $input, expectedVersion: $expectedVersion) {\n    deletedId\n  }\n}": types.ProjectFieldsFragmentDoc,
    "fragment TicketFields on SupportTicket {\n  id\n  requesterId\n  projectId\n  subject\n  body\n  status\n  priority\n  assigneeId\n  createdAt\n  updatedAt\n  version\n}\n\nmutation CreateSupportTicket($input: CreateSupportTicketInput!, $idempotencyKey: String) {\n  createSupportTicket(input: $input, idempotencyKey: $idempotencyKey) {\n    ticket {\n      ...TicketFields\n    }\n  }\n}\n\nmutation UpdateSupportTicket($input: UpdateSupportTicketInput!, $expectedVersion: Int, $idempotencyKey: String) {\n  updateSupportTicket(\n    input: $input\n    expectedVersion: $expectedVersion\n    idempotencyKey: $idempotencyKey\n  ) {\n    ticket {\n      ...TicketFields\n    }\n  }\n}": types.TicketFieldsFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment TokenFields on AuthPayload {\n  accessToken\n  tokenType\n  expiresIn\n  refreshToken\n  sessionId\n  user {\n    id\n    email\n    displayName\n    role\n  }\n}\n\nmutation Login($input: LoginInput!) {\n  login(input: $input) {\n    ...TokenFields\n  }\n}\n\nmutation RefreshToken($input: RefreshTokenInput!) {\n  refreshToken(input: $input) {\n    ...TokenFields\n  }\n}\n\nquery Viewer {\n  viewer {\n    id\n    email\n    displayName\n    role\n  }\n}"): typeof import('./graphql.js').TokenFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment ProjectFields on Project {\n  id\n  ownerId\n  name\n  description\n  visibility\n  createdAt\n  updatedAt\n  version\n}\n\nquery Project($id: ID!) {\n  project(id: $id) {\n    ...ProjectFields\n  }\n}\n\nquery Projects($first: Int, $after: String, $filter: ProjectFilter) {\n  projects(first: $first, after: $after, filter: $filter) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    nodes {\n      ...ProjectFields\n    }\n  }\n}\n\nmutation CreateProject($input: CreateProjectInput!, $idempotencyKey: String) {\n  createProject(input: $input, idempotencyKey: $idempotencyKey) {\n    project {\n      ...ProjectFields\n    }\n  }\n}\n\nmutation UpdateProject($input: UpdateProjectInput!, $expectedVersion: Int, $idempotencyKey: String) {\n  updateProject(\n    input: $input\n    expectedVersion: $expectedVersion\n    idempotencyKey: $idempotencyKey\n  ) {\n    project {\n      ...ProjectFields\n    }\n  }\n}\n\nmutation DeleteProject($input: DeleteProjectInput!, $expectedVersion: Int) {\n  deleteProject(input: $input, expectedVersion: $expectedVersion) {\n    deletedId\n  }\n}"): typeof import('./graphql.js').ProjectFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment TicketFields on SupportTicket {\n  id\n  requesterId\n  projectId\n  subject\n  body\n  status\n  priority\n  assigneeId\n  createdAt\n  updatedAt\n  version\n}\n\nmutation CreateSupportTicket($input: CreateSupportTicketInput!, $idempotencyKey: String) {\n  createSupportTicket(input: $input, idempotencyKey: $idempotencyKey) {\n    ticket {\n      ...TicketFields\n    }\n  }\n}\n\nmutation UpdateSupportTicket($input: UpdateSupportTicketInput!, $expectedVersion: Int, $idempotencyKey: String) {\n  updateSupportTicket(\n    input: $input\n    expectedVersion: $expectedVersion\n    idempotencyKey: $idempotencyKey\n  ) {\n    ticket {\n      ...TicketFields\n    }\n  }\n}"): typeof import('./graphql.js').TicketFieldsFragmentDoc;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
