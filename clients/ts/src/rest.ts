// REST resources typed from openapi.json (generated): thin wrappers over NeoForgeClient.rest.

import type { NeoForgeClient, Reply, RequestOptions } from './client.js';
import type { components, paths } from './generated/openapi.js';

export type Schemas = components['schemas'];
export type Project = Schemas['Project'];
export type ProjectPage = Schemas['ProjectPage'];
export type SupportTicket = Schemas['SupportTicket'];
export type CommunityPost = Schemas['CommunityPost'];
export type ProjectConflict = Schemas['ProjectConflict'];

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
export type CreateProjectBody = Json<paths['/projects']['post']['requestBody']>;
export type UpdateProjectBody = Json<paths['/projects/{id}']['patch']['requestBody']>;
export type CreateTicketBody = Json<paths['/support/tickets']['post']['requestBody']>;
export type UpdateTicketBody = Json<paths['/support/tickets/{id}']['patch']['requestBody']>;

type Opts = Omit<RequestOptions, 'body'>;

export const projects = {
  list: (c: NeoForgeClient, query = '', o?: Opts) => c.rest<ProjectPage>('GET', `/projects${query}`, o),
  get: (c: NeoForgeClient, id: string, o?: Opts) => c.rest<Project>('GET', `/projects/${id}`, o),
  create: (c: NeoForgeClient, body: CreateProjectBody, o?: Opts) => c.rest<Project>('POST', '/projects', { ...o, body }),
  update: (c: NeoForgeClient, id: string, body: UpdateProjectBody, o?: Opts): Promise<Reply<Project>> =>
    c.rest<Project>('PATCH', `/projects/${id}`, { ...o, body }),
  remove: (c: NeoForgeClient, id: string, o?: Opts) => c.rest<undefined>('DELETE', `/projects/${id}`, o),
};

export const tickets = {
  get: (c: NeoForgeClient, id: string, o?: Opts) => c.rest<SupportTicket>('GET', `/support/tickets/${id}`, o),
  create: (c: NeoForgeClient, body: CreateTicketBody, o?: Opts) => c.rest<SupportTicket>('POST', '/support/tickets', { ...o, body }),
  update: (c: NeoForgeClient, id: string, body: UpdateTicketBody, o?: Opts) =>
    c.rest<SupportTicket>('PATCH', `/support/tickets/${id}`, { ...o, body }),
};
