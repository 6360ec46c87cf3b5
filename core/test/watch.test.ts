import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import t from 'tap';
import { z } from 'zod';
import { encodeCaption, type CaptionEvent } from '../src/captions/CaptionEvent.js';
import { ensureCaptionStream } from '../src/captions/captionStream.js';
import { captionMessageId, finalCaptionSubject, interimCaptionSubject } from '../src/captions/subjects.js';
import { useInfra } from '../../test/support/infra.js';
import { nodeArgsFor } from '../src/process/nodeArgs.js';

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

  const watch = spawn(process.execPath, [...nodeArgsFor('core/src/cli/polyglot.ts'), 'watch', '--session', session, '--lang', 'es', '--json', '--after-seq', '1', '--finals', '3'], {
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
  const watch = spawn(process.execPath, [...nodeArgsFor('core/src/cli/polyglot.ts'), 'watch', '--session', '*', '--lang', 'es'], {
    env: { ...process.env, ...infra, PC_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  watch.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const [code] = await once(watch, 'exit');
  t.equal(code, 2);
  t.match(stderr, 'cannot be used in a NATS subject');
});
