import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NatsConnection } from 'nats';
import { z } from 'zod';
import { moduleLog } from '../../core/src/log.js';
import type { SfuClient } from '../../core/src/sfu/SfuClient.js';
import { signDevToken } from './devToken.js';
import { ForbiddenError, NotFoundError } from '../../core/src/errors.js';
import { BadRequestError, MethodNotAllowedError, TokenRefusedError, UnsupportedMediaTypeError } from './errors.js';
import { languageTagSchema } from '../../core/src/languages/languageTag.js';
import { sessionControlSubject } from '../../core/src/subjects.js';
import { encodeControlEvent } from './sessionControl.js';
import type { SessionInfo, SessionStore } from './SessionStore.js';
import type { Principal, TokenVerifier } from './TokenVerifier.js';

const log = moduleLog('RestApi');

export interface RestApiOptions {
  verifier: TokenVerifier;
  store: SessionStore;
  nc: NatsConnection;
  sfu: SfuClient;
  nodeId: string;
  /**
   * HS256 secret for minting viewer-link tokens. Unset (JWKS deployments, where only the identity
   * provider signs), the viewer link carries the session id and the integrator appends a token.
   */
  viewerLinkSecret: string | undefined;
  /** Base URL of the links; unset: http://<Host header>. */
  publicUrl: string | undefined;
  maxBodyBytes?: number;
}

/** How long a viewer link minted by POST /api/sessions stays valid. */
export const VIEWER_LINK_TTL_SECONDS = 24 * 3600;
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

const createSessionBody = z
  .object({
    title: z.string().trim().min(1).max(200),
    sourceLanguage: languageTagSchema,
  })
  .strict();
/** start and end take no parameters; an empty body or `{}` is accepted. */
const emptyBody = z.object({}).strict();

const SESSION_PATH = /^\/api\/sessions\/([^/]+)$/;
const SESSION_ACTION_PATH = /^\/api\/sessions\/([^/]+)\/(start|end)$/;

/**
 * The REST API under /api: JSON in and out, every body decoded by one zod schema, errors as
 * `{error:{code,message}}` (the caller, SignalingServer, maps thrown errors through closeCodes.ts).
 * Every read and write is scoped to the token's organization.
 */
export class RestApi {
  readonly #opts: RestApiOptions;
  readonly #maxBodyBytes: number;
  /** closeSession calls still running (awaited by close()). */
  readonly #background = new Set<Promise<void>>();

  constructor(opts: RestApiOptions) {
    this.#opts = opts;
    this.#maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }

  /** Handles a request whose path starts with /api/. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/api/sessions') {
      if (method !== 'POST') throw new MethodNotAllowedError(`${method} ${path}`, ['POST']);
      const principal = await this.#authenticate(req);
      requireHost(principal, 'create sessions');
      const body = createSessionBody.safeParse(await this.#readJson(req, true));
      if (!body.success) throw invalid(body.error);
      const session = await this.#opts.store.create(principal, body.data);
      log.info({ sessionId: session.id, org: principal.org }, 'session created');
      return sendJson(res, 201, { session: toWire(session), ...(await this.#links(req, session)) });
    }
    const action = SESSION_ACTION_PATH.exec(path);
    if (action) {
      if (method !== 'POST') throw new MethodNotAllowedError(`${method} ${path}`, ['POST']);
      const principal = await this.#authenticate(req);
      const body = emptyBody.safeParse(await this.#readJson(req, false));
      if (!body.success) throw invalid(body.error);
      const id = decodeURIComponent(action[1] ?? '');
      // Reading first: a token of another organization gets 404 whatever its role.
      await this.#opts.store.get(principal.org, id);
      requireHost(principal, `${action[2]} sessions`);
      if (action[2] === 'start') {
        return sendJson(res, 200, { session: toWire(await this.#opts.store.start(principal.org, id)) });
      }
      const { session, changed } = await this.#opts.store.end(principal.org, id);
      // Published on every call, not only the first: a retried end also reaches sockets that a
      // lost publish missed. Sockets then close with 4410 on every node.
      this.#publishEnded(session.id);
      if (changed) {
        log.info({ sessionId: session.id }, 'session ended');
        this.#closeMedia(session.id);
      }
      return sendJson(res, 200, { session: toWire(session) });
    }
    const one = SESSION_PATH.exec(path);
    if (one) {
      if (method !== 'GET') throw new MethodNotAllowedError(`${method} ${path}`, ['GET']);
      const principal = await this.#authenticate(req);
      const id = decodeURIComponent(one[1] ?? '');
      // A viewer token opens its own session only; hosts and speakers read any of their organization's.
      if (principal.role === 'viewer' && principal.session !== id) throw new NotFoundError('no such session');
      return sendJson(res, 200, { session: toWire(await this.#opts.store.get(principal.org, id)) });
    }
    throw new NotFoundError(`no route for ${path}`);
  }

  /** Waits for background SFU calls (shutdown). */
  async close(): Promise<void> {
    await Promise.all(this.#background);
  }

  async #authenticate(req: IncomingMessage): Promise<Principal> {
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) throw new TokenRefusedError('Authorization: Bearer <token> required', 'missing');
    return this.#opts.verifier.verify(match[1]);
  }

  async #readJson(req: IncomingMessage, required: boolean): Promise<unknown> {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > this.#maxBodyBytes) throw new BadRequestError(`body exceeds ${this.#maxBodyBytes} bytes`, 'message_too_large');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += buf.length;
      if (size > this.#maxBodyBytes) throw new BadRequestError(`body exceeds ${this.#maxBodyBytes} bytes`, 'message_too_large');
      chunks.push(buf);
    }
    if (size === 0) {
      if (required) throw new BadRequestError('a JSON body is required', 'invalid_message');
      return {};
    }
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) throw new UnsupportedMediaTypeError('Content-Type must be application/json');
    try {
      const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      return value;
    } catch (err) {
      throw new BadRequestError('body is not valid JSON', 'bad_json', err);
    }
  }

  async #links(req: IncomingMessage, session: SessionInfo): Promise<{ viewerUrl: string; hostUrl: string }> {
    const base = this.#opts.publicUrl ?? `http://${req.headers.host ?? 'localhost'}`;
    const secret = this.#opts.viewerLinkSecret;
    // The token travels in the fragment, which browsers never send to a server (seed I-1).
    const fragment = new URLSearchParams({ session: session.id });
    if (secret !== undefined) {
      fragment.set(
        'token',
        await signDevToken(secret, {
          sub: `viewer-link-${session.id}`,
          org: session.organizationId,
          session: session.id,
          role: 'viewer',
          name: 'Viewer',
          ttlSeconds: VIEWER_LINK_TTL_SECONDS,
        }),
      );
    }
    return { viewerUrl: `${base}/viewer.html#${fragment.toString()}`, hostUrl: `${base}/host.html#session=${session.id}` };
  }

  #publishEnded(session: string): void {
    this.#opts.nc.publish(sessionControlSubject(session), encodeControlEvent({ v: 1, type: 'ended', session, node: this.#opts.nodeId, at: Date.now() }));
  }

  /** Releases the session's router on its SFU; the session is ended whether or not this succeeds. */
  #closeMedia(session: string): void {
    const task = (async () => {
      try {
        const { node } = await this.#opts.sfu.place(session);
        await this.#opts.sfu.request(node, 'closeSession', { session });
      } catch (err) {
        log.warn({ err, sessionId: session }, 'closeSession failed; the SFU keeps the router until it restarts');
      }
    })();
    this.#background.add(task);
    void task.finally(() => this.#background.delete(task));
  }
}

function requireHost(principal: Principal, what: string): void {
  if (principal.role !== 'host') throw new ForbiddenError(`only a host may ${what}`);
}

function invalid(err: z.ZodError): BadRequestError {
  const what = err.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
    .join('; ');
  return new BadRequestError(what, 'invalid_message');
}

function toWire(s: SessionInfo): Record<string, unknown> {
  return {
    id: s.id,
    organizationId: s.organizationId,
    title: s.title,
    sourceLanguage: s.sourceLanguage,
    status: s.status,
    createdAt: s.createdAt.toISOString(),
    startedAt: s.startedAt?.toISOString() ?? null,
    endedAt: s.endedAt?.toISOString() ?? null,
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}
