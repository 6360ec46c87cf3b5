// Fault 8c on the whole platform, as `polyglot up` runs it: the SFU process is SIGKILLed in the
// middle of a captioned session. `up` restarts it (nothing else stops), the speech source publishes
// again into the new process, captions resume, and at the end every final of the session is there
// exactly once: seqs 1..n with no gap and no duplicate in what viewers read (the JetStream feed
// signaling serves them from) and the same rows in translation_history. The host page's own
// republish is checked in Chromium by signaling/test/e2e.browser.test.ts.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { connect } from 'nats';
import pg from 'pg';
import t from 'tap';
import { WebSocket } from 'ws';
import { decodeServerMessage, type ServerMessageOf } from '../signaling/src/protocol.js';
import type { CaptionEvent } from '../core/src/captions/CaptionEvent.js';
import { DemandBoard } from '../core/src/captions/DemandBoard.js';
import { FinalCaptionFeed } from '../core/src/captions/FinalCaptionFeed.js';
import { moduleLog } from '../core/src/log.js';
import { nodeArgsFor } from '../core/src/process/nodeArgs.js';
import { useInfra } from '../core/test/support/infra.js';
import { SENTENCES, speak, speechWavFile } from './support/festivalSpeech.js';
import { createLiveSession, startPlatform } from './support/platform.js';

const log = moduleLog('sfu-crash');

/** Polls a condition; the bound only ends a wait that would otherwise hang. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await delay(100);
  }
}

/** Every descendant pid of `root`, from /proc. */
async function descendants(root: number): Promise<number[]> {
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    let tasks: string[] = [];
    try {
      tasks = await readdir(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      const children = (await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '')).trim();
      for (const c of children.split(/\s+/).filter(Boolean).map(Number)) {
        out.push(c);
        queue.push(c);
      }
    }
  }
  return out;
}

/** The node process running sfu/src/main under `polyglot up` (not its watchdog shell). */
async function sfuPid(upPid: number): Promise<number | undefined> {
  for (const pid of await descendants(upPid)) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const args = cmdline.split('\0');
    if (args[0] !== '/bin/sh' && args.some((a) => /sfu\/src\/main\.(ts|js)$/.test(a))) return pid;
  }
  return undefined;
}

/**
 * A captions-only viewer on signaling's WebSocket, as the viewer page is: reads `lang` from the
 * first final and keeps the finals it is sent, and how (if ever) its socket closed.
 */
async function captionViewer(baseUrl: string, token: string, lang: string) {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`);
  const finals: Array<ServerMessageOf<'caption'>> = [];
  let closeCode: number | undefined;
  ws.on('close', (code) => (closeCode = code));
  ws.on('message', (data: Buffer) => {
    const message = decodeServerMessage(data.toString('utf8'));
    if (message.type === 'welcome') ws.send(JSON.stringify({ type: 'setLanguage', language: lang, afterSeq: -1 }));
    else if (message.type === 'caption' && message.final) finals.push(message);
  });
  await once(ws, 'open');
  ws.send(JSON.stringify({ type: 'auth', token }));
  return { finals, closeCode: () => closeCode, close: () => ws.close() };
}

function publish(env: NodeJS.ProcessEnv, session: string, wav: string) {
  const child = spawn(process.execPath, [...nodeArgsFor('cli/src/polyglot.ts'), 'publish', '--session', session, '--wav', wav], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  return { child, exited: once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]> };
}

t.test('8c: the SFU process SIGKILLed mid-session is restarted; captions resume; every final once, in the feed and in translation_history', async (t) => {
  const infra = await useInfra();
  const platform = await startPlatform(infra);
  t.teardown(() => platform.stop());
  const upPid = platform.pid;
  const nc = await connect({ servers: infra.PC_NATS_URL });
  t.teardown(() => nc.close());

  const { session, viewerUrl } = await createLiveSession(platform.baseUrl, randomUUID());
  const viewerToken = new URLSearchParams(new URL(viewerUrl).hash.slice(1)).get('token') ?? '';
  const viewers = { en: await captionViewer(platform.baseUrl, viewerToken, 'en'), es: await captionViewer(platform.baseUrl, viewerToken, 'es') };
  t.teardown(() => {
    viewers.en.close();
    viewers.es.close();
  });
  const received: Record<string, CaptionEvent[]> = { en: [], es: [] };
  for (const lang of ['en', 'es']) {
    const feed = await FinalCaptionFeed.open(nc, session, lang);
    t.teardown(() => feed.close());
    void (async () => {
      for await (const event of feed) received[lang]!.push(event);
    })();
  }
  const board = await DemandBoard.open(nc, 'fault-8c-node', log);
  t.teardown(() => board.close());
  board.add(session, 'es');
  await nc.flush();

  // Before: half the sentences, then SIGKILL once two English finals are out (the recording goes on).
  const half = Math.ceil(SENTENCES.length / 2);
  const before = publish(platform.env, session, await speechWavFile(t, await speak(t, SENTENCES.slice(0, half), { gapMs: 1_200 })));
  await until('two English finals before the crash', () => received.en!.length >= 2, 60_000);
  const killed = await sfuPid(upPid);
  if (killed === undefined) throw new Error('no SFU process under polyglot up');
  process.kill(killed, 'SIGKILL');
  t.pass(`SIGKILLed the SFU (pid ${killed}) with ${received.en!.length} English and ${received.es!.length} Spanish finals out`);

  const sfuHealth = `http://127.0.0.1:${platform.env.PC_SFU_METRICS_PORT}/healthz`;
  await until('the SFU answers again', async () => (await fetch(sfuHealth).catch(() => undefined))?.ok === true, 60_000);
  const restarted = await sfuPid(upPid);
  t.ok(restarted !== undefined && restarted !== killed, `polyglot up restarted the SFU (pid ${killed} -> ${restarted})`);
  t.equal(platform.exitCode(), null, 'polyglot up (and every other process) kept running');
  const health = await fetch(`${platform.baseUrl}/readyz`);
  t.equal(health.status, 200, 'signaling still ready');

  // polyglot publish notices its SFU is gone, sets its producer up again on the restarted process
  // and plays the rest of its file (as the host page publishes again by itself).
  const [beforeCode] = await before.exited;
  t.equal(beforeCode, 0, 'the first publisher republished into the restarted SFU and played its file to the end');
  const enBefore = received.en!.length;
  const esBeforeResume = received.es!.length;
  // After: a new source publishes into the new process.
  const rest = SENTENCES.slice(half);
  const after = publish(platform.env, session, await speechWavFile(t, await speak(t, rest, { gapMs: 1_200 })));
  const [code] = await after.exited;
  t.equal(code, 0, 'publishing into the restarted SFU works');
  await until('captions resume in English and Spanish', () => received.en!.length >= enBefore + rest.length && received.es!.length >= esBeforeResume + 1, 30_000);
  // Spanish follows English; let it catch up with every English final (each is translated once).
  await until('every English final has its Spanish one', () => received.es!.length >= received.en!.length, 30_000);

  for (const lang of ['en', 'es'] as const) {
    const seqs = received[lang]!.map((e) => e.seq);
    t.same(seqs, seqs.map((_, i) => i + 1), `${lang}: finals numbered 1..${seqs.length}, no gap, no duplicate, across the crash`);
    t.equal(new Set(received[lang]!.map((e) => e.segment)).size, seqs.length, `${lang}: no segment twice`);
  }
  for (const lang of ['en', 'es'] as const) {
    const viewer = viewers[lang];
    await until(`the ${lang} viewer has every final`, () => viewer.finals.length >= received[lang]!.length, 20_000);
    t.same(
      viewer.finals.map((c) => [c.seq, c.segment, c.text]),
      received[lang]!.map((e) => [e.seq, e.segment, e.text]),
      `${lang} viewer's transcript: every final exactly once, in order, across the crash`,
    );
    t.equal(viewer.closeCode(), undefined, `${lang} viewer's caption socket stayed open through the crash`);
  }
  t.ok(received.en!.length > enBefore, `captions resumed after the restart (${enBefore} -> ${received.en!.length} English finals)`);

  const db = new pg.Client({ connectionString: infra.PC_DATABASE_URL });
  await db.connect();
  t.teardown(() => db.end());
  const total = received.en!.length + received.es!.length;
  await until('the history writer stored every final', async () => {
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM translation_history WHERE session_id = $1', [session]);
    return Number(rows[0]?.n) >= total;
  }, 20_000);
  const { rows } = await db.query<{ target_language: string; seq: number }>('SELECT target_language, seq FROM translation_history WHERE session_id = $1 ORDER BY target_language, seq', [session]);
  for (const lang of ['en', 'es'] as const) {
    t.same(rows.filter((r) => r.target_language === lang).map((r) => Number(r.seq)), received[lang]!.map((e) => e.seq), `${lang}: translation_history holds each final exactly once`);
  }
});
