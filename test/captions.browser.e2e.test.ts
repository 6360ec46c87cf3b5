/**
 * Issue 5 end to end, in real headless Chromium, on the whole platform as `polyglot up` runs it
 * (history, SFU, local speech and translation workers, signaling serving dist/web).
 *
 * The host page publishes Festival speech through Chromium's fake microphone; two viewer pages
 * read captions, one in English and one in Spanish. Checked: both show finals that carry what was
 * said (the Spanish against the Apertium worker's own translation of the spoken sentences); the
 * Spanish viewer switches to Catalan from the page's picker and gets Catalan, and no Spanish
 * caption after the switch; a reloaded viewer gets its history back once each, numbered with no
 * gap; and Galician, which the worker offers but nobody reads, is never sent to the worker.
 *
 * One Chromium process; each page in its own browser context (the viewer page keeps its language
 * in localStorage, which pages of one context would share). Chromium loops the fake microphone's
 * file, so texts are counted once each (distinct), and nothing assumes a single pass.
 *
 * Needs the web bundle in dist/web (`node signaling/web/build.mjs`; `make test` runs it).
 */
import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { connect } from 'nats';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import t from 'tap';
import { z } from 'zod';
import { loadContract } from '../proto/src/index.js';
import { WorkerRegistry } from '../sidecars/client/src/index.js';
import { DEV_JWT_SECRET, signDevToken } from '../signaling/src/devToken.js';
import { SENTENCES, speak, speechWavFile, wordRecall } from './support/festivalSpeech.js';
import { useInfra } from '../core/test/support/infra.js';
import { createLiveSession, startPlatform } from './support/platform.js';
import { assertChromium, CHROMIUM, chromiumArgs } from './support/chromium.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Bounds that only end a wait that would otherwise hang; every wait is on a page state or an event. */
const STEP_BOUND_MS = 30_000;
/** The first finals: the pipeline warms up and a whole pass of the recording is spoken. */
const FINALS_BOUND_MS = 120_000;

type Final = { lang: string; seq: number; text: string };
const finalsSchema = z.array(z.object({ lang: z.string(), seq: z.number(), text: z.string() }));
const frameSchema = z.object({ type: z.string() }).passthrough();

/** Lower case, no punctuation: how a rough recognition's words compare. */
function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[.,;:!?¿¡"«»()]/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** The words of four letters or more: what a rough recognition and translation still get right. */
function contentWords(text: string): string[] {
  return words(text).filter((w) => w.length >= 4);
}

/** Each text once, in the order first seen (the fake microphone loops the recording). */
function distinct(finals: readonly Final[]): string[] {
  return [...new Set(finals.map((f) => f.text.trim()).filter(Boolean))];
}

/** The page's test hooks (pcViewerForTesting), failing at once if the page is in state 'error'. */
async function waitForViewer(page: Page, want: { state?: string; language?: string; live?: boolean; minFinals?: number }, timeout = STEP_BOUND_MS): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const h: unknown = Reflect.get(globalThis, 'pcViewerForTesting');
      if (typeof h !== 'object' || h === null) return false;
      if (Reflect.get(h, 'state') === 'error') throw new Error(`viewer page error: ${String(Reflect.get(h, 'error'))}`);
      if (want.state !== undefined && Reflect.get(h, 'state') !== want.state) return false;
      if (want.language !== undefined && Reflect.get(h, 'language') !== want.language) return false;
      if (want.live !== undefined && Reflect.get(h, 'live') !== want.live) return false;
      if (want.minFinals !== undefined) {
        const finals: unknown = Reflect.get(h, 'finals');
        const list: unknown = typeof finals === 'function' ? finals.call(h) : undefined;
        if (!Array.isArray(list) || list.length < want.minFinals) return false;
      }
      return true;
    },
    want,
    { timeout, polling: 100 },
  );
}

async function waitForHost(page: Page, want: { state?: string; byLanguage?: Record<string, number> }): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const h: unknown = Reflect.get(globalThis, 'pcHostForTesting');
      if (typeof h !== 'object' || h === null) return false;
      if (Reflect.get(h, 'state') === 'error') throw new Error(`host page error: ${String(Reflect.get(h, 'error'))}`);
      if (want.state !== undefined && Reflect.get(h, 'state') !== want.state) return false;
      if (want.byLanguage !== undefined) {
        const seen: unknown = Reflect.get(h, 'viewersByLanguage');
        if (typeof seen !== 'object' || seen === null) return false;
        const entries = Object.entries(seen).filter(([, n]) => n !== 0);
        const wanted = Object.entries(want.byLanguage);
        if (entries.length !== wanted.length || !wanted.every(([k, v]) => Reflect.get(seen, k) === v)) return false;
      }
      return true;
    },
    want,
    { timeout: STEP_BOUND_MS, polling: 100 },
  );
}

/** The finals the viewer page holds for its shown language, from its test hook. */
async function viewerFinals(page: Page): Promise<Final[]> {
  return finalsSchema.parse(
    await page.evaluate(() => {
      const h: unknown = Reflect.get(globalThis, 'pcViewerForTesting');
      const finals: unknown = typeof h === 'object' && h !== null ? Reflect.get(h, 'finals') : undefined;
      return typeof finals === 'function' ? (finals.call(h) as unknown) : [];
    }),
  );
}

/** The seqs of the caption lines on screen (the list items' data-seq), top to bottom. */
async function domSeqs(page: Page): Promise<number[]> {
  return page.$$eval('#history li[data-seq]', (items) => items.map((li) => Number(li.getAttribute('data-seq'))));
}

/** Every WebSocket frame a page receives, parsed, in order (across reloads). */
function recordFrames(page: Page): Array<z.infer<typeof frameSchema>> {
  const frames: Array<z.infer<typeof frameSchema>> = [];
  page.on('websocket', (ws) => {
    ws.on('framereceived', ({ payload }) => {
      try {
        const parsed = frameSchema.safeParse(JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8')));
        if (parsed.success) frames.push(parsed.data);
      } catch {
        // not JSON: not ours to check
      }
    });
  });
  return frames;
}

/** Waits until `check` holds, polling an in-process state (a registry fed by NATS). */
async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

t.test('captions in Chromium on the whole platform: two languages, a switch to Catalan, a reload, and no unwanted translation', async (t) => {
  await assertChromium();
  try {
    await access(path.join(ROOT, 'dist/web/assets/viewer.js'));
    await access(path.join(ROOT, 'dist/web/assets/host.js'));
  } catch {
    t.fail('dist/web holds no web bundle: run `node signaling/web/build.mjs` (make setup does)');
    return;
  }
  const began = performance.now();
  const mark = (what: string): void => {
    t.comment(`${(performance.now() - began).toFixed(0).padStart(6)} ms  ${what}`);
  };

  // The platform, and the Festival recording as a 48 kHz WAV for the fake microphone, side by side.
  const infra = await useInfra();
  const [platform, wav] = await Promise.all([
    startPlatform(infra).then((p) => {
      t.teardown(() => p.stop());
      return p;
    }),
    speak(t, SENTENCES, { gapMs: 1_200 }).then((speech) => speechWavFile(t, speech, 48_000)),
  ]);
  mark('platform up, speech recorded');
  const nc = await connect({ servers: infra.PC_NATS_URL });
  t.teardown(() => nc.close());
  const registry = await WorkerRegistry.start({ nats: nc });
  t.teardown(() => registry.close());

  const org = randomUUID();
  const { session, hostToken } = await createLiveSession(platform.baseUrl, org);
  const viewerToken = (sub: string) => signDevToken(DEV_JWT_SECRET, { org, sub, role: 'viewer', session, name: sub, ttlSeconds: 3_600 });

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    ignoreDefaultArgs: ['--headless', '--mute-audio'],
    args: chromiumArgs(wav),
  });
  t.teardown(() => browser.close());
  const consoleLines: string[] = [];
  const openPage = async (name: string, context: BrowserContext): Promise<Page> => {
    const page = await context.newPage();
    page.on('console', (m) => consoleLines.push(`[${name}] ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`[${name}] pageerror ${e.message}`));
    return page;
  };
  t.teardown(() => {
    if (!t.passing()) t.comment(`browser console:\n${consoleLines.slice(-80).join('\n')}`);
  });

  // The host page, ready but not on air yet.
  const host = await openPage('host', await browser.newContext({ permissions: ['microphone'] }));
  await host.goto(`${platform.baseUrl}/host.html#token=${hostToken}`, { waitUntil: 'domcontentloaded' });
  await waitForHost(host, { state: 'ready' });

  // Two viewers, each in its own context: English (the page's default), and Spanish from the picker.
  const en = await openPage('viewer-en', await browser.newContext());
  const enFrames = recordFrames(en);
  await en.goto(`${platform.baseUrl}/viewer.html#session=${session}&token=${await viewerToken('viewer-en')}`, { waitUntil: 'domcontentloaded' });
  await waitForViewer(en, { state: 'connected', language: 'en', live: true });
  const es = await openPage('viewer-es', await browser.newContext());
  const esFrames = recordFrames(es);
  await es.goto(`${platform.baseUrl}/viewer.html#session=${session}&token=${await viewerToken('viewer-es')}`, { waitUntil: 'domcontentloaded' });
  await waitForViewer(es, { state: 'connected', live: true });
  await es.selectOption('#language', 'es');
  await waitForViewer(es, { language: 'es', live: true });
  await waitForHost(host, { byLanguage: { en: 1, es: 1 } });
  t.pass('the host sees one English and one Spanish viewer');
  mark('viewers connected');

  // On air: Chromium's fake microphone plays the recording (in a loop).
  await host.click('#start');
  await waitForHost(host, { state: 'publishing' });
  mark('host publishing');

  // Finals in both languages: at least one per sentence spoken.
  await Promise.all([
    waitForViewer(en, { minFinals: SENTENCES.length }, FINALS_BOUND_MS),
    waitForViewer(es, { minFinals: SENTENCES.length }, FINALS_BOUND_MS),
  ]);
  mark('a final per sentence in English and in Spanish');
  const enFinals = await viewerFinals(en);
  const esFinals = await viewerFinals(es);
  t.ok(enFinals.every((f) => f.lang === 'en') && esFinals.every((f) => f.lang === 'es'), 'each viewer shows finals of its own language only');

  // English: the spoken words.
  const enTexts = distinct(enFinals);
  const recall = wordRecall(SENTENCES.join(' '), enTexts.map((x) => words(x).join(' ')).join(' '));
  t.ok(recall >= 0.7, `the English viewer's finals hold ${(recall * 100).toFixed(0)}% of the spoken words (${enTexts.length} distinct finals)`);
  t.comment(`English finals: ${JSON.stringify(enTexts)}`);

  // Spanish: against the translation worker's own Spanish (and Catalan, for later) of what was said.
  await until('an Apertium worker offering en->es, en->ca and en->gl is announced', () =>
    ['es', 'ca', 'gl'].every((target) => registry.pickTranslator({ source: 'en', target }, 'apertium') !== undefined), STEP_BOUND_MS);
  const mt = registry.pickTranslator({ source: 'en', target: 'es' }, 'apertium');
  if (!mt) throw new Error('no apertium worker in the registry');
  const contract = loadContract();
  const mtClient = new contract.Translator.Client(mt.address, grpc.credentials.createInsecure());
  t.teardown(() => mtClient.close());
  const referenceIn = (target: string) =>
    new Promise<string>((resolve, reject) =>
      mtClient.translate({ texts: [...SENTENCES], sourceLanguage: 'en', targetLanguages: [target], orgId: 'e2e-reference' }, (err, res) =>
        err || !res ? reject(err ?? new Error('no response')) : resolve(res.results.map((r) => r.text).join(' ')),
      ),
    );
  const [esReference, caReference] = [await referenceIn('es'), await referenceIn('ca')];
  const esWords = new Set(contentWords(distinct(esFinals).join(' ')));
  const esExpected = [...new Set(contentWords(esReference))];
  const esFound = esExpected.filter((w) => esWords.has(w));
  t.ok(
    esFound.length / esExpected.length >= 0.6,
    `the Spanish viewer's finals carry ${esFound.length} of ${esExpected.length} content words of the worker's translation (missing: ${esExpected.filter((w) => !esWords.has(w)).join(' ')})`,
  );
  t.comment(`Spanish finals: ${JSON.stringify(distinct(esFinals))}`);

  // Mid-session, the Spanish viewer picks Catalan from the menu.
  const switchFrom = esFrames.length;
  const esCountAtSwitch = esFinals.length;
  await es.selectOption('#language', 'ca');
  await waitForViewer(es, { language: 'ca' });
  await waitForViewer(es, { minFinals: 2 }, FINALS_BOUND_MS);
  mark('Catalan finals on the switched viewer');
  const afterSwitch = esFrames.slice(switchFrom);
  const languageSet = afterSwitch.findIndex((f) => f.type === 'languageSet' && f.language === 'ca');
  t.ok(languageSet >= 0, 'the server confirmed the switch to Catalan on the same socket');
  const esAfterSet = afterSwitch.slice(languageSet + 1).filter((f) => f.type === 'caption' && f.lang === 'es');
  t.same(esAfterSet, [], 'no Spanish caption reached the page after the switch was confirmed');
  const esFinalsReceived = esFrames.filter((f) => f.type === 'caption' && f.lang === 'es' && f.final === true).length;
  t.ok(esFinalsReceived >= esCountAtSwitch, `the page received ${esFinalsReceived} Spanish finals in all, ${esFinalsReceived - esCountAtSwitch} more after the snapshot, none after the switch`);
  const caFinals = await viewerFinals(es);
  t.ok(caFinals.every((f) => f.lang === 'ca'), 'the switched viewer shows Catalan finals only');
  t.same(await domSeqs(es), caFinals.map((f) => f.seq), 'the caption list on screen holds the Catalan finals only');
  const caWords = contentWords(distinct(caFinals).join(' '));
  const inCatalan = caWords.filter((w) => new Set(contentWords(caReference)).has(w)).length;
  const inSpanish = caWords.filter((w) => new Set(contentWords(esReference)).has(w)).length;
  t.ok(inCatalan > inSpanish, `the new finals are Catalan: ${inCatalan} of ${caWords.length} content words are the worker's Catalan, ${inSpanish} its Spanish`);
  t.comment(`Catalan finals: ${JSON.stringify(distinct(caFinals))}`);
  await waitForHost(host, { byLanguage: { en: 1, ca: 1 } });
  t.pass('the host sees the viewer move to Catalan');

  // The English viewer reloads: the whole history again, each final once, numbered with no gap.
  await waitForViewer(en, { live: true });
  const beforeReload = await viewerFinals(en);
  t.same(beforeReload.map((f) => f.seq), beforeReload.map((_, i) => i + 1), `before the reload: finals 1..${beforeReload.length}, no gap, no repeat`);
  await en.reload({ waitUntil: 'domcontentloaded' });
  await waitForViewer(en, { state: 'connected', language: 'en', live: true, minFinals: beforeReload.length });
  const afterReload = await viewerFinals(en);
  const seqs = afterReload.map((f) => f.seq);
  t.same(seqs, seqs.map((_, i) => i + 1), `after the reload: finals 1..${seqs.length}, no duplicate seq, no gap`);
  t.same(await domSeqs(en), seqs, 'the caption list on screen has the same seqs');
  t.same(
    afterReload.slice(0, beforeReload.length).map((f) => [f.seq, f.text]),
    beforeReload.map((f) => [f.seq, f.text]),
    'the history after the reload is what the page showed before, in order, once each',
  );
  const enFinalFrames = enFrames.filter((f) => f.type === 'caption' && f.final === true);
  t.ok(enFinalFrames.length >= beforeReload.length + seqs.length, `the reloaded page was sent its history again (${enFinalFrames.length} final frames in all)`);
  mark('English viewer reloaded');

  // The translation worker: Spanish and Catalan were asked for; Galician, offered but unread, never.
  const worker = registry.workers().find((w) => w.engine === 'apertium');
  if (!worker?.metricsUrl) throw new Error('the translation worker announced no metrics address');
  const metrics = await (await fetch(new URL('/metrics', worker.metricsUrl))).text();
  const perTarget = (lang: string) => Number(new RegExp(`pc_mt_texts_total\\{[^}]*target="${lang}"[^}]*\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
  t.ok(perTarget('es') > 0, `the worker translated into Spanish (${perTarget('es')} texts)`);
  t.ok(perTarget('ca') > 0, `and into Catalan after the switch (${perTarget('ca')} texts)`);
  // The same scrape that shows Spanish: a zero here is a real zero.
  t.equal(perTarget('gl'), 0, 'Galician, which nobody picked, was never sent to the translation worker');
  mark('done');
});
