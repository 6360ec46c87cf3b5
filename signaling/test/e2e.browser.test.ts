/**
 * End to end in real headless Chromium: the host page publishes speech (Chromium's fake microphone
 * playing an espeak-ng recording) through the SFU process; a viewer page receives the audio track,
 * and we check that audio really flows; then the host ends the session and the viewer is told.
 *
 * Real everything: nats-server (a private one, so no other test file's SFU is placed for our
 * session), Postgres, the SFU process (sfu/src/main.ts), the signaling server, the esbuild bundle.
 *
 * The second test drives the caption UI of the viewer and host pages, with captions published
 * straight to NATS (no SFU: caption viewers need none). Both live in this one file so that tap,
 * which runs files in parallel, never has two Chromiums up on this 2-core machine.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Page } from 'playwright-core';
import tap from 'tap';
import { z } from 'zod';
import { createDb, migrateToLatest } from '../../sql/src/index.js';
import { createTestDatabase } from '../../core/test/support/infra.js';
import { SignalingServer } from '../src/SignalingServer.js';
import { TokenVerifier } from '../src/TokenVerifier.js';
import { ScriptedCaptions } from './fixtures/captions.js';
import { privateNats, startSfu } from './fixtures/media.js';
import { mint, seedSession, startSignaling, TEST_SECRET, testBackends } from './fixtures/signaling.js';
import { assertChromium, CHROMIUM, chromiumArgs } from '../../test/support/chromium.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
/** Bounds that only end a wait that would otherwise hang; every wait is on an event or a state. */
const STEP_BOUND_MS = 30_000;

const statsSchema = z.object({ bytesReceived: z.number(), packetsReceived: z.number(), audioLevel: z.number(), totalAudioEnergy: z.number() });

type HookName = 'pcHostForTesting' | 'pcViewerForTesting';

/**
 * Waits until the page's test hooks match `want` (a page in state 'error' fails at once). Page
 * functions, not strings: the pages' CSP forbids eval, and the test keeps that CSP on.
 */
async function waitForState(page: Page, hooks: HookName, want: Record<string, string | number>): Promise<void> {
  await page.waitForFunction(
    ({ hooks, want }) => {
      const h: unknown = Reflect.get(globalThis, hooks);
      if (typeof h !== 'object' || h === null) return false;
      if (Reflect.get(h, 'state') === 'error') throw new Error(`page error: ${String(Reflect.get(h, 'error'))}`);
      return Object.entries(want).every(([k, v]) => Reflect.get(h, k) === v);
    },
    { hooks, want },
    { timeout: STEP_BOUND_MS, polling: 100 },
  );
}

/** Waits until the numeric hook property `name` exceeds `threshold`. */
async function waitForAbove(page: Page, hooks: HookName, name: string, threshold: number): Promise<void> {
  await page.waitForFunction(
    ({ hooks, name, threshold }) => {
      const h: unknown = Reflect.get(globalThis, hooks);
      const value: unknown = typeof h === 'object' && h !== null ? Reflect.get(h, name) : undefined;
      return typeof value === 'number' && value > threshold;
    },
    { hooks, name, threshold },
    { timeout: STEP_BOUND_MS, polling: 100 },
  );
}

/** Calls a test-hook method in the page (or reads a property when args is undefined). */
async function hook(page: Page, hooks: HookName, name: string, args?: Array<string | number>): Promise<unknown> {
  return page.evaluate(
    async ({ hooks, name, args }) => {
      const h: unknown = Reflect.get(globalThis, hooks);
      if (typeof h !== 'object' || h === null) throw new Error(`no ${hooks}`);
      const value: unknown = Reflect.get(h, name);
      if (args === undefined) return value;
      if (typeof value !== 'function') throw new Error(`${hooks}.${name} is not a function`);
      const result: unknown = await value.apply(h, args);
      return result;
    },
    { hooks, name, args },
  );
}

tap.test('host publishes speech in Chromium, a viewer hears it, the host ends the session and the viewer is told', async (t) => {
  await assertChromium();
  const work = await mkdtemp(path.join(os.tmpdir(), 'pc-e2e-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));

  // Infra: a private NATS (fixtures/media.ts says why), a fresh database on the shared Postgres.
  const { url: natsUrl, nc } = await privateNats(t);
  const databaseUrl = await createTestDatabase(tap);
  const db = createDb({ url: databaseUrl, poolMax: 4, applicationName: 'e2e' });
  t.teardown(() => db.destroy());
  await migrateToLatest(db);

  // The web bundle, the speech file, and the SFU process (one worker: Chromium shares the two cores).
  const webDir = path.join(work, 'web');
  const speech = path.join(work, 'speech.wav');
  const sfuNode = `e2e-${process.pid}`;
  let [, , sfu] = await Promise.all([
    run(process.execPath, [path.join(ROOT, 'signaling/web/build.mjs'), '--outdir', webDir]),
    (async () => {
      const raw = path.join(work, 'speech-22k.wav');
      await run('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', raw, 'Good morning everyone. Welcome to the quarterly review. Today we talk about live translated captions.']);
      await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', raw, '-ar', '48000', '-ac', '1', '-c:a', 'pcm_s16le', speech]);
    })(),
    startSfu(t, natsUrl, sfuNode, databaseUrl),
  ]);

  const s = await startSignaling(t, { webDir }, { db, nc });
  const org = randomUUID();
  const created = await fetch(`${s.base}/api/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await mint({ org, role: 'host', sub: 'hana' })}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Quarterly review', sourceLanguage: 'en' }),
  });
  t.equal(created.status, 201);
  const { session, viewerUrl } = z.object({ session: z.object({ id: z.string() }), viewerUrl: z.string() }).parse(await created.json());
  const hostToken = await mint({ org, session: session.id, role: 'host', sub: 'hana', name: 'Hana' });

  const profile = path.join(work, 'chrome-profile');
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreDefaultArgs: ['--headless', '--mute-audio'],
    args: chromiumArgs(speech),
  });
  t.teardown(() => ctx.close());
  const requested: string[] = [];
  ctx.on('request', (r) => requested.push(r.url()));
  const consoleLines: string[] = [];
  const watch = (page: Page, name: string): Page => {
    page.on('console', (m) => consoleLines.push(`[${name}] ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`[${name}] pageerror ${e.message}`));
    return page;
  };
  t.teardown(() => {
    if (t.passing()) return;
    t.comment(`browser console:\n${consoleLines.join('\n')}`);
    t.comment(`SFU log tail:\n${sfu.lines.slice(-30).join('\n')}`);
  });

  // Host: open the page (the session is still scheduled).
  const host = watch(await ctx.newPage(), 'host');
  await host.goto(`${s.base}/host.html#token=${hostToken}`, { waitUntil: 'domcontentloaded' });
  await waitForState(host, 'pcHostForTesting', { state: 'ready' });
  t.notMatch(host.url(), hostToken, 'the token is wiped from the address bar once read');

  // Viewer: the link from the REST API, "Hear the audio" before the host is on air.
  const viewer = watch(await ctx.newPage(), 'viewer');
  await viewer.goto(viewerUrl.replace(/^https?:\/\/[^/]+/, s.base), { waitUntil: 'domcontentloaded' });
  await waitForState(viewer, 'pcViewerForTesting', { state: 'connected' });
  await waitForState(host, 'pcHostForTesting', { viewers: 1 });
  t.pass('the host sees one viewer');
  await viewer.click('#listen');
  await waitForState(viewer, 'pcViewerForTesting', { state: 'listening', consumers: 0 });

  // The host goes live: the viewer is told of the new producer (producerAdded) and consumes it.
  const startClicked = performance.now();
  await host.click('#start');
  await waitForState(host, 'pcHostForTesting', { state: 'publishing' });
  const publishMs = performance.now() - startClicked;
  await waitForState(viewer, 'pcViewerForTesting', { state: 'listening', consumers: 1 });
  const consumingMs = performance.now() - startClicked;

  // Audio really flows: inbound bytes grow and the level is above zero (sampled in the page).
  const samples = z.array(statsSchema).parse(await hook(viewer, 'pcViewerForTesting', 'waitForAudio', [20_000, 250]));
  const audioMs = performance.now() - startClicked;
  const first = samples[0];
  const last = samples[samples.length - 1];
  t.ok(first && last && last.bytesReceived > first.bytesReceived, `inbound-rtp bytesReceived grew: ${first?.bytesReceived} -> ${last?.bytesReceived}`);
  const peak = Math.max(...samples.map((x) => x.audioLevel));
  t.ok(peak > 0, `audioLevel > 0 (peak ${peak.toFixed(3)})`);
  await waitForAbove(host, 'pcHostForTesting', 'levelDb', -50);
  const hostLevel = z.number().parse(await hook(host, 'pcHostForTesting', 'levelDb'));
  t.pass(`the host's level meter moves (${hostLevel.toFixed(1)} dBFS)`);
  const outbound = z.object({ bytesSent: z.number(), packetsSent: z.number() }).parse(await hook(host, 'pcHostForTesting', 'outboundStats', []));
  t.ok(outbound.packetsSent > 0, `the host sent ${outbound.packetsSent} packets`);
  t.comment(
    `after Start: producing ${Math.round(publishMs)} ms, viewer consuming ${Math.round(consumingMs)} ms, audio seen flowing ${Math.round(audioMs)} ms; ` +
      `${samples.length} samples, last ${JSON.stringify(last)}; host input ${hostLevel.toFixed(1)} dBFS`,
  );

  // The SFU process is SIGKILLed mid-session and a new one starts under the same node id: the host
  // page publishes again by itself (backoff while the SFU is down) and the viewer hears it again.
  const producerBefore = z.string().parse(await hook(host, 'pcHostForTesting', 'producerId'));
  const republishesBefore = z.number().parse(await hook(host, 'pcHostForTesting', 'republishes'));
  const killedAt = performance.now();
  sfu.child.kill('SIGKILL');
  await sfu.exited;
  sfu = await startSfu(t, natsUrl, sfuNode, databaseUrl);
  await waitForAbove(host, 'pcHostForTesting', 'republishes', republishesBefore);
  await waitForState(host, 'pcHostForTesting', { state: 'publishing' });
  const republishedMs = performance.now() - killedAt;
  const producerAfter = z.string().parse(await hook(host, 'pcHostForTesting', 'producerId'));
  t.not(producerAfter, producerBefore, 'the host page published again by itself: a new producer on the new SFU process');
  const again = z.array(statsSchema).parse(await hook(viewer, 'pcViewerForTesting', 'waitForAudio', [STEP_BOUND_MS, 250]));
  const heardMs = performance.now() - killedAt;
  const lastAgain = again[again.length - 1];
  t.ok(lastAgain && lastAgain.bytesReceived > (again[0]?.bytesReceived ?? 0), `the viewer hears the host again (${lastAgain?.bytesReceived} bytes)`);
  t.comment(`after SIGKILL of the SFU: host republished ${Math.round(republishedMs)} ms, viewer hearing audio ${Math.round(heardMs)} ms (includes starting the new SFU process)`);

  // Stop: the producer goes away and the viewer drops its consumer (producerClosed).
  await host.click('#stop');
  await waitForState(host, 'pcHostForTesting', { state: 'stopped' });
  await waitForState(viewer, 'pcViewerForTesting', { state: 'listening', consumers: 0 });
  t.pass('Stop closes the producer; the viewer is told');

  // The host ends the session: the viewer is told and stops.
  await host.click('#end');
  await waitForState(viewer, 'pcViewerForTesting', { state: 'ended' });
  t.match(await viewer.textContent('#captions'), /session has ended/);
  await waitForState(host, 'pcHostForTesting', { state: 'ended' });
  const row = await db.selectFrom('sessions').select(['status', 'ended_at']).where('id', '=', session.id).executeTakeFirstOrThrow();
  t.equal(row.status, 'ended');

  // Seed I-1: no request the browsers made carried a token (the fragment never leaves the page).
  const viewerToken = new URLSearchParams(new URL(viewerUrl).hash.slice(1)).get('token') ?? '';
  t.ok(viewerToken.length > 0);
  t.same(
    requested.filter((u) => u.includes(hostToken) || u.includes(viewerToken) || /[?&]token=/.test(u)),
    [],
    `none of ${requested.length} requests carried a token`,
  );
});

// ---------------------------------------------------------------------------------------------
// Captions in the pages

/**
 * Waits until the hook `name` (a property, or a method's result) equals `want` as JSON (`null` for
 * undefined), or, with `atLeast`, is an array at least that long. Page functions, not strings: the
 * pages' CSP forbids eval.
 */
async function waitForHook(page: Page, hooks: HookName, name: string, want: unknown, atLeast?: number): Promise<void> {
  await page.waitForFunction(
    ({ hooks, name, want, atLeast }) => {
      const h: unknown = Reflect.get(globalThis, hooks);
      if (typeof h !== 'object' || h === null) return false;
      if (Reflect.get(h, 'state') === 'error') throw new Error(`page error: ${String(Reflect.get(h, 'error'))}`);
      const raw: unknown = Reflect.get(h, name);
      const value: unknown = typeof raw === 'function' ? raw.call(h) : raw;
      if (atLeast !== undefined) return Array.isArray(value) && value.length >= atLeast;
      return JSON.stringify(value ?? null) === want;
    },
    { hooks, name, want: JSON.stringify(want), atLeast },
    { timeout: STEP_BOUND_MS, polling: 50 },
  );
}

async function callHook(page: Page, hooks: HookName, name: string): Promise<unknown> {
  return page.evaluate(
    ({ hooks, name }) => {
      const h: unknown = Reflect.get(globalThis, hooks);
      const value: unknown = typeof h === 'object' && h !== null ? Reflect.get(h, name) : undefined;
      return typeof value === 'function' ? value.call(h) : value;
    },
    { hooks, name },
  );
}

const finalsSchema = z.array(z.object({ lang: z.string().optional(), seq: z.number(), text: z.string() }));

tap.test('viewer page: history, interim then final, language switch without reload, delay overlay; host: transcript and counts', async (t) => {
  await assertChromium();
  const work = await mkdtemp(path.join(os.tmpdir(), 'pc-e2e-captions-'));
  t.teardown(() => rm(work, { recursive: true, force: true }));
  const webDir = path.join(work, 'web');
  await run(process.execPath, [path.join(ROOT, 'signaling/web/build.mjs'), '--outdir', webDir]);

  const s = await startSignaling(t, { webDir }, await testBackends(tap));
  const session = await seedSession(s.server);
  const claims = { org: session.organizationId, session: session.id };
  const pub = await ScriptedCaptions.open(s.nc, session.id, 'en');
  // History from before anyone watched, in two languages.
  await pub.finals('en', 1, 2, (seq) => `Hello number ${seq}.`);
  await pub.finals('es', 1, 2, (seq) => `Hola número ${seq}.`);

  const ctx = await chromium.launchPersistentContext(path.join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    ignoreDefaultArgs: ['--headless'],
    args: chromiumArgs(),
  });
  t.teardown(() => ctx.close());
  const consoleLines: string[] = [];
  ctx.on('console', (m) => consoleLines.push(m.text()));
  t.teardown(() => {
    if (!t.passing()) t.comment(`browser console:\n${consoleLines.join('\n')}`);
  });

  const host = await ctx.newPage();
  await host.goto(`${s.base}/host.html#token=${await mint({ ...claims, role: 'host', sub: 'hana' })}`, { waitUntil: 'domcontentloaded' });
  await waitForHook(host, 'pcHostForTesting', 'state', 'ready');

  const viewer = await ctx.newPage();
  const viewerToken = await mint({ ...claims, sub: 'vic' });
  await viewer.goto(`${s.base}/viewer.html#session=${session.id}&token=${viewerToken}&debug`, { waitUntil: 'domcontentloaded' });
  await waitForHook(viewer, 'pcViewerForTesting', 'state', 'connected');

  // The transcript so far, in the default language (English), then live: an interim, its final.
  await waitForHook(viewer, 'pcViewerForTesting', 'finals', undefined, 2);
  t.same(finalsSchema.parse(await callHook(viewer, 'pcViewerForTesting', 'finals')).map((f) => f.text), ['Hello number 1.', 'Hello number 2.'], 'history on join');
  t.match(await viewer.textContent('#history'), /Ada:?\s*Hello number 1\./, 'with the speaker name');
  await waitForHook(viewer, 'pcViewerForTesting', 'live', true);
  t.equal(await viewer.textContent('#announcer'), '', 'the replayed history is not read out');

  await pub.interim('en', 3, 'And now the third');
  await waitForHook(viewer, 'pcViewerForTesting', 'interim', 'And now the third');
  await waitForHook(viewer, 'pcViewerForTesting', 'translating', true);
  t.equal(await viewer.textContent('#interim'), 'Ada And now the third', 'the interim shows, in its own line');
  t.equal(await viewer.getAttribute('#interim', 'class'), 'interim');
  await pub.final('en', 3, 'And now the third sentence.');
  await waitForHook(viewer, 'pcViewerForTesting', 'finals', undefined, 3);
  await waitForHook(viewer, 'pcViewerForTesting', 'interim', null);
  await waitForHook(viewer, 'pcViewerForTesting', 'translating', false);
  t.equal(await viewer.textContent('#interim'), '', 'the final replaced it');
  t.equal(await viewer.textContent('#announcer'), 'Ada: And now the third sentence.', 'the live final went to the polite live region');

  // The pipeline retracts a segment (its speech worker failed over) with an empty interim.
  await pub.interim('en', 4, 'words that will be');
  await waitForHook(viewer, 'pcViewerForTesting', 'interim', 'words that will be');
  await pub.interim('en', 4, '');
  await waitForHook(viewer, 'pcViewerForTesting', 'interim', null);
  t.equal(await viewer.textContent('#interim'), '', 'an empty interim retracts its segment');

  // The host sees its transcript and one English viewer.
  await waitForHook(host, 'pcHostForTesting', 'transcript', undefined, 3);
  await waitForHook(host, 'pcHostForTesting', 'viewersByLanguage', { en: 1 });
  t.match(await host.textContent('#viewers-by-language'), /en: 1/);

  // Switch to Spanish from the menu: no reload, Spanish history then live, no English any more.
  const pageLoads: string[] = [];
  viewer.on('load', () => pageLoads.push('load'));
  await viewer.selectOption('#language', 'es');
  await waitForHook(viewer, 'pcViewerForTesting', 'language', 'es');
  await waitForHook(viewer, 'pcViewerForTesting', 'finals', undefined, 2);
  t.same(finalsSchema.parse(await callHook(viewer, 'pcViewerForTesting', 'finals')).map((f) => [f.lang, f.seq]), [['es', 1], ['es', 2]], 'the Spanish history');
  t.notMatch(await viewer.textContent('#history'), /Hello/, 'no English left on screen');
  await waitForHook(viewer, 'pcViewerForTesting', 'live', true);
  await pub.final('en', 4, 'Fourth, in English.');
  await pub.final('es', 3, 'Y ahora la tercera frase.');
  await waitForHook(viewer, 'pcViewerForTesting', 'finals', undefined, 3);
  t.same(finalsSchema.parse(await callHook(viewer, 'pcViewerForTesting', 'finals')).map((f) => f.text).slice(-1), ['Y ahora la tercera frase.'], 'live Spanish');
  t.notMatch(await viewer.textContent('#history'), /Fourth/, 'English published after the switch never shows');
  t.same(pageLoads, [], 'the page was not reloaded');
  await waitForHook(host, 'pcHostForTesting', 'viewersByLanguage', { es: 1 });
  t.pass('the host sees the viewer move to Spanish');

  // The delay overlay (#debug): one row per live final, with both delays.
  t.equal(await viewer.isVisible('#debug'), true, 'the overlay is on with #debug');
  const delays = z.array(z.object({ seq: z.number(), speechMs: z.number(), deliveryMs: z.number() })).parse(await callHook(viewer, 'pcViewerForTesting', 'delays'));
  t.same(delays.map((d) => d.seq), [3, 3], 'the two live finals are measured (en 3, es 3), the history is not');
  t.ok(delays.every((d) => d.deliveryMs >= 0 && d.speechMs >= d.deliveryMs), 'speech end -> now >= publish -> now');
  t.match(await viewer.textContent('#debug'), /publish→now p50 \d+/);
  t.comment(`viewer-measured publish -> page: ${delays.map((d) => d.deliveryMs).join(', ')} ms`);
  await viewer.keyboard.press('d');
  t.equal(await viewer.isVisible('#debug'), false, 'the d key toggles it');

  // The node goes away and another takes its place (same address): the page reconnects with
  // backoff and resumes after its last Spanish final, so what was said meanwhile appears once.
  const port = Number(new URL(s.base).port);
  await s.server.close();
  await pub.finals('es', 4, 5, (seq) => `Frase ${seq}, dicha sin nodo.`);
  const next = new SignalingServer({
    db: s.db,
    nc: s.nc,
    verifier: new TokenVerifier({ secret: TEST_SECRET }),
    nodeId: `test-replacement-${port}`,
    maxConnections: 100,
    webDir,
  });
  await next.listen(port);
  t.teardown(() => next.close());
  await waitForHook(viewer, 'pcViewerForTesting', 'finals', undefined, 5);
  await pub.final('es', 6, 'Y la sexta, en directo.');
  await waitForHook(viewer, 'pcViewerForTesting', 'finals', undefined, 6);
  t.same(finalsSchema.parse(await callHook(viewer, 'pcViewerForTesting', 'finals')).map((f) => f.seq), [1, 2, 3, 4, 5, 6], 'after the reconnect: the missed finals, then live, each once');

  // Larger text.
  // The root element's inline style holds the size the page chose.
  const size = async (): Promise<string> => (await viewer.getAttribute('html', 'style')) ?? '';
  const before = await size();
  await viewer.click('#font-up');
  t.not(await size(), before, `A+ changes the caption size (${before} -> ${await size()})`);
});
