/* eslint-disable */
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /**
   * Implement the DateTime<Utc> scalar
   *
   * The input/output is a string in RFC3339 format.
   */
  DateTime: { input: string; output: string; }
};

/**
 * The request was accepted. For `requestPasswordReset` this says nothing about whether the
 * address has an account.
 */
export type AcceptedPayload = {
  __typename?: 'AcceptedPayload';
  accepted: Scalars['Boolean']['output'];
};

/** The account after an admin's change. */
export type AdminUserPayload = {
  __typename?: 'AdminUserPayload';
  user: User;
};

export type AuditEvent = {
  __typename?: 'AuditEvent';
  /**
   * What happened, e.g. `login`, `login.failed`, `refresh_token.reused`, `2fa.enabled`,
   * `password.changed`, `user.role_changed`, `project.deleted`.
   */
  action: Scalars['String']['output'];
  /** Who did it; null for anonymous requests (failed sign-ins, reset requests) and the system. */
  actorId?: Maybe<Scalars['ID']['output']>;
  /** When it happened (UTC). */
  at: Scalars['DateTime']['output'];
  /** Further facts as a JSON object, encoded as a string (e.g. `{"from":"user","to":"staff"}`). */
  details?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  /** The client address of the request. */
  ip?: Maybe<Scalars['String']['output']>;
  /** The request's `X-Request-Id`. */
  requestId?: Maybe<Scalars['String']['output']>;
  /** What it happened to, e.g. `user:<id>`. */
  target?: Maybe<Scalars['String']['output']>;
};

export type AuditEventConnection = {
  __typename?: 'AuditEventConnection';
  /** A list of edges. */
  edges: Array<AuditEventEdge>;
  /** A list of nodes. */
  nodes: Array<AuditEvent>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** Number of items matching the filter, across all pages. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type AuditEventEdge = {
  __typename?: 'AuditEventEdge';
  /** A cursor for use in pagination */
  cursor: Scalars['String']['output'];
  /** The item at the end of the edge */
  node: AuditEvent;
};

/** Narrow the audit log; all given members must match. */
export type AuditEventFilter = {
  /** An action (`login.failed`), or a family with a trailing dot (`2fa.`, `user.`). */
  action?: InputMaybe<Scalars['String']['input']>;
  /** Events caused by this user. */
  actorId?: InputMaybe<Scalars['ID']['input']>;
  /** From this instant (inclusive). */
  since?: InputMaybe<Scalars['DateTime']['input']>;
  /** A target, e.g. `user:<id>`, `session:<id>`, `project:<id>`. */
  target?: InputMaybe<Scalars['String']['input']>;
  /** Before this instant (exclusive). */
  until?: InputMaybe<Scalars['DateTime']['input']>;
};

/** Result of `login`: send `Authorization: Bearer <accessToken>` on later requests. */
export type AuthPayload = {
  __typename?: 'AuthPayload';
  /** A short-lived JWT access token. */
  accessToken: Scalars['String']['output'];
  /** Seconds until `accessToken` expires. */
  expiresIn: Scalars['Int']['output'];
  /**
   * An opaque refresh token for `refreshToken`: single use (each refresh returns the next
   * one); presenting a used one again ends the session. Keep it secret. Null in the REST
   * shim's browser mode, which sets it as an HttpOnly cookie instead.
   */
  refreshToken?: Maybe<Scalars['String']['output']>;
  /** The session this sign-in opened (see `sessions`). */
  sessionId: Scalars['ID']['output'];
  /** Always `bearer`. */
  tokenType: Scalars['String']['output'];
  /** The signed-in account. */
  user: User;
};

/** Change the caller's password. */
export type ChangePasswordInput = {
  currentPassword: Scalars['String']['input'];
  /** 8–128 characters. */
  newPassword: Scalars['String']['input'];
};

/** Result of `changePassword`. */
export type ChangePasswordPayload = {
  __typename?: 'ChangePasswordPayload';
  /** The caller's other sessions that ended (this one stays signed in). */
  revokedSessionCount: Scalars['Int']['output'];
};

/** A post in the NeoForge community forum. Readable by anyone. */
export type CommunityPost = Node & {
  __typename?: 'CommunityPost';
  /** The user who wrote the post. */
  author?: Maybe<User>;
  /** The author's id: `author { id }` without loading the user. */
  authorId: Scalars['ID']['output'];
  /** 1–20,000 characters. */
  body: Scalars['String']['output'];
  /** When the post was created (UTC). */
  createdAt: Scalars['DateTime']['output'];
  /** Opaque, stable identifier. */
  id: Scalars['ID']['output'];
  /** The project the post is about; null when there is none or the caller may not read it. */
  project?: Maybe<Project>;
  /** The id of the project the post is about, even when the caller may not read that project. */
  projectId?: Maybe<Scalars['ID']['output']>;
  /** Up to 10 lowercase slugs, in the order the author gave them. */
  tags: Array<Scalars['String']['output']>;
  /** 1–200 characters, one line. */
  title: Scalars['String']['output'];
  /** When the post last changed (UTC). */
  updatedAt: Scalars['DateTime']['output'];
  /** Starts at 1, +1 on every change. Pass it as `expectedVersion` to update safely. */
  version: Scalars['Int']['output'];
  /** Whether the caller may update or delete this post (its author, staff and admins). */
  viewerCanEdit: Scalars['Boolean']['output'];
};

export type CommunityPostConnection = {
  __typename?: 'CommunityPostConnection';
  /** A list of edges. */
  edges: Array<CommunityPostEdge>;
  /** A list of nodes. */
  nodes: Array<CommunityPost>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** Number of items matching the filter, across all pages. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type CommunityPostEdge = {
  __typename?: 'CommunityPostEdge';
  /** A cursor for use in pagination */
  cursor: Scalars['String']['output'];
  /** The item at the end of the edge */
  node: CommunityPost;
};

/** Filters for `communityPosts`. All given filters must match. */
export type CommunityPostFilter = {
  /** Only posts written by this user. */
  authorId?: InputMaybe<Scalars['ID']['input']>;
  /** Only posts about this project. */
  projectId?: InputMaybe<Scalars['ID']['input']>;
  /** Only posts carrying this tag (compared case-insensitively). */
  tag?: InputMaybe<Scalars['String']['input']>;
};

/** Ordering for `communityPosts` (ties broken by id). Default: newest first. */
export type CommunityPostOrder = {
  /** Default: DESC. */
  direction?: OrderDirection;
  /** The sort key. */
  field: CommunityPostOrderBy;
};

/** Sort keys for `communityPosts`. */
export type CommunityPostOrderBy =
  /** When the post was created. */
  | 'CREATED_AT'
  /** When the post last changed. */
  | 'UPDATED_AT';

/** The second step of a two-factor sign-in. */
export type CompleteLoginInput = {
  /** The `challenge` from the `login` error (`extensions.challenge`); valid 5 minutes, once. */
  challenge: Scalars['String']['input'];
  /** A current TOTP code or an unused recovery code. */
  code: Scalars['String']['input'];
  /** A label for this device's session. */
  device?: InputMaybe<Scalars['String']['input']>;
};

/** Write a community post. */
export type CreateCommunityPostInput = {
  /** 1–20,000 characters. */
  body: Scalars['String']['input'];
  /** The project the post is about; it must be readable by the author. */
  projectId?: InputMaybe<Scalars['ID']['input']>;
  /**
   * Up to 10 tags: lowercase slugs (a-z, 0-9, inner hyphens) of at most 32 characters.
   * Uppercase letters are lowercased; duplicates are dropped, order kept.
   */
  tags?: InputMaybe<Array<Scalars['String']['input']>>;
  /** 1–200 characters, one line. */
  title: Scalars['String']['input'];
};

/** Result of `createCommunityPost`. */
export type CreateCommunityPostPayload = {
  __typename?: 'CreateCommunityPostPayload';
  /** The new post. */
  communityPost: CommunityPost;
};

/** Create a project. */
export type CreateProjectInput = {
  /** Up to 5,000 characters. */
  description?: InputMaybe<Scalars['String']['input']>;
  /** 1–120 characters. */
  name: Scalars['String']['input'];
  /** Default: PRIVATE. */
  visibility?: InputMaybe<Visibility>;
};

/** Result of `createProject`. */
export type CreateProjectPayload = {
  __typename?: 'CreateProjectPayload';
  /** The new project. */
  project: Project;
};

/** Record a service's status (staff and admins). */
export type CreateStatusEventInput = {
  /** What is happening: up to 2,000 characters. Default: empty. */
  message?: InputMaybe<Scalars['String']['input']>;
  /** The service: a lowercase slug (a-z, 0-9, inner hyphens), 1–64 characters. */
  service: Scalars['String']['input'];
  /** The service's status from now on. */
  status: ServiceStatusLevel;
};

/** Result of `createStatusEvent`. */
export type CreateStatusEventPayload = {
  __typename?: 'CreateStatusEventPayload';
  /** The recorded event. */
  statusEvent: StatusEvent;
};

/** Open a support ticket. */
export type CreateSupportTicketInput = {
  /** 1–20,000 characters. */
  body: Scalars['String']['input'];
  /** Default: NORMAL. */
  priority?: InputMaybe<TicketPriority>;
  /** A project the caller can read, if the ticket is about one. */
  projectId?: InputMaybe<Scalars['ID']['input']>;
  /** One line, 1–200 characters. */
  subject: Scalars['String']['input'];
};

/** Result of `createSupportTicket`. */
export type CreateSupportTicketPayload = {
  __typename?: 'CreateSupportTicketPayload';
  /** The new ticket (status OPEN, version 1). */
  ticket: SupportTicket;
};

/** Delete a community post. */
export type DeleteCommunityPostInput = {
  /** The post to delete. */
  id: Scalars['ID']['input'];
};

/** Result of `deleteCommunityPost`. */
export type DeleteCommunityPostPayload = {
  __typename?: 'DeleteCommunityPostPayload';
  /** The id of the deleted post. */
  deletedId: Scalars['ID']['output'];
};

/** Delete a project. */
export type DeleteProjectInput = {
  /** The project to delete. */
  id: Scalars['ID']['input'];
};

/** Result of `deleteProject`. */
export type DeleteProjectPayload = {
  __typename?: 'DeleteProjectPayload';
  /** The id of the deleted project. */
  deletedId: Scalars['ID']['output'];
};

/** Result of `deleteUser`. */
export type DeleteUserPayload = {
  __typename?: 'DeleteUserPayload';
  deletedId: Scalars['ID']['output'];
};

/** Turn two-factor authentication off. */
export type DisableTwoFactorInput = {
  /** A current TOTP code or an unused recovery code. */
  code: Scalars['String']['input'];
  /** The account's password. */
  password: Scalars['String']['input'];
};

/** Result of `disableTwoFactor`. */
export type DisableTwoFactorPayload = {
  __typename?: 'DisableTwoFactorPayload';
  /** Always false: sign-in needs only the password again. */
  twoFactorEnabled: Scalars['Boolean']['output'];
};

/** Sign in with email and password. */
export type LoginInput = {
  /** A label for this device's session (e.g. "Ada's laptop"). */
  device?: InputMaybe<Scalars['String']['input']>;
  /** The account's email (any case). */
  email: Scalars['String']['input'];
  /** The account's password. */
  password: Scalars['String']['input'];
  /** A 6–8 digit TOTP code for accounts with two-factor authentication. */
  totpCode?: InputMaybe<Scalars['String']['input']>;
};

/** Result of `logout`. */
export type LogoutPayload = {
  __typename?: 'LogoutPayload';
  /** False when the session had already ended. */
  revoked: Scalars['Boolean']['output'];
};

/** Every mutation, one object per resource. */
export type MutationRoot = {
  __typename?: 'MutationRoot';
  /** Change your password; your other sessions end (this one stays signed in). */
  changePassword: ChangePasswordPayload;
  /**
   * The second step of a two-factor sign-in: `login` without `totpCode` answered
   * UNAUTHENTICATED with `extensions.totpRequired` and `extensions.challenge`; send that
   * challenge with a code.
   */
  completeLogin: AuthPayload;
  /** Write a community post as the caller (signed-in users). */
  createCommunityPost: CreateCommunityPostPayload;
  /** Create a project owned by the caller. */
  createProject: CreateProjectPayload;
  /** Record a service's status (staff and admins). `statusChanged` subscribers hear of it. */
  createStatusEvent: CreateStatusEventPayload;
  /** Open a support ticket as the caller. It starts OPEN and unassigned. */
  createSupportTicket: CreateSupportTicketPayload;
  /** Delete a community post (its author, staff or an admin). */
  deleteCommunityPost: DeleteCommunityPostPayload;
  /** Delete a project (owner or admin). Its tickets and posts stay, detached from it. */
  deleteProject: DeleteProjectPayload;
  /**
   * Delete an account with everything it owns (projects, tickets, posts, sessions); its
   * audit trail stays. Not your own.
   */
  deleteUser: DeleteUserPayload;
  /** Turn two-factor authentication off (password and a TOTP or recovery code). */
  disableTwoFactor: DisableTwoFactorPayload;
  /** Disable an account: its sessions end within seconds and it cannot sign in. Not your own. */
  disableUser: AdminUserPayload;
  /**
   * Finish enrolment with a code from the app; from now on sign-in needs a code. Returns
   * ten one-time recovery codes, shown only here.
   */
  enableTwoFactor: RecoveryCodesPayload;
  /** Re-enable a disabled account (it signs in again; its old sessions stay ended). */
  enableUser: AdminUserPayload;
  /** Sign in; returns a short-lived access token. */
  login: AuthPayload;
  /**
   * Sign out: ends the caller's session (its refresh token stops working; its access tokens
   * are refused within seconds on every server).
   */
  logout: LogoutPayload;
  /**
   * Exchange a refresh token for a new access token and a new refresh token (rotation).
   * A refresh token works once: presenting it again ends its session.
   */
  refreshToken: AuthPayload;
  /** New recovery codes for a current TOTP code; the old ones stop working. */
  regenerateRecoveryCodes: RecoveryCodesPayload;
  /** Create an account with role USER. */
  register: RegisterPayload;
  /** Mail yourself a new email-verification link (valid 24 hours, once). */
  requestEmailVerification: AcceptedPayload;
  /**
   * Mail a password-reset link (valid one hour, once) if the address has an account. The
   * answer is the same either way.
   */
  requestPasswordReset: AcceptedPayload;
  /** Set a new password with a reset link's token; every session of the account ends. */
  resetPassword: AcceptedPayload;
  /** End every session of yours except the current one ("sign out everywhere else"). */
  revokeOtherSessions: RevokeOtherSessionsPayload;
  /** End one of your sessions (your current one too: that signs you out). */
  revokeSession: RevokeSessionPayload;
  /** End every session of an account. */
  revokeUserSessions: RevokeUserSessionsPayload;
  /**
   * Give an account another role; it applies to the account's open sessions within
   * seconds. Not your own.
   */
  setUserRole: AdminUserPayload;
  /**
   * Start enrolling an authenticator app: a new secret, its `otpauth://` URI and QR code.
   * Sign-in does not need codes until `enableTwoFactor` confirms one.
   */
  setupTwoFactor: TwoFactorSetupPayload;
  /** Change a community post (its author, staff or an admin). */
  updateCommunityPost: UpdateCommunityPostPayload;
  /** Change a project (owner or admin). */
  updateProject: UpdateProjectPayload;
  /**
   * Change a support ticket: staff and admins any field; the requester the subject and body
   * while it is OPEN, or close it.
   */
  updateSupportTicket: UpdateSupportTicketPayload;
  /** Confirm an email address with a verification link's token. */
  verifyEmail: AcceptedPayload;
};


/** Every mutation, one object per resource. */
export type MutationRootChangePasswordArgs = {
  input: ChangePasswordInput;
};


/** Every mutation, one object per resource. */
export type MutationRootCompleteLoginArgs = {
  input: CompleteLoginInput;
};


/** Every mutation, one object per resource. */
export type MutationRootCreateCommunityPostArgs = {
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  input: CreateCommunityPostInput;
};


/** Every mutation, one object per resource. */
export type MutationRootCreateProjectArgs = {
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  input: CreateProjectInput;
};


/** Every mutation, one object per resource. */
export type MutationRootCreateStatusEventArgs = {
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  input: CreateStatusEventInput;
};


/** Every mutation, one object per resource. */
export type MutationRootCreateSupportTicketArgs = {
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  input: CreateSupportTicketInput;
};


/** Every mutation, one object per resource. */
export type MutationRootDeleteCommunityPostArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  input: DeleteCommunityPostInput;
};


/** Every mutation, one object per resource. */
export type MutationRootDeleteProjectArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  input: DeleteProjectInput;
};


/** Every mutation, one object per resource. */
export type MutationRootDeleteUserArgs = {
  input: UserIdInput;
};


/** Every mutation, one object per resource. */
export type MutationRootDisableTwoFactorArgs = {
  input: DisableTwoFactorInput;
};


/** Every mutation, one object per resource. */
export type MutationRootDisableUserArgs = {
  input: UserIdInput;
};


/** Every mutation, one object per resource. */
export type MutationRootEnableTwoFactorArgs = {
  input: TotpCodeInput;
};


/** Every mutation, one object per resource. */
export type MutationRootEnableUserArgs = {
  input: UserIdInput;
};


/** Every mutation, one object per resource. */
export type MutationRootLoginArgs = {
  input: LoginInput;
};


/** Every mutation, one object per resource. */
export type MutationRootRefreshTokenArgs = {
  input: RefreshTokenInput;
};


/** Every mutation, one object per resource. */
export type MutationRootRegenerateRecoveryCodesArgs = {
  input: TotpCodeInput;
};


/** Every mutation, one object per resource. */
export type MutationRootRegisterArgs = {
  input: RegisterInput;
};


/** Every mutation, one object per resource. */
export type MutationRootRequestPasswordResetArgs = {
  input: RequestPasswordResetInput;
};


/** Every mutation, one object per resource. */
export type MutationRootResetPasswordArgs = {
  input: ResetPasswordInput;
};


/** Every mutation, one object per resource. */
export type MutationRootRevokeSessionArgs = {
  input: RevokeSessionInput;
};


/** Every mutation, one object per resource. */
export type MutationRootRevokeUserSessionsArgs = {
  input: UserIdInput;
};


/** Every mutation, one object per resource. */
export type MutationRootSetUserRoleArgs = {
  input: SetUserRoleInput;
};


/** Every mutation, one object per resource. */
export type MutationRootUpdateCommunityPostArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  input: UpdateCommunityPostInput;
};


/** Every mutation, one object per resource. */
export type MutationRootUpdateProjectArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  input: UpdateProjectInput;
};


/** Every mutation, one object per resource. */
export type MutationRootUpdateSupportTicketArgs = {
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  input: UpdateSupportTicketInput;
};


/** Every mutation, one object per resource. */
export type MutationRootVerifyEmailArgs = {
  input: VerifyEmailInput;
};

/** An object with a globally unique id. */
export type Node = {
  /** Opaque, globally unique identifier. */
  id: Scalars['ID']['output'];
};

/** Sort direction. */
export type OrderDirection =
  /** Smallest first. */
  | 'ASC'
  /** Largest (newest) first. */
  | 'DESC';

/** Information about pagination in a connection */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** When paginating forwards, the cursor to continue. */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** When paginating forwards, are there more items? */
  hasNextPage: Scalars['Boolean']['output'];
  /** When paginating backwards, are there more items? */
  hasPreviousPage: Scalars['Boolean']['output'];
  /** When paginating backwards, the cursor to continue. */
  startCursor?: Maybe<Scalars['String']['output']>;
};

/** A NeoForge project. */
export type Project = Node & {
  __typename?: 'Project';
  /** When the project was created (UTC). */
  createdAt: Scalars['DateTime']['output'];
  /** Up to 5,000 characters (may be empty). */
  description: Scalars['String']['output'];
  /** Opaque, stable identifier. */
  id: Scalars['ID']['output'];
  /** The project's newest community posts (at most 3), newest first. */
  latestPosts: Array<CommunityPost>;
  /** 1–120 characters. */
  name: Scalars['String']['output'];
  /** Support tickets of this project that are still open (`OPEN` or `IN_PROGRESS`). */
  openTicketCount: Scalars['Int']['output'];
  /** The user who owns the project. */
  owner?: Maybe<User>;
  /** The owner's id: `owner { id }` without loading the user. */
  ownerId: Scalars['ID']['output'];
  /** Number of community posts about this project. */
  postCount: Scalars['Int']['output'];
  /** When the project last changed (UTC). */
  updatedAt: Scalars['DateTime']['output'];
  /** Starts at 1, +1 on every change. Pass it as `expectedVersion` to update safely. */
  version: Scalars['Int']['output'];
  /** Whether the caller may update or delete this project. */
  viewerCanEdit: Scalars['Boolean']['output'];
  /** Who can see the project. */
  visibility: Visibility;
};

export type ProjectConnection = {
  __typename?: 'ProjectConnection';
  /** A list of edges. */
  edges: Array<ProjectEdge>;
  /** A list of nodes. */
  nodes: Array<Project>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** Number of items matching the filter, across all pages. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type ProjectEdge = {
  __typename?: 'ProjectEdge';
  /** A cursor for use in pagination */
  cursor: Scalars['String']['output'];
  /** The item at the end of the edge */
  node: Project;
};

/** Filters for `projects`. All given filters must match. */
export type ProjectFilter = {
  /** Only projects owned by this user. */
  ownerId?: InputMaybe<Scalars['ID']['input']>;
  /** Case-insensitive substring of the name. */
  q?: InputMaybe<Scalars['String']['input']>;
  /** Only projects with this visibility. */
  visibility?: InputMaybe<Visibility>;
};

/** Ordering for `projects` (ties broken by id). Default: newest first. */
export type ProjectOrder = {
  /** Default: DESC. */
  direction?: OrderDirection;
  /** The sort key. */
  field: ProjectOrderBy;
};

/** Sort keys for `projects`. */
export type ProjectOrderBy =
  /** When the project was created. */
  | 'CREATED_AT'
  /** Name, in byte order. */
  | 'NAME'
  /** When the project last changed. */
  | 'UPDATED_AT';

/** Every query field, one object per resource. */
export type QueryRoot = {
  __typename?: 'QueryRoot';
  /** The audit log, newest first by default (admins only). */
  auditEvents: AuditEventConnection;
  /** One community post, or null when it does not exist. */
  communityPost?: Maybe<CommunityPost>;
  /** Community posts (readable by anyone). Default order: newest first. */
  communityPosts: CommunityPostConnection;
  /** Fetch any object by id; null when it does not exist or the caller may not read it. */
  node?: Maybe<Node>;
  /** Fetch several objects by id, in order; null entries for the missing or unreadable. */
  nodes: Array<Maybe<Node>>;
  /** One project, or null when it does not exist or is not readable by the caller. */
  project?: Maybe<Project>;
  /** Projects the caller may read: public ones, plus their own private ones (admins: all). */
  projects: ProjectConnection;
  /**
   * The caller's open sessions (signed-in devices), newest first; `current` marks the one
   * making this request. `first` 1–100 (default 20).
   */
  sessions: SessionList;
  /** The status page: every service's current status and the overall status. Anyone may read it. */
  status: ServiceStatusSummary;
  /** One status event, or null when it does not exist. */
  statusEvent?: Maybe<StatusEvent>;
  /** The history of status events, newest first by default. Anyone may read it. */
  statusEvents: StatusEventConnection;
  /**
   * One support ticket, or null when it does not exist or the caller may not read it.
   * Requires sign-in.
   */
  supportTicket?: Maybe<SupportTicket>;
  /** Support tickets the caller may read: their own (staff and admins: all). Requires sign-in. */
  supportTickets: SupportTicketConnection;
  /** The signed-in user; null for anonymous requests. */
  viewer?: Maybe<User>;
};


/** Every query field, one object per resource. */
export type QueryRootAuditEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  direction?: InputMaybe<OrderDirection>;
  filter?: InputMaybe<AuditEventFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  offset?: InputMaybe<Scalars['Int']['input']>;
};


/** Every query field, one object per resource. */
export type QueryRootCommunityPostArgs = {
  id: Scalars['ID']['input'];
};


/** Every query field, one object per resource. */
export type QueryRootCommunityPostsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<CommunityPostFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  offset?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<CommunityPostOrder>;
};


/** Every query field, one object per resource. */
export type QueryRootNodeArgs = {
  id: Scalars['ID']['input'];
};


/** Every query field, one object per resource. */
export type QueryRootNodesArgs = {
  ids: Array<Scalars['ID']['input']>;
};


/** Every query field, one object per resource. */
export type QueryRootProjectArgs = {
  id: Scalars['ID']['input'];
};


/** Every query field, one object per resource. */
export type QueryRootProjectsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<ProjectFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  offset?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<ProjectOrder>;
};


/** Every query field, one object per resource. */
export type QueryRootSessionsArgs = {
  first?: Scalars['Int']['input'];
  offset?: Scalars['Int']['input'];
};


/** Every query field, one object per resource. */
export type QueryRootStatusEventArgs = {
  id: Scalars['ID']['input'];
};


/** Every query field, one object per resource. */
export type QueryRootStatusEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<StatusEventFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  offset?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<StatusEventOrder>;
};


/** Every query field, one object per resource. */
export type QueryRootSupportTicketArgs = {
  id: Scalars['ID']['input'];
};


/** Every query field, one object per resource. */
export type QueryRootSupportTicketsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<SupportTicketFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  offset?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<SupportTicketOrder>;
};

/** One-time recovery codes: each signs in once in place of a TOTP code. Shown only now. */
export type RecoveryCodesPayload = {
  __typename?: 'RecoveryCodesPayload';
  /** Ten codes like `abcde-fghjk`; earlier codes no longer work. */
  recoveryCodes: Array<Scalars['String']['output']>;
};

/** Exchange a refresh token for new tokens. */
export type RefreshTokenInput = {
  /** The refresh token from `login` or the previous refresh. */
  refreshToken: Scalars['String']['input'];
};

/** Create an account. */
export type RegisterInput = {
  /** 1–100 characters. */
  displayName: Scalars['String']['input'];
  /** Email address; compared case-insensitively and stored lowercased. */
  email: Scalars['String']['input'];
  /** 8–128 characters. */
  password: Scalars['String']['input'];
};

/** Result of `register`. */
export type RegisterPayload = {
  __typename?: 'RegisterPayload';
  /** The new account. */
  user: User;
};

/** Ask for a password-reset link by email. */
export type RequestPasswordResetInput = {
  email: Scalars['String']['input'];
};

/** Set a new password with the token of a reset link. */
export type ResetPasswordInput = {
  /** 8–128 characters. */
  newPassword: Scalars['String']['input'];
  /** The `token` of the link in the reset mail. */
  token: Scalars['String']['input'];
};

/** Result of `revokeOtherSessions`. */
export type RevokeOtherSessionsPayload = {
  __typename?: 'RevokeOtherSessionsPayload';
  /** How many sessions ended. */
  revokedCount: Scalars['Int']['output'];
};

/** End one of your sessions. */
export type RevokeSessionInput = {
  /** The session's id (from `sessions`). */
  id: Scalars['ID']['input'];
};

/** Result of `revokeSession`. */
export type RevokeSessionPayload = {
  __typename?: 'RevokeSessionPayload';
  /** The session that ended. */
  sessionId: Scalars['ID']['output'];
};

/** Result of `revokeUserSessions`. */
export type RevokeUserSessionsPayload = {
  __typename?: 'RevokeUserSessionsPayload';
  /** How many sessions ended. */
  revokedCount: Scalars['Int']['output'];
};

/** The current state of one service: its latest event. */
export type ServiceState = {
  __typename?: 'ServiceState';
  /** The message of the service's latest event (may be empty). */
  message: Scalars['String']['output'];
  /** The service: a lowercase slug. */
  service: Scalars['String']['output'];
  /** When the current status began: the first event of the unbroken run of this status. */
  since: Scalars['DateTime']['output'];
  /** The status of the service's latest event. */
  status: ServiceStatusLevel;
  /** When the service's latest event was recorded. */
  updatedAt: Scalars['DateTime']['output'];
};

/** How well a service works, from best to worst: the order is the order of severity. */
export type ServiceStatusLevel =
  /** Working, but slower or less reliable than usual. */
  | 'DEGRADED'
  /** Planned maintenance. */
  | 'MAINTENANCE'
  /** The service is unavailable. */
  | 'MAJOR_OUTAGE'
  /** Working normally. */
  | 'OPERATIONAL'
  /** Part of the service is unavailable. */
  | 'PARTIAL_OUTAGE';

/** The status page: every service that ever had an event, and the overall status. */
export type ServiceStatusSummary = {
  __typename?: 'ServiceStatusSummary';
  /** The most severe status of any service; OPERATIONAL when no event was ever recorded. */
  overall: ServiceStatusLevel;
  /** Every service's current state, sorted by service name. */
  services: Array<ServiceState>;
  /** When the latest event of any service was recorded; null when there is none. */
  updatedAt?: Maybe<Scalars['DateTime']['output']>;
};

export type Session = {
  __typename?: 'Session';
  /** When the session was opened (UTC). */
  createdAt: Scalars['DateTime']['output'];
  /** True for the session making this request. */
  current: Scalars['Boolean']['output'];
  /** The label given at sign-in (`device`), if any. */
  deviceLabel?: Maybe<Scalars['String']['output']>;
  /** Opaque, stable identifier. */
  id: Scalars['ID']['output'];
  /** The client address of the sign-in request. */
  ip?: Maybe<Scalars['String']['output']>;
  /** When the session was last used (UTC; updated at most once a minute). */
  lastSeenAt: Scalars['DateTime']['output'];
  /** The `User-Agent` of the sign-in request. */
  userAgent?: Maybe<Scalars['String']['output']>;
};

/** The caller's open sessions, newest first. */
export type SessionList = {
  __typename?: 'SessionList';
  /** This page of them. */
  nodes: Array<Session>;
  /** Open sessions in all. */
  totalCount: Scalars['Int']['output'];
};

/** Give an account another role (admins). */
export type SetUserRoleInput = {
  /** The account's id. */
  id: Scalars['ID']['input'];
  role: UserRole;
};

/** One recorded status of a service, at a moment in time. Events are never changed or deleted. */
export type StatusEvent = Node & {
  __typename?: 'StatusEvent';
  /** When the event was recorded (UTC). */
  createdAt: Scalars['DateTime']['output'];
  /** The staff member or admin who recorded the event; null once their account is deleted. */
  createdBy?: Maybe<User>;
  /**
   * The id of the staff member or admin who recorded the event; null once their account is
   * deleted.
   */
  createdById?: Maybe<Scalars['ID']['output']>;
  /** Opaque, stable identifier. */
  id: Scalars['ID']['output'];
  /** What is happening (up to 2,000 characters; may be empty). */
  message: Scalars['String']['output'];
  /** The service: a lowercase slug, 1–64 characters. */
  service: Scalars['String']['output'];
  /** The service's status from this moment on. */
  status: ServiceStatusLevel;
};

export type StatusEventConnection = {
  __typename?: 'StatusEventConnection';
  /** A list of edges. */
  edges: Array<StatusEventEdge>;
  /** A list of nodes. */
  nodes: Array<StatusEvent>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** Number of items matching the filter, across all pages. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type StatusEventEdge = {
  __typename?: 'StatusEventEdge';
  /** A cursor for use in pagination */
  cursor: Scalars['String']['output'];
  /** The item at the end of the edge */
  node: StatusEvent;
};

/** Filters for `statusEvents`. */
export type StatusEventFilter = {
  /** Only events of this service (a lowercase slug). */
  service?: InputMaybe<Scalars['String']['input']>;
};

/** Ordering for `statusEvents` (ties broken by id). Default: newest first. */
export type StatusEventOrder = {
  /** Default: DESC. */
  direction?: OrderDirection;
  /** The sort key. */
  field: StatusEventOrderBy;
};

/** Sort keys for `statusEvents`. */
export type StatusEventOrderBy =
  /** When the event was recorded. */
  | 'CREATED_AT';

/** Every subscription, one object per resource. */
export type SubscriptionRoot = {
  __typename?: 'SubscriptionRoot';
  /**
   * Every status event recorded from now on, by any server, as it commits. Anyone may
   * subscribe. Over WebSocket at `/graphql/ws` (`graphql-transport-ws`).
   */
  statusChanged: StatusEvent;
};


/** Every subscription, one object per resource. */
export type SubscriptionRootStatusChangedArgs = {
  service?: InputMaybe<Scalars['String']['input']>;
};

/** A request for help, visible to its requester, staff and admins. */
export type SupportTicket = Node & {
  __typename?: 'SupportTicket';
  /** The staff member handling the ticket; null while unassigned. */
  assignee?: Maybe<User>;
  /** The assignee's id; null while unassigned. */
  assigneeId?: Maybe<Scalars['ID']['output']>;
  /** 1–20,000 characters. */
  body: Scalars['String']['output'];
  /** When the ticket was opened (UTC). */
  createdAt: Scalars['DateTime']['output'];
  /** Opaque, stable identifier. */
  id: Scalars['ID']['output'];
  /** How urgent the ticket is. */
  priority: TicketPriority;
  /** The project the ticket is about; null when there is none or the caller cannot read it. */
  project?: Maybe<Project>;
  /** The id of the project the ticket is about, even when the caller may not read that project. */
  projectId?: Maybe<Scalars['ID']['output']>;
  /** The user who opened the ticket. */
  requester?: Maybe<User>;
  /** The requester's id: `requester { id }` without loading the user. */
  requesterId: Scalars['ID']['output'];
  /** Where the ticket is in its life cycle. */
  status: TicketStatus;
  /** One line, 1–200 characters. */
  subject: Scalars['String']['output'];
  /** When the ticket last changed (UTC). */
  updatedAt: Scalars['DateTime']['output'];
  /** Starts at 1, +1 on every change. Pass it as `expectedVersion` to update safely. */
  version: Scalars['Int']['output'];
};

export type SupportTicketConnection = {
  __typename?: 'SupportTicketConnection';
  /** A list of edges. */
  edges: Array<SupportTicketEdge>;
  /** A list of nodes. */
  nodes: Array<SupportTicket>;
  /** Information to aid in pagination. */
  pageInfo: PageInfo;
  /** Number of items matching the filter, across all pages. */
  totalCount: Scalars['Int']['output'];
};

/** An edge in a connection. */
export type SupportTicketEdge = {
  __typename?: 'SupportTicketEdge';
  /** A cursor for use in pagination */
  cursor: Scalars['String']['output'];
  /** The item at the end of the edge */
  node: SupportTicket;
};

/** Filters for `supportTickets`. All given filters must match. */
export type SupportTicketFilter = {
  /** Only tickets assigned to this user. */
  assigneeId?: InputMaybe<Scalars['ID']['input']>;
  /** Only tickets with this priority. */
  priority?: InputMaybe<TicketPriority>;
  /** Only tickets about this project. */
  projectId?: InputMaybe<Scalars['ID']['input']>;
  /** Only tickets opened by this user. */
  requesterId?: InputMaybe<Scalars['ID']['input']>;
  /** Only tickets in this status. */
  status?: InputMaybe<TicketStatus>;
};

/** Ordering for `supportTickets` (ties broken by id). Default: newest first. */
export type SupportTicketOrder = {
  /** Default: DESC. */
  direction?: OrderDirection;
  /** The sort key. */
  field: SupportTicketOrderBy;
};

/** Sort keys for `supportTickets`. */
export type SupportTicketOrderBy =
  /** When the ticket was opened. */
  | 'CREATED_AT'
  /** When the ticket last changed. */
  | 'UPDATED_AT';

/** How urgent a support ticket is. */
export type TicketPriority =
  /** Soon. */
  | 'HIGH'
  /** Whenever there is time. */
  | 'LOW'
  /** The default. */
  | 'NORMAL'
  /** Now. */
  | 'URGENT';

/** Where a support ticket is in its life cycle. */
export type TicketStatus =
  /** Done. Staff can reopen it. */
  | 'CLOSED'
  /** Staff are working on it. */
  | 'IN_PROGRESS'
  /** New, waiting for staff. The requester may still edit the subject and body. */
  | 'OPEN'
  /** Staff consider it solved; it can be reopened or closed. */
  | 'RESOLVED';

/** A code from the authenticator app. */
export type TotpCodeInput = {
  /** The 6-digit code the app shows now. */
  code: Scalars['String']['input'];
};

/**
 * What an authenticator app needs: scan `qrCode` or type `secret`, then call
 * `enableTwoFactor` with a code it shows.
 */
export type TwoFactorSetupPayload = {
  __typename?: 'TwoFactorSetupPayload';
  /** `otpauth://totp/...` URI (SHA-1, 6 digits, 30-second steps). */
  otpauthUri: Scalars['String']['output'];
  /** The URI as a QR code: an `data:image/svg+xml;base64,...` URI for an `<img src>`. */
  qrCode: Scalars['String']['output'];
  /** The TOTP secret, base32 (RFC 4648, no padding). Shown once; keep it secret. */
  secret: Scalars['String']['output'];
};

/** Change a community post. Omitted fields stay as they are. */
export type UpdateCommunityPostInput = {
  /** 1–20,000 characters. */
  body?: InputMaybe<Scalars['String']['input']>;
  /** The post to change. */
  id: Scalars['ID']['input'];
  /** Replaces every tag (same rules as on create). */
  tags?: InputMaybe<Array<Scalars['String']['input']>>;
  /** 1–200 characters, one line. */
  title?: InputMaybe<Scalars['String']['input']>;
};

/** Result of `updateCommunityPost`. */
export type UpdateCommunityPostPayload = {
  __typename?: 'UpdateCommunityPostPayload';
  /** The post as it is now. */
  communityPost: CommunityPost;
};

/** Change a project. Omitted fields stay as they are. */
export type UpdateProjectInput = {
  /** Up to 5,000 characters; null is an error (send "" to clear). */
  description?: InputMaybe<Scalars['String']['input']>;
  /** The project to change. */
  id: Scalars['ID']['input'];
  /** 1–120 characters; null is an error. */
  name?: InputMaybe<Scalars['String']['input']>;
  /** New visibility; null is an error. */
  visibility?: InputMaybe<Visibility>;
};

/** Result of `updateProject`. */
export type UpdateProjectPayload = {
  __typename?: 'UpdateProjectPayload';
  /** The project as changed. */
  project: Project;
};

/**
 * Change a support ticket. Omitted fields stay as they are. Staff and admins may change every
 * field; the requester may edit `subject` and `body` while the ticket is OPEN, and may set
 * `status` to CLOSED.
 */
export type UpdateSupportTicketInput = {
  /** A staff member or admin to handle the ticket; null unassigns it (staff only). */
  assigneeId?: InputMaybe<Scalars['ID']['input']>;
  /** 1–20,000 characters. */
  body?: InputMaybe<Scalars['String']['input']>;
  /** The ticket to change. */
  id: Scalars['ID']['input'];
  /** The new priority (staff only). */
  priority?: InputMaybe<TicketPriority>;
  /**
   * The new status. Allowed moves: OPEN → IN_PROGRESS/RESOLVED/CLOSED, IN_PROGRESS →
   * OPEN/RESOLVED/CLOSED, RESOLVED → CLOSED/OPEN, CLOSED → OPEN.
   */
  status?: InputMaybe<TicketStatus>;
  /** One line, 1–200 characters. */
  subject?: InputMaybe<Scalars['String']['input']>;
};

/** Result of `updateSupportTicket`. */
export type UpdateSupportTicketPayload = {
  __typename?: 'UpdateSupportTicketPayload';
  /** The ticket after the change. */
  ticket: SupportTicket;
};

export type User = Node & {
  __typename?: 'User';
  /** When the account was created (UTC). */
  createdAt: Scalars['DateTime']['output'];
  /** Whether an admin has disabled the account. Visible to the user and to admins. */
  disabled?: Maybe<Scalars['Boolean']['output']>;
  /** Public name shown next to the user's posts and tickets. */
  displayName: Scalars['String']['output'];
  /** Email address (lowercased). Visible only to the user themself and to staff; null otherwise. */
  email?: Maybe<Scalars['String']['output']>;
  /** Whether the email address was confirmed. Visible to the user and to admins. */
  emailVerified?: Maybe<Scalars['Boolean']['output']>;
  /** Opaque, stable identifier. */
  id: Scalars['ID']['output'];
  /** The user's role. */
  role: UserRole;
  /** Whether sign-in needs a TOTP code. Visible to the user and to admins. */
  twoFactorEnabled?: Maybe<Scalars['Boolean']['output']>;
};

/** An account to act on (admins). */
export type UserIdInput = {
  /** The account's id. */
  id: Scalars['ID']['input'];
};

/** What an account may do. */
export type UserRole =
  /** Full administrative rights. */
  | 'ADMIN'
  /** Support staff: handles tickets, moderates posts, records status events. */
  | 'STAFF'
  /** A regular member. */
  | 'USER';

/** Confirm an email address with the token of a verification link. */
export type VerifyEmailInput = {
  /** The `token` of the link in the verification mail. */
  token: Scalars['String']['input'];
};

/** Who can see a project. */
export type Visibility =
  /** Only the owner and admins. */
  | 'PRIVATE'
  /** Anyone, signed in or not. */
  | 'PUBLIC';

export type TokenFieldsFragment = { __typename?: 'AuthPayload', accessToken: string, tokenType: string, expiresIn: number, refreshToken?: string | null, sessionId: string, user: { __typename?: 'User', id: string, email?: string | null, displayName: string, role: UserRole } };

export type LoginMutationVariables = Exact<{
  input: LoginInput;
}>;


export type LoginMutation = { __typename?: 'MutationRoot', login: { __typename?: 'AuthPayload', accessToken: string, tokenType: string, expiresIn: number, refreshToken?: string | null, sessionId: string, user: { __typename?: 'User', id: string, email?: string | null, displayName: string, role: UserRole } } };

export type RefreshTokenMutationVariables = Exact<{
  input: RefreshTokenInput;
}>;


export type RefreshTokenMutation = { __typename?: 'MutationRoot', refreshToken: { __typename?: 'AuthPayload', accessToken: string, tokenType: string, expiresIn: number, refreshToken?: string | null, sessionId: string, user: { __typename?: 'User', id: string, email?: string | null, displayName: string, role: UserRole } } };

export type ViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type ViewerQuery = { __typename?: 'QueryRoot', viewer?: { __typename?: 'User', id: string, email?: string | null, displayName: string, role: UserRole } | null };

export type ProjectFieldsFragment = { __typename?: 'Project', id: string, ownerId: string, name: string, description: string, visibility: Visibility, createdAt: string, updatedAt: string, version: number };

export type ProjectQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type ProjectQuery = { __typename?: 'QueryRoot', project?: { __typename?: 'Project', id: string, ownerId: string, name: string, description: string, visibility: Visibility, createdAt: string, updatedAt: string, version: number } | null };

export type ProjectsQueryVariables = Exact<{
  first?: InputMaybe<Scalars['Int']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<ProjectFilter>;
}>;


export type ProjectsQuery = { __typename?: 'QueryRoot', projects: { __typename?: 'ProjectConnection', totalCount: number, pageInfo: { __typename?: 'PageInfo', hasNextPage: boolean, endCursor?: string | null }, nodes: Array<{ __typename?: 'Project', id: string, ownerId: string, name: string, description: string, visibility: Visibility, createdAt: string, updatedAt: string, version: number }> } };

export type CreateProjectMutationVariables = Exact<{
  input: CreateProjectInput;
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
}>;


export type CreateProjectMutation = { __typename?: 'MutationRoot', createProject: { __typename?: 'CreateProjectPayload', project: { __typename?: 'Project', id: string, ownerId: string, name: string, description: string, visibility: Visibility, createdAt: string, updatedAt: string, version: number } } };

export type UpdateProjectMutationVariables = Exact<{
  input: UpdateProjectInput;
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
}>;


export type UpdateProjectMutation = { __typename?: 'MutationRoot', updateProject: { __typename?: 'UpdateProjectPayload', project: { __typename?: 'Project', id: string, ownerId: string, name: string, description: string, visibility: Visibility, createdAt: string, updatedAt: string, version: number } } };

export type DeleteProjectMutationVariables = Exact<{
  input: DeleteProjectInput;
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
}>;


export type DeleteProjectMutation = { __typename?: 'MutationRoot', deleteProject: { __typename?: 'DeleteProjectPayload', deletedId: string } };

export type TicketFieldsFragment = { __typename?: 'SupportTicket', id: string, requesterId: string, projectId?: string | null, subject: string, body: string, status: TicketStatus, priority: TicketPriority, assigneeId?: string | null, createdAt: string, updatedAt: string, version: number };

export type CreateSupportTicketMutationVariables = Exact<{
  input: CreateSupportTicketInput;
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
}>;


export type CreateSupportTicketMutation = { __typename?: 'MutationRoot', createSupportTicket: { __typename?: 'CreateSupportTicketPayload', ticket: { __typename?: 'SupportTicket', id: string, requesterId: string, projectId?: string | null, subject: string, body: string, status: TicketStatus, priority: TicketPriority, assigneeId?: string | null, createdAt: string, updatedAt: string, version: number } } };

export type UpdateSupportTicketMutationVariables = Exact<{
  input: UpdateSupportTicketInput;
  expectedVersion?: InputMaybe<Scalars['Int']['input']>;
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
}>;


export type UpdateSupportTicketMutation = { __typename?: 'MutationRoot', updateSupportTicket: { __typename?: 'UpdateSupportTicketPayload', ticket: { __typename?: 'SupportTicket', id: string, requesterId: string, projectId?: string | null, subject: string, body: string, status: TicketStatus, priority: TicketPriority, assigneeId?: string | null, createdAt: string, updatedAt: string, version: number } } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const TokenFieldsFragmentDoc = new TypedDocumentString(`
    fragment TokenFields on AuthPayload {
  accessToken
  tokenType
  expiresIn
  refreshToken
  sessionId
  user {
    id
    email
    displayName
    role
  }
}
    `, {"fragmentName":"TokenFields"}) as unknown as TypedDocumentString<TokenFieldsFragment, unknown>;
export const ProjectFieldsFragmentDoc = new TypedDocumentString(`
    fragment ProjectFields on Project {
  id
  ownerId
  name
  description
  visibility
  createdAt
  updatedAt
  version
}
    `, {"fragmentName":"ProjectFields"}) as unknown as TypedDocumentString<ProjectFieldsFragment, unknown>;
export const TicketFieldsFragmentDoc = new TypedDocumentString(`
    fragment TicketFields on SupportTicket {
  id
  requesterId
  projectId
  subject
  body
  status
  priority
  assigneeId
  createdAt
  updatedAt
  version
}
    `, {"fragmentName":"TicketFields"}) as unknown as TypedDocumentString<TicketFieldsFragment, unknown>;
export const LoginDocument = new TypedDocumentString(`
    mutation Login($input: LoginInput!) {
  login(input: $input) {
    ...TokenFields
  }
}
    fragment TokenFields on AuthPayload {
  accessToken
  tokenType
  expiresIn
  refreshToken
  sessionId
  user {
    id
    email
    displayName
    role
  }
}`) as unknown as TypedDocumentString<LoginMutation, LoginMutationVariables>;
export const RefreshTokenDocument = new TypedDocumentString(`
    mutation RefreshToken($input: RefreshTokenInput!) {
  refreshToken(input: $input) {
    ...TokenFields
  }
}
    fragment TokenFields on AuthPayload {
  accessToken
  tokenType
  expiresIn
  refreshToken
  sessionId
  user {
    id
    email
    displayName
    role
  }
}`) as unknown as TypedDocumentString<RefreshTokenMutation, RefreshTokenMutationVariables>;
export const ViewerDocument = new TypedDocumentString(`
    query Viewer {
  viewer {
    id
    email
    displayName
    role
  }
}
    `) as unknown as TypedDocumentString<ViewerQuery, ViewerQueryVariables>;
export const ProjectDocument = new TypedDocumentString(`
    query Project($id: ID!) {
  project(id: $id) {
    ...ProjectFields
  }
}
    fragment ProjectFields on Project {
  id
  ownerId
  name
  description
  visibility
  createdAt
  updatedAt
  version
}`) as unknown as TypedDocumentString<ProjectQuery, ProjectQueryVariables>;
export const ProjectsDocument = new TypedDocumentString(`
    query Projects($first: Int, $after: String, $filter: ProjectFilter) {
  projects(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    nodes {
      ...ProjectFields
    }
  }
}
    fragment ProjectFields on Project {
  id
  ownerId
  name
  description
  visibility
  createdAt
  updatedAt
  version
}`) as unknown as TypedDocumentString<ProjectsQuery, ProjectsQueryVariables>;
export const CreateProjectDocument = new TypedDocumentString(`
    mutation CreateProject($input: CreateProjectInput!, $idempotencyKey: String) {
  createProject(input: $input, idempotencyKey: $idempotencyKey) {
    project {
      ...ProjectFields
    }
  }
}
    fragment ProjectFields on Project {
  id
  ownerId
  name
  description
  visibility
  createdAt
  updatedAt
  version
}`) as unknown as TypedDocumentString<CreateProjectMutation, CreateProjectMutationVariables>;
export const UpdateProjectDocument = new TypedDocumentString(`
    mutation UpdateProject($input: UpdateProjectInput!, $expectedVersion: Int, $idempotencyKey: String) {
  updateProject(
    input: $input
    expectedVersion: $expectedVersion
    idempotencyKey: $idempotencyKey
  ) {
    project {
      ...ProjectFields
    }
  }
}
    fragment ProjectFields on Project {
  id
  ownerId
  name
  description
  visibility
  createdAt
  updatedAt
  version
}`) as unknown as TypedDocumentString<UpdateProjectMutation, UpdateProjectMutationVariables>;
export const DeleteProjectDocument = new TypedDocumentString(`
    mutation DeleteProject($input: DeleteProjectInput!, $expectedVersion: Int) {
  deleteProject(input: $input, expectedVersion: $expectedVersion) {
    deletedId
  }
}
    `) as unknown as TypedDocumentString<DeleteProjectMutation, DeleteProjectMutationVariables>;
export const CreateSupportTicketDocument = new TypedDocumentString(`
    mutation CreateSupportTicket($input: CreateSupportTicketInput!, $idempotencyKey: String) {
  createSupportTicket(input: $input, idempotencyKey: $idempotencyKey) {
    ticket {
      ...TicketFields
    }
  }
}
    fragment TicketFields on SupportTicket {
  id
  requesterId
  projectId
  subject
  body
  status
  priority
  assigneeId
  createdAt
  updatedAt
  version
}`) as unknown as TypedDocumentString<CreateSupportTicketMutation, CreateSupportTicketMutationVariables>;
export const UpdateSupportTicketDocument = new TypedDocumentString(`
    mutation UpdateSupportTicket($input: UpdateSupportTicketInput!, $expectedVersion: Int, $idempotencyKey: String) {
  updateSupportTicket(
    input: $input
    expectedVersion: $expectedVersion
    idempotencyKey: $idempotencyKey
  ) {
    ticket {
      ...TicketFields
    }
  }
}
    fragment TicketFields on SupportTicket {
  id
  requesterId
  projectId
  subject
  body
  status
  priority
  assigneeId
  createdAt
  updatedAt
  version
}`) as unknown as TypedDocumentString<UpdateSupportTicketMutation, UpdateSupportTicketMutationVariables>;