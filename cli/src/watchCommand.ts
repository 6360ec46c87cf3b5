import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { connect, type NatsConnection } from 'nats';
import { natsConnectOptions } from '../../core/src/natsConnectOptions.js';
import { redactUrl } from '../../core/src/secrets.js';
import { CaptionDecodeError, decodeCaption, type CaptionEvent } from '../../core/src/captions/CaptionEvent.js';
import { CAPTION_STREAM } from '../../core/src/captions/captionStream.js';
import { DemandBoard } from '../../core/src/captions/DemandBoard.js';
import { FinalCaptionFeed } from '../../core/src/captions/FinalCaptionFeed.js';
import { canonicalLanguageTag } from '../../core/src/languages/languageTag.js';
import { InvalidArgumentError } from '../../core/src/errors.js';
import { finalCaptionSubject, interimCaptionSubject, SubjectTokenError } from '../../core/src/subjects.js';
import type { Config } from '../../core/src/config.js';
import { moduleLog } from '../../core/src/log.js';
import { UsageError } from './UsageError.js';

const log = moduleLog('watch');

const USAGE = `usage: polyglot watch --session SESSION --lang LANG [--json] [--after-seq N] [--finals N]
  Prints the captions of SESSION in LANG as they arrive: interims (core NATS) and finals (JetStream).
  --json       one JSON line per event: the caption plus receivedAt (ms since epoch)
  --after-seq  first replay the stored finals after seq N (resume), then go on live
  --finals     exit 0 after N finals (scripts and tests)`;

interface WatchOptions {
  session: string;
  lang: string;
  json: boolean;
  afterSeq: number | undefined;
  finals: number | undefined;
}

function parse(args: string[]): WatchOptions {
  let values: { session?: string; lang?: string; json?: boolean; 'after-seq'?: string; finals?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { session: { type: 'string' }, lang: { type: 'string' }, json: { type: 'boolean' }, 'after-seq': { type: 'string' }, finals: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  const count = (name: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw new UsageError(`--${name} takes a whole number\n${USAGE}`);
    return Number(value);
  };
  if (!values.session || !values.lang) throw new UsageError(`--session and --lang are required\n${USAGE}`);
  let lang: string;
  try {
    lang = canonicalLanguageTag(values.lang);
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new UsageError(`--lang: ${err.message}`);
    throw err;
  }
  try {
    finalCaptionSubject(values.session, lang);
  } catch (err) {
    if (err instanceof SubjectTokenError) throw new UsageError(err.message);
    throw err;
  }
  return { session: values.session, lang, json: values.json ?? false, afterSeq: count('after-seq', values['after-seq']), finals: count('finals', values.finals) };
}

function print(event: CaptionEvent, json: boolean): void {
  const receivedAt = Date.now();
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...event, receivedAt })}\n`);
  } else {
    const who = event.speakerName ? `${event.speakerName}: ` : '';
    process.stdout.write(`${event.final ? `#${event.seq}` : '  ...'} [${event.lang}] ${who}${event.text}\n`);
  }
}

export async function watchCommand(args: string[], cfg: Config): Promise<number> {
  const opts = parse(args);
  const nc: NatsConnection = await connect({ ...natsConnectOptions(cfg.natsUrl, cfg.natsAuth), name: 'polyglot-watch' });
  let finalsSeen = 0;
  let lastFinalSeq = opts.afterSeq ?? -1;
  const done = new AbortController();
  const onFinal = (event: CaptionEvent) => {
    lastFinalSeq = event.seq;
    print(event, opts.json);
    finalsSeen++;
    if (opts.finals !== undefined && finalsSeen >= opts.finals) done.abort();
  };
  const decodeOrWarn = (data: Uint8Array): CaptionEvent | undefined => {
    try {
      return decodeCaption(data);
    } catch (err) {
      if (!(err instanceof CaptionDecodeError)) throw err;
      process.stderr.write(`polyglot watch: skipped a malformed caption: ${err.message}\n`);
      return undefined;
    }
  };

  try {
    await nc.jetstreamManager().then((jsm) => jsm.streams.info(CAPTION_STREAM));
  } catch (err) {
    await nc.close();
    if (err instanceof Error && /stream not found/i.test(err.message)) {
      process.stderr.write(`polyglot watch: no caption stream on ${redactUrl(cfg.natsUrl)} yet: is the platform up ('polyglot up')?\n`);
      return 1;
    }
    throw err;
  }
  // Like a viewer, a watcher asks for its language: the pipeline translates only what someone reads.
  const demand = await DemandBoard.open(nc, `watch-${process.pid}`, log);
  try {
    demand.add(opts.session, opts.lang);
    const interims = nc.subscribe(interimCaptionSubject(opts.session, opts.lang), {
      callback: (err, msg) => {
        if (err) return;
        const event = decodeOrWarn(msg.data);
        if (event && event.seq > lastFinalSeq) print(event, opts.json);
      },
    });
    const finals = await FinalCaptionFeed.open(nc, opts.session, opts.lang, {
      ...(opts.afterSeq === undefined ? {} : { afterSeq: opts.afterSeq }),
      onMalformed: (err) => process.stderr.write(`polyglot watch: skipped a malformed caption: ${err.message}\n`),
    });
    const pump = (async () => {
      for await (const event of finals) onFinal(event);
    })();
    await nc.flush();
    process.stderr.write(`watching ${opts.session} [${opts.lang}]\n`);

    await Promise.race([once(done.signal, 'abort'), once(process, 'SIGINT'), once(process, 'SIGTERM')]);
    await finals.close();
    interims.unsubscribe();
    await pump;
    await demand.close(); // before the connection goes: it withdraws this watcher's language
    await nc.drain();
  } finally {
    await demand.close();
    if (!nc.isClosed()) await nc.close();
  }
  return 0;
}
