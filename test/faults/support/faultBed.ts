// What every fault test shares: a private set of real servers (so one can be stopped without
// touching other test files), the platform on it as `polyglot up` runs it, a live session fed by a
// looping `polyglot publish`, WebSocket viewers, and the final check that every final of the
// session is in the viewers' transcripts and in translation_history exactly once.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import type { Test } from 'tap';
import type { CaptionEvent } from '../../../core/src/captions/CaptionEvent.js';
import { CAPTION_STREAM } from '../../../core/src/captions/captionStream.js';
import { FinalCaptionFeed } from '../../../core/src/captions/FinalCaptionFeed.js';
import { LocalInfra } from '../../../core/src/infra/LocalInfra.js';
import { nodeArgsFor } from '../../../core/src/process/nodeArgs.js';
import { finalCaptionSubject } from '../../../core/src/subjects.js';
import { DEV_JWT_SECRET, signDevToken } from '../../../signaling/src/devToken.js';
import { SENTENCES, speak, speechWavFile } from '../../support/festivalSpeech.js';
import { createLiveSession, startPlatform, type RunningPlatform } from '../../support/platform.js';
import { ResumingViewer } from './ResumingViewer.js';

type Tap = Test;

export interface FaultBed {
  infra: LocalInfra;
  platform: RunningPlatform;
  session: string;
  org: string;
  /** The platform's signaling WebSocket. */
  wsUrl: string;
  /** The test's own NATS connection (reconnects forever, like the platform's). */
  nc: NatsConnection;
  viewerToken(sub: string): Promise<string>;
  viewer(language: string, opts?: { urls?: string[]; firstNode?: number }): Promise<ResumingViewer>;
  /** Starts `polyglot publish --loop` into the session; stop() SIGTERMs it and awaits its exit. */
  publish(): Promise<{ stop(): Promise<void> }>;
  historyRows(): Promise<{ lang: string; seq: number; n: number }[]>;
}

export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await delay(100);
  }
  return Date.now() - started;
}

export async function startFaultBed(t: Tap, extraEnv: NodeJS.ProcessEnv = {}): Promise<FaultBed> {
  const infra = await LocalInfra.start();
  t.teardown(() => infra.stop());
  const platform = await startPlatform(infra.env, extraEnv);
  t.teardown(() => platform.stop());
  const nc = await connect({ servers: infra.env.PC_NATS_URL, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  t.teardown(() => nc.close());
  const org = randomUUID();
  const { session } = await createLiveSession(platform.baseUrl, org);
  const wsUrl = `${platform.baseUrl.replace(/^http/, 'ws')}/ws`;
  const wav = await speechWavFile(t, await speak(t, SENTENCES, { gapMs: 1_200 }));
  const viewerToken = (sub: string) => signDevToken(DEV_JWT_SECRET, { org, sub, role: 'viewer', session, name: sub, ttlSeconds: 3_600 });
  let viewers = 0;
  return {
    infra,
    platform,
    session,
    org,
    wsUrl,
    nc,
    viewerToken,
    async viewer(language, opts = {}) {
      viewers += 1;
      const viewer = await ResumingViewer.start({ urls: opts.urls ?? [wsUrl], firstNode: opts.firstNode ?? 0, token: await viewerToken(`viewer-${viewers}`), language });
      t.teardown(() => viewer.stop());
      return viewer;
    },
    async publish() {
      const child: ChildProcess = spawn(process.execPath, [...nodeArgsFor('cli/src/polyglot.ts'), 'publish', '--session', session, '--wav', wav, '--loop'], {
        env: platform.env,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const exited = once(child, 'exit');
      const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      };
      t.teardown(stop);
      return { stop };
    },
    async historyRows() {
      const db = new pg.Client({ connectionString: infra.env.PC_DATABASE_URL });
      await db.connect();
      try {
        const { rows } = await db.query<{ lang: string; seq: number; n: string }>(
          'SELECT target_language AS lang, seq, count(*) AS n FROM translation_history WHERE session_id = $1 GROUP BY 1, 2 ORDER BY 1, 2',
          [session],
        );
        return rows.map((r) => ({ lang: r.lang, seq: r.seq, n: Number(r.n) }));
      } finally {
        await db.end();
      }
    },
  };
}

/** Every final of (session, lang) stored in the caption stream, in stream order. */
export async function storedFinals(nc: NatsConnection, session: string, lang: string): Promise<CaptionEvent[]> {
  const jsm = await nc.jetstreamManager();
  const subject = finalCaptionSubject(session, lang);
  const info = await jsm.streams.info(CAPTION_STREAM, { subjects_filter: subject });
  const count = info.state.subjects?.[subject] ?? 0;
  if (count === 0) return [];
  const events: CaptionEvent[] = [];
  const feed = await FinalCaptionFeed.open(nc, session, lang, { afterSeq: -1 });
  try {
    for await (const event of feed) {
      events.push(event);
      if (events.length === count) break;
    }
  } finally {
    feed.close();
  }
  return events;
}

const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/**
 * After the publisher stopped: waits until the stream, every viewer and translation_history agree
 * on the last final of each language, then checks that each holds seqs 1..n exactly once.
 * Returns n per language.
 */
export async function assertEveryFinalOnce(t: Tap, bed: FaultBed, viewers: Record<string, ResumingViewer[]>, timeoutMs = 30_000): Promise<Record<string, number>> {
  const langs = Object.keys(viewers);
  let stored: Record<string, number[]> = {};
  let rows: { lang: string; seq: number; n: number }[] = [];
  await until(
    'the stream, the viewers and translation_history agree on the last final',
    async () => {
      stored = {};
      for (const lang of langs) stored[lang] = (await storedFinals(bed.nc, bed.session, lang)).map((e) => e.seq);
      rows = await bed.historyRows();
      return langs.every((lang) => {
        const last = stored[lang]!.length;
        return (
          last > 0 &&
          (viewers[lang] ?? []).every((v) => v.lastSeq === last) &&
          rows.filter((r) => r.lang === lang).reduce((sum, r) => sum + r.n, 0) >= last
        );
      });
    },
    timeoutMs,
  );
  const counts: Record<string, number> = {};
  for (const lang of langs) {
    const inStream = stored[lang]!;
    const n = inStream.length;
    counts[lang] = n;
    t.same(inStream, oneToN(n), `${lang}: the stream holds finals 1..${n}, each once`);
    const group = viewers[lang] ?? [];
    const exact = group.filter((v) => v.finals.length === n && v.finals.every((seq, i) => seq === i + 1)).length;
    t.equal(exact, group.length, `${lang}: every viewer (${group.length}) received finals 1..${n} exactly once, in order`);
    const inHistory = rows.filter((r) => r.lang === lang);
    t.same(
      inHistory.map((r) => [r.seq, r.n]),
      oneToN(n).map((seq) => [seq, 1]),
      `${lang}: translation_history holds finals 1..${n}, each once`,
    );
  }
  const distinct = new Set(Object.values(counts));
  t.equal(distinct.size, 1, `every final of the source language was translated into every language read throughout: ${JSON.stringify(counts)}`);
  return counts;
}
