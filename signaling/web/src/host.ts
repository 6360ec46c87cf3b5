import { CloseCode } from '../../src/closeCodes.js';
import { reconnectDelayMs } from '../../src/reconnectDelay.js';
import { byId, readFragment, signalingUrl } from './fragment.js';
import { LevelMeter } from './LevelMeter.js';
import { Publisher } from './Publisher.js';
import { RequestError } from './RequestError.js';
import { SignalingClient } from './SignalingClient.js';
import { Transcript } from './Transcript.js';

type HostState = 'connecting' | 'ready' | 'starting' | 'publishing' | 'stopping' | 'stopped' | 'ended' | 'error';

/** What the end-to-end test reads from the page. */
interface HostHooks {
  state: HostState;
  error: string | undefined;
  sessionId: string | undefined;
  producerId: string | undefined;
  viewers: number;
  viewersByLanguage: Record<string, number>;
  /** Finals of the source-language transcript, as received. */
  transcript(): Array<{ seq: number; text: string }>;
  levelDb: number;
  outboundStats(): Promise<{ bytesSent: number; packetsSent: number } | undefined>;
  /** Times the page published again by itself (media server restart, transport failure, reconnect). */
  republishes: number;
}

declare global {
  interface Window {
    pcHostForTesting?: HostHooks;
  }
}

const statusEl = byId('status', HTMLElement);
const titleEl = byId('title', HTMLElement);
const viewersEl = byId('viewers', HTMLElement);
const byLanguageEl = byId('viewers-by-language', HTMLUListElement);
const levelBar = byId('level-bar', HTMLElement);
const levelText = byId('level-db', HTMLElement);
const startBtn = byId('start', HTMLButtonElement);
const stopBtn = byId('stop', HTMLButtonElement);
const endBtn = byId('end', HTMLButtonElement);
const fileInput = byId('file', HTMLInputElement);
const sourceMic = byId('source-mic', HTMLInputElement);

const { token } = readFragment('pc.host.token');
const client = new SignalingClient(signalingUrl(), token ?? '');
const publisher = new Publisher(client, () => republish('the connection to the media server failed'));
const transcript = new Transcript(byId('history', HTMLOListElement), byId('interim', HTMLElement));
const hooks: HostHooks = {
  state: 'connecting',
  error: undefined,
  sessionId: undefined,
  producerId: undefined,
  viewers: 0,
  viewersByLanguage: {},
  transcript: () => transcript.finals().map((c) => ({ seq: c.seq, text: c.text })),
  levelDb: -Infinity,
  outboundStats: () => publisher.outboundStats(),
  republishes: 0,
};
window.pcHostForTesting = hooks;

let sessionStatus: 'scheduled' | 'live' | 'ended' = 'scheduled';
let track: MediaStreamTrack | undefined;
let stopSource: (() => void) | undefined;
let meter: LevelMeter | undefined;
/** The host pressed Start: publish again after a reconnect or a media server restart. */
let wantPublishing = false;

function setState(state: HostState, detail?: string): void {
  hooks.state = state;
  if (state === 'error') hooks.error = detail;
  document.body.dataset.state = state;
  startBtn.disabled = !(state === 'ready' || state === 'stopped');
  stopBtn.disabled = state !== 'publishing';
  endBtn.disabled = state === 'ended' || state === 'connecting' || state === 'error';
  if (detail) statusEl.textContent = detail;
}

async function api(action: 'start' | 'end'): Promise<void> {
  const res = await fetch(`/api/sessions/${encodeURIComponent(hooks.sessionId ?? '')}/${action}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token ?? ''}` },
  });
  if (!res.ok) throw new Error(`${action} failed: ${res.status} ${await res.text()}`);
}

/** The microphone, or the chosen file played in a loop, as one audio track. */
async function openSource(): Promise<MediaStreamTrack> {
  const file = fileInput.files?.[0];
  if (sourceMic.checked || !file) {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 } });
    const mic = stream.getAudioTracks()[0];
    if (!mic) throw new Error('no microphone track');
    stopSource = () => mic.stop();
    return mic;
  }
  const element = new Audio(URL.createObjectURL(file));
  element.loop = true;
  const context = new AudioContext();
  const destination = context.createMediaStreamDestination();
  context.createMediaElementSource(element).connect(destination);
  await element.play();
  const fileTrack = destination.stream.getAudioTracks()[0];
  if (!fileTrack) throw new Error('no track from the audio file');
  stopSource = () => {
    element.pause();
    URL.revokeObjectURL(element.src);
    void context.close();
  };
  return fileTrack;
}

async function publish(): Promise<void> {
  if (!track) return;
  hooks.producerId = await publisher.start(track);
  setState('publishing', 'on air');
}

/** Backoff between attempts to publish again: the media server may take seconds to come back. */
const REPUBLISH_DELAY = { baseMs: 500, maxMs: 10_000 };
/** Errors retrying cannot fix: the page stops and says so. */
const FINAL_CODES: readonly string[] = ['forbidden', 'invalid_message'];
let republishing = false;
/** Another reset came in while publishing again: go once more, the producer just made may be gone. */
let resetAgain = false;

/** Publishes again by itself until it works, the host presses Stop, or the socket is gone for good. */
function republish(why: string): void {
  if (!wantPublishing) return;
  if (republishing) {
    resetAgain = true;
    return;
  }
  republishing = true;
  void (async () => {
    try {
      let attempt = 0;
      while (wantPublishing) {
        resetAgain = false;
        setState('starting', `${why}; publishing again…`);
        try {
          await publisher.reset();
          await publish();
          hooks.republishes += 1;
          if (!resetAgain) return;
          attempt = 0;
        } catch (err) {
          if (err instanceof RequestError && FINAL_CODES.includes(err.code)) throw err;
          const hint = err instanceof RequestError ? err.retryAfterMs : undefined;
          const delayMs = Math.max(hint ?? 0, reconnectDelayMs(attempt, REPUBLISH_DELAY));
          attempt += 1;
          why = `could not publish (${err instanceof Error ? err.message : String(err)})`;
          setState('starting', `${why}; trying again in ${(delayMs / 1000).toFixed(1)} s`);
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
      }
    } catch (err) {
      setState('error', `could not publish again: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      republishing = false;
    }
  })();
}

async function start(): Promise<void> {
  setState('starting', 'starting…');
  try {
    if (sessionStatus === 'scheduled') {
      await api('start');
      sessionStatus = 'live';
    }
    track = await openSource();
    meter = new LevelMeter(track, (db) => {
      hooks.levelDb = db;
      const pct = Math.max(0, Math.min(100, ((db + 60) / 60) * 100));
      levelBar.style.width = `${pct}%`;
      levelText.textContent = Number.isFinite(db) ? `${db.toFixed(0)} dBFS` : 'silence';
    });
    wantPublishing = true;
    await publish();
  } catch (err) {
    setState('error', `could not start: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function stop(): Promise<void> {
  wantPublishing = false;
  setState('stopping', 'stopping…');
  try {
    await publisher.stop();
  } finally {
    meter?.close();
    stopSource?.();
    meter = undefined;
    track = undefined;
    hooks.producerId = undefined;
    setState('stopped', 'stopped; press Start to go on air again');
  }
}

async function end(): Promise<void> {
  endBtn.disabled = true;
  try {
    await api('end');
    // The server then pushes sessionEnded and closes the socket (4410).
  } catch (err) {
    setState('error', err instanceof Error ? err.message : String(err));
  }
}

startBtn.addEventListener('click', () => void start());
stopBtn.addEventListener('click', () => void stop());
endBtn.addEventListener('click', () => void end());

client.on('status', (text) => {
  if (hooks.state !== 'publishing') statusEl.textContent = text;
});
client.on('welcome', (welcome) => {
  if (welcome.role === 'viewer') {
    setState('error', 'this token is a viewer token; the host page needs a host or speaker token');
    client.stop();
    return;
  }
  hooks.sessionId = welcome.session.id;
  sessionStatus = welcome.session.status;
  titleEl.textContent = welcome.session.title;
  // The live transcript: the source language, resuming after the last final held (-1: from the start).
  const source = welcome.session.sourceLanguage;
  if (transcript.language !== source) transcript.show(source);
  client
    .request({ type: 'setLanguage', language: source, afterSeq: transcript.lastSeq(source) }, 'languageSet')
    .catch((err: unknown) => console.warn('transcript unavailable', err));
  if (wantPublishing) {
    republish('reconnected');
  } else {
    setState(hooks.state === 'stopped' ? 'stopped' : 'ready', sessionStatus === 'live' ? 'connected; the session is live' : 'connected; press Start to go live');
  }
});
client.on('push', (message) => {
  if (message.type === 'caption') {
    transcript.add(message);
  } else if (message.type === 'viewerCount') {
    hooks.viewers = message.count;
    hooks.viewersByLanguage = message.byLanguage;
    viewersEl.textContent = String(message.count);
    byLanguageEl.replaceChildren(
      ...Object.entries(message.byLanguage)
        .sort(([, a], [, b]) => b - a)
        .map(([lang, n]) => {
          const li = document.createElement('li');
          li.textContent = `${lang}: ${n}`;
          return li;
        }),
    );
  } else if (message.type === 'mediaReset' && wantPublishing) {
    republish(`media reset (${message.reason})`);
  }
});
client.on('stopped', (info) => {
  meter?.close();
  stopSource?.();
  wantPublishing = false;
  if (info.sessionEnded || info.code === CloseCode.SessionEnded) setState('ended', 'the session has ended: create a new one (POST /api/sessions) to publish again');
  else if (info.code === CloseCode.SessionNotFound) setState('error', 'no such session: create one first (POST /api/sessions with a host token), then open its host link');
  else setState('error', `disconnected: ${info.reason || info.code}`);
});

if (token) {
  client.start();
} else {
  setState('error', 'open this page with #token=<host token> in the address (polyglot token --role host --session …)');
}
