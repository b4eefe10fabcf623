// The fetch-based client: bearer auth with refresh, an Idempotency-Key per logical write reused
// on every retry, retries with backoff (network errors, 409, 429, 503; Retry-After honoured),
// and an ETag cache that revalidates GETs with If-None-Match. Uses only fetch and Web Crypto.

import { ApiError, ConflictError, NetworkError } from './errors.js';
import { defaultRetry, delayFor, parseRetryAfter, sleep, type RetryPolicy } from './retry.js';
import type { components } from './generated/openapi.js';

export type Tokens = components['schemas']['Tokens'];

export interface ClientOptions {
  /** The server's origin, e.g. `https://api.example.com` (REST is under `/api/v1`). */
  baseUrl: string;
  fetch?: typeof fetch;
  accessToken?: string;
  refreshToken?: string;
  /**
   * `body`: refresh with the stored refresh token (servers, native apps). `cookie`: browsers;
   * the HttpOnly refresh cookie travels with `credentials: 'include'` and the body is `{}`.
   */
  refreshMode?: 'body' | 'cookie';
  /** Called whenever sign-in or refresh yields new tokens (persist them here). */
  onTokens?: (tokens: Tokens) => void;
  retry?: Partial<RetryPolicy>;
  /** Mints idempotency keys; default `crypto.randomUUID()`. */
  mintKey?: () => string;
  sleep?: (ms: number) => Promise<void>;
}

export interface RequestOptions {
  body?: unknown;
  /** The ETag the write is conditional on. */
  ifMatch?: string;
  /** A write's key; minted when absent (POST, PATCH). Give one to tie retries across restarts. */
  idempotencyKey?: string;
  /** Skip the ETag cache for this GET. */
  noCache?: boolean;
  headers?: Record<string, string>;
  /** Whether a lost answer may be resent; default: reads, DELETE, and keyed writes. */
  retryable?: boolean;
  /** Don't send the access token (sign-in and refresh: a stale one would be refused). */
  anonymous?: boolean;
  /** Don't send `Idempotency-Key` (the key travels elsewhere, e.g. GraphQL variables). */
  noKeyHeader?: boolean;
}

export interface Reply<T> {
  status: number;
  data: T;
  etag: string | undefined;
  headers: Headers;
  /** The server replayed a stored result for this idempotency key. */
  replayed: boolean;
  /** Answered from the ETag cache after a 304. */
  fromCache: boolean;
  /** The key the write was sent with (the same on every retry). */
  idempotencyKey: string | undefined;
}

interface Cached {
  etag: string;
  data: unknown;
}

const KEYED = new Set(['POST', 'PATCH']);
/** Cached GET representations kept at most (oldest dropped first). */
const CACHE_ENTRIES = 500;
const SAFE = new Set(['GET', 'HEAD', 'DELETE', 'PUT', 'OPTIONS']);
/** Writes that must never be sent twice: a refresh token works once. */
const NO_RETRY_PATHS = ['/auth/refresh', '/auth/login', '/auth/logout', '/auth/register'];

export class NeoForgeClient {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private accessToken: string | undefined;
  private refreshToken: string | undefined;
  private readonly refreshMode: 'body' | 'cookie';
  private readonly onTokens: ((tokens: Tokens) => void) | undefined;
  private readonly retry: RetryPolicy;
  private readonly mintKey: () => string;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly cache = new Map<string, Cached>();
  private refreshing: Promise<boolean> | undefined;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.accessToken = options.accessToken;
    this.refreshToken = options.refreshToken;
    this.refreshMode = options.refreshMode ?? 'body';
    this.onTokens = options.onTokens;
    this.retry = { ...defaultRetry, ...options.retry };
    this.mintKey = options.mintKey ?? (() => globalThis.crypto.randomUUID());
    this.sleep = options.sleep ?? sleep;
  }

  /** Signs in (REST `/auth/login`); `extra` carries e.g. a second factor (`totp_code`). */
  async login(email: string, password: string, extra: Record<string, unknown> = {}): Promise<Tokens> {
    const reply = await this.rest<Tokens>('POST', '/auth/login', {
      body: { email, password, ...extra },
      anonymous: true,
    });
    this.setTokens(reply.data);
    return reply.data;
  }

  /** Exchanges the refresh token (or cookie) for new tokens; false when it is refused. */
  refresh(): Promise<boolean> {
    // One refresh at a time: concurrent 401s share it (a refresh token works once).
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    if (this.refreshMode === 'body' && this.refreshToken === undefined) return false;
    const body = this.refreshMode === 'body' ? { refresh_token: this.refreshToken } : {};
    try {
      const reply = await this.send<Tokens>('POST', '/api/v1/auth/refresh', { body, anonymous: true }, false);
      this.setTokens(reply.data);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) return false;
      throw err;
    }
  }

  setTokens(tokens: Pick<Tokens, 'access_token'> & Partial<Tokens>): void {
    this.accessToken = tokens.access_token;
    if (tokens.refresh_token) this.refreshToken = tokens.refresh_token;
    if (tokens.user) this.onTokens?.(tokens as Tokens);
  }

  get tokens(): { accessToken: string | undefined; refreshToken: string | undefined } {
    return { accessToken: this.accessToken, refreshToken: this.refreshToken };
  }

  /** A REST call under `/api/v1`. */
  rest<T>(method: string, path: string, options: RequestOptions = {}): Promise<Reply<T>> {
    return this.send<T>(method, `/api/v1${path}`, options, true);
  }

  /** Sends one logical request: retried, refreshed and revalidated as the module says. */
  async send<T>(method: string, path: string, options: RequestOptions, mayRefresh: boolean): Promise<Reply<T>> {
    method = method.toUpperCase();
    const url = this.baseUrl + path;
    const key = KEYED.has(method) && !options.noKeyHeader ? (options.idempotencyKey ?? this.mintKey()) : undefined;
    const retryable =
      options.retryable ?? (SAFE.has(method) || (key !== undefined && !NO_RETRY_PATHS.some((p) => path.endsWith(p))));
    const cacheKey = `${this.accessToken === undefined ? 'anon' : 'auth'} ${url}`;
    let refreshed = !mayRefresh;
    let lostAnswer = false;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
      if (this.accessToken !== undefined && !options.anonymous) headers.authorization = `Bearer ${this.accessToken}`;
      if (key !== undefined) headers['idempotency-key'] = key;
      if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch;
      const cached = method === 'GET' && !options.noCache ? this.cache.get(cacheKey) : undefined;
      if (cached) headers['if-none-match'] = cached.etag;
      let body: string | undefined;
      if (options.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(options.body);
      }
      const last = attempt + 1 >= this.retry.attempts;

      let res: Response;
      let text: string;
      try {
        res = await this.fetchImpl(url, {
          method,
          headers,
          body,
          credentials: this.refreshMode === 'cookie' ? 'include' : 'same-origin',
        });
        text = await res.text();
      } catch (cause) {
        if (!retryable || last) throw new NetworkError(cause);
        lostAnswer = true;
        await this.sleep(delayFor(this.retry, attempt));
        continue;
      }
      const etag = res.headers.get('etag') ?? undefined;
      const reply = (data: unknown, fromCache: boolean): Reply<T> => ({
        status: res.status,
        data: data as T,
        etag,
        headers: res.headers,
        replayed: res.headers.get('idempotent-replayed') === 'true',
        fromCache,
        idempotencyKey: key,
      });
      if (res.status === 304 && cached) return reply(cached.data, true);
      const data: unknown = text === '' ? undefined : safeJson(text);
      if (res.ok) {
        if (method === 'GET' && etag !== undefined) this.remember(cacheKey, { etag, data });
        return reply(data, false);
      }
      // The first DELETE went through but its answer was lost: the resource is gone, as asked.
      if (method === 'DELETE' && lostAnswer && res.status === 404) return reply(undefined, false);
      const problem = (data ?? {}) as { code?: string; detail?: string; current?: unknown; errors?: { message?: string }[] };
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      if (res.status === 401 && !refreshed && !path.endsWith('/auth/login')) {
        refreshed = true;
        if (await this.refresh()) {
          attempt--; // a refresh is not a failed attempt
          continue;
        }
      }
      if (res.status === 412) {
        const current = problem.current;
        const version = (current as { version?: number } | undefined)?.version;
        throw new ConflictError(412, problem.detail ?? 'precondition failed', data, current, version, etag, options.body);
      }
      // 409 is only worth retrying when the server says the same key is still running.
      const transient =
        res.status === 503 || res.status === 429 || (res.status === 409 && problem.code === 'IDEMPOTENCY_KEY_IN_USE');
      if (transient && (retryable || res.status !== 409) && !last) {
        await this.sleep(delayFor(this.retry, attempt, retryAfterMs));
        continue;
      }
      const message = problem.detail ?? problem.errors?.[0]?.message ?? res.statusText;
      throw new ApiError(res.status, problem.code ?? `HTTP_${res.status}`, message, data, retryAfterMs);
    }
  }

  private remember(key: string, entry: Cached): void {
    this.cache.delete(key);
    this.cache.set(key, entry);
    if (this.cache.size > CACHE_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }

  /** Forgets cached GET representations (e.g. after signing out). */
  clearCache(): void {
    this.cache.clear();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
