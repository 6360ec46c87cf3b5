import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import t from 'tap';
import { z } from 'zod';
import { encodeCaption, type CaptionEvent } from '../../core/src/captions/CaptionEvent.js';
import { ensureCaptionStream } from '../../core/src/captions/captionStream.js';
import { FinalCaptionFeed } from '../../core/src/captions/FinalCaptionFeed.js';
import { captionMessageId, finalCaptionSubject, interimCaptionSubject } from '../../core/src/subjects.js';
import { useInfra } from '../../core/test/support/infra.js';
import { nodeArgsFor } from '../../core/src/process/nodeArgs.js';

t.test('polyglot watch replays the finals after a seq, then prints live interims and finals', async (t) => {
  const infra = await useInfra();
  const nc = await connect({ servers: infra.PC_NATS_URL });
  t.teardown(() => nc.close());
  await ensureCaptionStream(await nc.jetstreamManager());
  const js = nc.jetstream();
  const session = randomUUID();
  const caption = (seq: number, final: boolean): CaptionEvent => ({
    v: 1, org: 'org-1', session, segment: `seg-${seq}`, seq, lang: 'es', srcLang: 'en', text: `frase ${seq}${final ? '' : ' ...'}`,
    srcText: `sentence ${seq}`, final, speaker: null, speakerName: 'Ada', startMs: 0, endMs: 1, audioEndAt: Date.now(), publishedAt: Date.now(), engine: 'test',
  });
  const publishFinal = (seq: number) => js.publish(finalCaptionSubject(session, 'es'), encodeCaption(caption(seq, true)), { msgID: captionMessageId(session, 'es', seq) });
  for (const seq of [1, 2, 3]) await publishFinal(seq);

  const watch = spawn(process.execPath, [...nodeArgsFor('cli/src/polyglot.ts'), 'watch', '--session', session, '--lang', 'es', '--json', '--after-seq', '1', '--finals', '3'], {
    env: { ...process.env, ...infra, PC_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => watch.kill('SIGKILL'));
  let stdout = '';
  watch.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  const exited = once(watch, 'exit');
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    watch.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      if (stderr.includes('watching')) resolve();
    });
    watch.once('exit', (code) => reject(new Error(`watch exited early (${code}): ${stderr}`)));
  });
  nc.publish(interimCaptionSubject(session, 'es'), encodeCaption(caption(4, false)));
  await nc.flush();
  await publishFinal(4);
  const [code] = await exited;
  t.equal(code, 0, 'exits after the requested number of finals');

  const lines = stdout.trim().split('\n').map((l) => z.object({ seq: z.number(), final: z.boolean(), text: z.string(), receivedAt: z.number() }).parse(JSON.parse(l)));
  const finals = lines.filter((l) => l.final);
  t.same(finals.map((l) => l.seq), [2, 3, 4], 'the finals after seq 1, in order, once each');
  t.ok(lines.some((l) => !l.final && l.seq === 4 && l.text === 'frase 4 ...'), 'the live interim is printed');
  t.ok(lines.every((l) => l.receivedAt > 0), 'each line carries its receive time');
});

t.test('polyglot watch refuses a session id that would widen the subscription', async (t) => {
  const infra = await useInfra();
  const watch = spawn(process.execPath, [...nodeArgsFor('cli/src/polyglot.ts'), 'watch', '--session', '*', '--lang', 'es'], {
    env: { ...process.env, ...infra, PC_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  watch.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const [code] = await once(watch, 'exit');
  t.equal(code, 2);
  t.match(stderr, 'cannot be used in a NATS subject');
});

t.test('a resume far behind starts in the stream at the first missed final, not at the start of the subject', async (t) => {
  const infra = await useInfra();
  const nc = await connect({ servers: infra.PC_NATS_URL });
  t.teardown(() => nc.close());
  await ensureCaptionStream(await nc.jetstreamManager());
  const js = nc.jetstream();
  const session = randomUUID();
  const other = randomUUID();
  const event = (s: string, seq: number): CaptionEvent => ({
    v: 1, org: 'o', session: s, segment: `seg-${seq}`, seq, lang: 'es', srcLang: 'en', text: `frase ${seq}`, srcText: `s ${seq}`,
    final: true, speaker: null, speakerName: null, startMs: 0, endMs: 1, audioEndAt: 1, publishedAt: 1, engine: 'test',
  });
  const streamSeqOf = new Map<number, number>();
  for (let seq = 1; seq <= 40; seq++) {
    const ack = await js.publish(finalCaptionSubject(session, 'es'), encodeCaption(event(session, seq)), { msgID: captionMessageId(session, 'es', seq) });
    streamSeqOf.set(seq, ack.seq);
    await js.publish(finalCaptionSubject(other, 'es'), encodeCaption(event(other, seq)), { msgID: captionMessageId(other, 'es', seq) });
  }
  const feed = await FinalCaptionFeed.open(nc, session, 'es', { afterSeq: 33 });
  t.teardown(() => feed.close());
  t.equal(feed.startSequenceForTesting, streamSeqOf.get(34), 'the replay starts at the stream sequence of final 34');
  const seqs: number[] = [];
  for await (const e of feed) {
    seqs.push(e.seq);
    if (seqs.length === 7) break;
  }
  t.same(seqs, [34, 35, 36, 37, 38, 39, 40], 'exactly the missed finals, in order');

  const caughtUp = await FinalCaptionFeed.open(nc, session, 'es', { afterSeq: 40 });
  t.teardown(() => caughtUp.close());
  t.equal(caughtUp.startSequenceForTesting, (streamSeqOf.get(40) ?? 0) + 1, 'nothing missed: it starts after the last stored final');
});

t.test('polyglot watch refuses a --lang that is not a language tag, before connecting', async (t) => {
  const watch = spawn(process.execPath, [...nodeArgsFor('cli/src/polyglot.ts'), 'watch', '--session', 's1', '--lang', 'es-65'], {
    env: { ...process.env, PC_LOG_LEVEL: 'warn', PC_NATS_URL: 'nats://127.0.0.1:1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  watch.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const [code] = await once(watch, 'exit');
  t.equal(code, 2);
  t.match(stderr, '--lang: "es-65" is not a BCP 47 language tag');
});
