import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import tap from 'tap';
import { TokenVerifier } from '../src/TokenVerifier.js';
import { userIdFor } from '../src/identity.js';
import { mint, startSignaling, TEST_SECRET } from './fixtures/signaling.js';
import { TestClient } from './fixtures/TestClient.js';

async function call(base: string, method: string, path: string, opts: { token?: string; body?: unknown; raw?: string; type?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.raw !== undefined || opts.body !== undefined) {
    body = opts.raw ?? JSON.stringify(opts.body);
    headers['content-type'] = opts.type ?? 'application/json';
  }
  const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

tap.test('POST /api/sessions creates an org-scoped session and returns links', async (t) => {
  const s = await startSignaling(t);
  const org = randomUUID();
  const host = await mint({ org, role: 'host', sub: 'idp|hana', name: 'Hana' });
  const res = await call(s.base, 'POST', '/api/sessions', { token: host, body: { title: '  Quarterly review ', sourceLanguage: 'en-US' } });
  t.equal(res.status, 201);
  const session = res.json.session as Record<string, unknown>;
  t.match(session, { organizationId: org, title: 'Quarterly review', sourceLanguage: 'en-US', status: 'scheduled', startedAt: null, endedAt: null });

  const viewerUrl = new URL(String(res.json.viewerUrl));
  t.equal(viewerUrl.pathname, '/viewer.html');
  t.equal(viewerUrl.search, '', 'nothing in the query string');
  const fragment = new URLSearchParams(viewerUrl.hash.slice(1));
  t.equal(fragment.get('session'), session.id);
  const viewer = await new TokenVerifier({ secret: TEST_SECRET }).verify(fragment.get('token') ?? '');
  t.match(viewer, { org, session: session.id, role: 'viewer' }, 'the link carries a viewer token for this session');
  t.match(String(res.json.hostUrl), /\/host\.html#session=/);

  const user = await s.db.selectFrom('users').selectAll().where('id', '=', userIdFor(org, 'idp|hana')).executeTakeFirstOrThrow();
  t.match(user, { organization_id: org, display_name: 'Hana' }, 'the user row is created on first sight');
  const again = await call(s.base, 'POST', '/api/sessions', { token: host, body: { title: 'Second', sourceLanguage: 'fr' } });
  t.equal(again.status, 201, 'and reused after');
  const count = await s.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('organization_id', '=', org).executeTakeFirstOrThrow();
  t.equal(Number(count.n), 1);
});

tap.test('REST errors: status and {error:{code,message}}', async (t) => {
  const s = await startSignaling(t);
  const org = randomUUID();
  const host = await mint({ org, role: 'host' });
  const valid = { title: 'T', sourceLanguage: 'en' };
  const cases: Array<[string, Parameters<typeof call>, number, string]> = [
    ['no token', [s.base, 'POST', '/api/sessions', { body: valid }], 401, 'unauthenticated'],
    ['bad token', [s.base, 'POST', '/api/sessions', { token: 'x.y.z', body: valid }], 401, 'unauthenticated'],
    ['viewer creates', [s.base, 'POST', '/api/sessions', { token: await mint({ org, role: 'viewer' }), body: valid }], 403, 'forbidden'],
    ['bad JSON', [s.base, 'POST', '/api/sessions', { token: host, raw: '{"title":' }], 400, 'bad_json'],
    ['missing field', [s.base, 'POST', '/api/sessions', { token: host, body: { title: 'T' } }], 400, 'invalid_request'],
    ['unknown field', [s.base, 'POST', '/api/sessions', { token: host, body: { ...valid, admin: true } }], 400, 'invalid_request'],
    ['bad language', [s.base, 'POST', '/api/sessions', { token: host, body: { ...valid, sourceLanguage: 'english please' } }], 400, 'invalid_request'],
    ['empty title', [s.base, 'POST', '/api/sessions', { token: host, body: { ...valid, title: '   ' } }], 400, 'invalid_request'],
    ['no body', [s.base, 'POST', '/api/sessions', { token: host }], 400, 'invalid_request'],
    ['not JSON', [s.base, 'POST', '/api/sessions', { token: host, raw: 'title=T', type: 'application/x-www-form-urlencoded' }], 415, 'unsupported_media_type'],
    ['too large', [s.base, 'POST', '/api/sessions', { token: host, body: { ...valid, title: 'x'.repeat(70_000) } }], 413, 'payload_too_large'],
    ['wrong method', [s.base, 'DELETE', '/api/sessions', { token: host }], 405, 'method_not_allowed'],
    ['no route', [s.base, 'GET', '/api/nothing', { token: host }], 404, 'not_found'],
    ['not a uuid', [s.base, 'GET', '/api/sessions/42', { token: host }], 404, 'not_found'],
    ['unknown session', [s.base, 'GET', `/api/sessions/${randomUUID()}`, { token: host }], 404, 'not_found'],
  ];
  for (const [what, args, status, code] of cases) {
    const res = await call(...args);
    t.equal(res.status, status, what);
    t.match(res.json, { error: { code, message: String } }, what);
  }
  const unauth = await call(s.base, 'GET', `/api/sessions/${randomUUID()}`);
  t.equal(unauth.headers.get('www-authenticate'), 'Bearer');
  const wrongMethod = await call(s.base, 'GET', `/api/sessions/${randomUUID()}/start`, { token: host });
  t.equal(wrongMethod.headers.get('allow'), 'POST');
});

tap.test('organizations are isolated: another org sees 404, never the data', async (t) => {
  const s = await startSignaling(t);
  const acme = randomUUID();
  const globex = randomUUID();
  const acmeHost = await mint({ org: acme, role: 'host' });
  const globexHost = await mint({ org: globex, role: 'host' });
  const created = await call(s.base, 'POST', '/api/sessions', { token: acmeHost, body: { title: 'Acme only', sourceLanguage: 'en' } });
  const id = String((created.json.session as { id: string }).id);

  const own = await call(s.base, 'GET', `/api/sessions/${id}`, { token: acmeHost });
  t.equal(own.status, 200);
  t.match(own.json, { session: { id, title: 'Acme only' } });

  const missing = await call(s.base, 'GET', `/api/sessions/${randomUUID()}`, { token: globexHost });
  for (const [method, path] of [
    ['GET', `/api/sessions/${id}`],
    ['POST', `/api/sessions/${id}/start`],
    ['POST', `/api/sessions/${id}/end`],
  ] as const) {
    const res = await call(s.base, method, path, { token: globexHost });
    t.equal(res.status, 404, `${method} ${path} from another org`);
    t.same(res.json, missing.json, 'indistinguishable from a session that does not exist');
    t.notMatch(JSON.stringify(res.json), 'Acme only');
  }
  const row = await s.db.selectFrom('sessions').select('status').where('id', '=', id).executeTakeFirstOrThrow();
  t.equal(row.status, 'scheduled', "another org's start/end changed nothing");

  const ownViewer = await mint({ org: acme, role: 'viewer', session: id });
  t.equal((await call(s.base, 'GET', `/api/sessions/${id}`, { token: ownViewer })).status, 200, 'a viewer reads its own session');
  const otherViewer = await mint({ org: acme, role: 'viewer', session: randomUUID() });
  t.equal((await call(s.base, 'GET', `/api/sessions/${id}`, { token: otherViewer })).status, 404, 'but not another session of its org');
  t.equal((await call(s.base, 'POST', `/api/sessions/${id}/start`, { token: ownViewer })).status, 403, 'and cannot start it');
});

tap.test('start and end: state changes, idempotence, and viewers are told the session ended', async (t) => {
  const s = await startSignaling(t);
  const org = randomUUID();
  const host = await mint({ org, role: 'host' });
  const created = await call(s.base, 'POST', '/api/sessions', { token: host, body: { title: 'Live', sourceLanguage: 'en' } });
  const id = String((created.json.session as { id: string }).id);

  const started = await call(s.base, 'POST', `/api/sessions/${id}/start`, { token: host });
  t.equal(started.status, 200);
  t.match(started.json, { session: { status: 'live', startedAt: String } });
  const again = await call(s.base, 'POST', `/api/sessions/${id}/start`, { token: host, body: {} });
  t.equal(again.status, 200, 'starting a live session is a no-op');
  t.equal((again.json.session as { startedAt: string }).startedAt, (started.json.session as { startedAt: string }).startedAt);

  const { client: viewer } = await TestClient.authenticated(s.wsUrl, await mint({ org, session: id }));
  const { client: hostSocket } = await TestClient.authenticated(s.wsUrl, await mint({ org, session: id, role: 'host' }));
  t.match(await hostSocket.next('viewerCount'), { count: 1 });

  const ended = await call(s.base, 'POST', `/api/sessions/${id}/end`, { token: host });
  t.equal(ended.status, 200);
  t.match(ended.json, { session: { status: 'ended', endedAt: String } });
  t.match(await viewer.next('sessionEnded'), { reason: 'ended_by_host' });
  t.equal((await viewer.closed).code, 4410);
  t.equal((await hostSocket.closed).code, 4410);

  t.equal((await call(s.base, 'POST', `/api/sessions/${id}/end`, { token: host })).status, 200, 'ending again is a no-op');
  const restart = await call(s.base, 'POST', `/api/sessions/${id}/start`, { token: host });
  t.equal(restart.status, 409);
  t.match(restart.json, { error: { code: 'session_ended' } });
});

/** A request with the path exactly as given (fetch would normalize it). */
function rawGet(base: string, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

tap.test('malformed percent-encoding in a path or query answers 400 with a JSON body, never 500', async (t) => {
  const web = await mkdtemp(path.join(os.tmpdir(), 'pc-web-'));
  t.teardown(() => rm(web, { recursive: true, force: true }));
  await writeFile(path.join(web, 'index.html'), '<!doctype html><title>x</title>');
  const s = await startSignaling(t, { webDir: web });
  for (const bad of ['/%E0%A4%A', '/api/sessions/%zz', '/api/sessions/%C0%80/start', '/viewer.html?session=%E0%A4%A', '/healthz?x=%', '//evil.example/api/sessions']) {
    const res = await rawGet(s.base, bad);
    t.equal(res.status, 400, bad);
    t.match(res.headers['content-type'], /application\/json/, bad);
    t.match(JSON.parse(res.body), { error: { code: 'invalid_request', message: /malformed URL/ } }, bad);
  }
  t.equal((await rawGet(s.base, '/api/sessions/%41')).status, 401, 'a well-formed escape goes on to authentication');
});

tap.test('pages forbid framing; /metrics is not on the public port', async (t) => {
  const web = await mkdtemp(path.join(os.tmpdir(), 'pc-web-'));
  t.teardown(() => rm(web, { recursive: true, force: true }));
  await writeFile(path.join(web, 'index.html'), '<!doctype html><title>x</title>');
  const s = await startSignaling(t, { webDir: web });
  const page = await rawGet(s.base, '/');
  t.equal(page.status, 200);
  t.match(page.headers['content-security-policy'], /frame-ancestors 'none'/);
  t.equal(page.headers['x-frame-options'], 'DENY');
  t.equal((await rawGet(s.base, '/metrics')).status, 404);
  t.equal((await rawGet(s.metricsBase, '/metrics')).status, 200);
});
