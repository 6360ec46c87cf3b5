import { CloseCode } from '../../src/closeCodes.js';
import { reconnectDelayMs } from '../../src/reconnectDelay.js';
import { DebugOverlay, type FinalDelay } from './DebugOverlay.js';
import { byId, readFragment, signalingUrl } from './fragment.js';
import { Listener, type InboundAudioStats } from './Listener.js';
import { RequestError } from './RequestError.js';
import { SignalingClient } from './SignalingClient.js';
import { Transcript, type Caption } from './Transcript.js';

type ViewerState = 'connecting' | 'connected' | 'listening' | 'ended' | 'error';

/** What the end-to-end test reads from the page. */
interface ViewerHooks {
  state: ViewerState;
  error: string | undefined;
  consumers: number;
  language: string;
  /** Finals of the shown language, as received. */
  finals(): Array<{ lang: string; seq: number; text: string }>;
  interim: string | undefined;
  translating: boolean;
  /** Why the shown language gets no captions now (languageStatus, or a refused setLanguage); undefined while it does. */
  untranslatable: string | undefined;
  /** The server said the shown language is caught up (captionsLive): finals from now on are live. */
  live: boolean;
  delays(): readonly FinalDelay[];
  /** Switches the caption language as the menu does. */
  setLanguage(lang: string): void;
  inboundStats(): Promise<InboundAudioStats | undefined>;
  /**
   * Samples inbound stats every intervalMs until audio is seen flowing (bytes grow between two
   * samples and audioLevel > 0), or rejects at the deadline with what it saw.
   */
  waitForAudio(deadlineMs: number, intervalMs?: number): Promise<InboundAudioStats[]>;
}

declare global {
  interface Window {
    pcViewerForTesting?: ViewerHooks;
  }
}

/** After a switch, "translating…" shows until the first caption of the new language, at most this long. */
const SWITCH_HINT_MS = 4_000;
const FONT_SIZES_REM = [1, 1.15, 1.35, 1.6, 1.9, 2.3, 2.8];
const FONT_KEY = 'pc.viewer.fontSize';

const statusEl = byId('status', HTMLElement);
const titleEl = byId('title', HTMLElement);
const languageEl = byId('language', HTMLSelectElement);
const listenEl = byId('listen', HTMLInputElement);
const audioEl = byId('audio', HTMLAudioElement);
const captionsEl = byId('captions', HTMLElement);
const emptyEl = byId('empty', HTMLElement);
const translatingEl = byId('translating', HTMLElement);
const untranslatableEl = byId('untranslatable', HTMLElement);
const announcerEl = byId('announcer', HTMLElement);
const fontDown = byId('font-down', HTMLButtonElement);
const fontUp = byId('font-up', HTMLButtonElement);

const { token } = readFragment('pc.viewer.token');
const client = new SignalingClient(signalingUrl(), token ?? '');
const listener = new Listener(client, audioEl);
const transcript = new Transcript(byId('history', HTMLOListElement), byId('interim', HTMLElement));
const debug = new DebugOverlay(byId('debug', HTMLElement), new URLSearchParams(location.hash.slice(1)).has('debug'));

/** When the language last changed, until its first caption arrived. */
let switchedAt: number | undefined;
/**
 * The language whose replay is over (captionsLive): its finals are read out and measured. History
 * is neither: it would be read out all at once, and its delay is only how long ago it was said.
 */
let liveLang: string | undefined;
let translatingTimer: ReturnType<typeof setTimeout> | undefined;

const hooks: ViewerHooks = {
  state: 'connecting',
  error: undefined,
  consumers: 0,
  language: languageEl.value,
  finals: () => transcript.finals().map((c) => ({ lang: c.lang, seq: c.seq, text: c.text })),
  interim: undefined,
  translating: false,
  untranslatable: undefined,
  live: false,
  delays: () => debug.delays,
  setLanguage: (lang) => {
    languageEl.value = lang;
    languageEl.dispatchEvent(new Event('change'));
  },
  inboundStats: () => listener.inboundStats(),
  waitForAudio: (deadlineMs, intervalMs = 250) =>
    new Promise((resolve, reject) => {
      const samples: InboundAudioStats[] = [];
      const started = Date.now();
      const timer = setInterval(() => {
        void listener.inboundStats().then((s) => {
          if (s) samples.push(s);
          const first = samples[0];
          const last = samples[samples.length - 1];
          if (first && last && last.bytesReceived > first.bytesReceived && samples.some((x) => x.audioLevel > 0)) {
            clearInterval(timer);
            resolve(samples);
          } else if (Date.now() - started > deadlineMs) {
            clearInterval(timer);
            reject(new Error(`no audio within ${deadlineMs} ms: ${JSON.stringify(samples.slice(-3))}`));
          }
        });
      }, intervalMs);
    }),
};
window.pcViewerForTesting = hooks;

function setState(state: ViewerState, detail?: string): void {
  hooks.state = state;
  if (state === 'error') hooks.error = detail;
  document.body.dataset.state = state;
  listenEl.disabled = state === 'ended' || state === 'error' || state === 'connecting';
  if (detail) statusEl.textContent = detail;
  updateDebugContext();
}

function updateDebugContext(): void {
  debug.setContext(`${hooks.state} · ${hooks.language} · last seq ${transcript.lastSeq(hooks.language)}`);
}

/** "translating…" while an interim is on screen, or right after a switch until the language's first caption. */
function updateTranslating(): void {
  const switching = switchedAt !== undefined && Date.now() - switchedAt < SWITCH_HINT_MS;
  hooks.translating = hooks.untranslatable === undefined && (transcript.interim !== undefined || switching);
  untranslatableEl.hidden = hooks.untranslatable === undefined;
  untranslatableEl.textContent = hooks.untranslatable ?? '';
  translatingEl.hidden = !hooks.translating;
  emptyEl.hidden = transcript.finals().length > 0 || transcript.interim !== undefined;
  clearTimeout(translatingTimer);
  if (switching && switchedAt !== undefined) translatingTimer = setTimeout(updateTranslating, SWITCH_HINT_MS - (Date.now() - switchedAt));
}

/** Asks for the shown language, resuming after its last final held (-1: the whole session so far). */
async function sendLanguage(): Promise<void> {
  const lang = languageEl.value;
  try {
    await client.request({ type: 'setLanguage', language: lang, afterSeq: transcript.lastSeq(lang) }, 'languageSet');
  } catch (err) {
    // The server keeps the previous language on this socket; the page says why this one has no captions.
    if (err instanceof RequestError && (err.code === 'unsupported_language' || err.code === 'language_limit') && lang === hooks.language) {
      showUntranslatable(err.code === 'unsupported_language' ? `Captions in ${languageName(lang)} are not available for this session.` : `This session has captions in as many languages as it can; ${languageName(lang)} is not one of them.`);
    }
    throw err;
  }
}

const UNTRANSLATABLE_TEXT: Record<string, string> = {
  no_engine: 'no translation service for it is running',
  engine_failed: 'the translation service is failing',
  language_limit: 'the session has captions in as many languages as it can',
  invalid_language: 'it is not a language the platform knows',
};

function languageName(lang: string): string {
  return [...languageEl.options].find((o) => o.value === lang)?.textContent ?? lang;
}

function showUntranslatable(text: string | undefined): void {
  hooks.untranslatable = text;
  if (text !== undefined) switchedAt = undefined;
  updateTranslating();
}

function switchLanguage(): void {
  const lang = languageEl.value;
  if (lang === transcript.language) return;
  hooks.language = lang;
  captionsEl.lang = lang;
  hooks.untranslatable = undefined;
  localStorage.setItem('pc.viewer.language', lang);
  transcript.show(lang);
  setLive(undefined);
  switchedAt = Date.now();
  hooks.interim = undefined;
  updateTranslating();
  updateDebugContext();
  // No reconnect: the same socket moves; if it is down, the next welcome asks for this language.
  void sendLanguage().catch((err: unknown) => console.warn('setLanguage failed', err));
}

function onCaption(caption: Caption): void {
  const added = transcript.add(caption);
  if (added === 'ignored') return;
  switchedAt = undefined;
  hooks.interim = transcript.interim?.text;
  if (added === 'final') {
    if (liveLang === caption.lang) {
      announcerEl.textContent = caption.speakerName ? `${caption.speakerName}: ${caption.text}` : caption.text;
      debug.record(caption, Date.now());
    }
    updateDebugContext();
  }
  updateTranslating();
}

function setLive(lang: string | undefined): void {
  liveLang = lang;
  hooks.live = lang !== undefined && lang === hooks.language;
}

function applyFontSize(index: number): void {
  const i = Math.max(0, Math.min(FONT_SIZES_REM.length - 1, index));
  document.documentElement.style.setProperty('--caption-size', `${FONT_SIZES_REM[i] ?? 1.35}rem`);
  localStorage.setItem(FONT_KEY, String(i));
  fontDown.disabled = i === 0;
  fontUp.disabled = i === FONT_SIZES_REM.length - 1;
}
let fontIndex = Number(localStorage.getItem(FONT_KEY) ?? FONT_SIZES_REM.indexOf(1.35));
if (!Number.isInteger(fontIndex)) fontIndex = FONT_SIZES_REM.indexOf(1.35);
applyFontSize(fontIndex);
fontDown.addEventListener('click', () => applyFontSize((fontIndex = Math.max(0, fontIndex - 1))));
fontUp.addEventListener('click', () => applyFontSize((fontIndex = Math.min(FONT_SIZES_REM.length - 1, fontIndex + 1))));

document.addEventListener('keydown', (event) => {
  const target = event.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement) return;
  if (event.key === 'd' && !event.ctrlKey && !event.metaKey && !event.altKey) debug.toggle();
});

/** Backoff while the media server is unavailable (restarting): audio comes back by itself. */
const LISTEN_RETRY_DELAY = { baseMs: 500, maxMs: 10_000 };
let listenAttempt = 0;

async function startListening(): Promise<void> {
  try {
    await listener.start();
    listenAttempt = 0;
    hooks.consumers = listener.consumerCount;
    setState('listening', listener.consumerCount > 0 ? 'listening' : 'listening; waiting for the host to go on air');
  } catch (err) {
    if (err instanceof RequestError && (err.code === 'unavailable' || (err.code === 'media_limit' && err.retryAfterMs !== undefined)) && listenEl.checked) {
      const delayMs = Math.max(err.retryAfterMs ?? 0, reconnectDelayMs(listenAttempt, LISTEN_RETRY_DELAY));
      listenAttempt += 1;
      statusEl.textContent = `audio unavailable for now; trying again in ${(delayMs / 1000).toFixed(1)} s`;
      setTimeout(() => {
        if (listenEl.checked) void startListening();
      }, delayMs);
      return;
    }
    setState('error', `audio unavailable: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const savedLanguage = localStorage.getItem('pc.viewer.language');
if (savedLanguage && [...languageEl.options].some((o) => o.value === savedLanguage)) languageEl.value = savedLanguage;
hooks.language = languageEl.value;
captionsEl.lang = languageEl.value;
transcript.show(languageEl.value);
updateTranslating();

languageEl.addEventListener('change', switchLanguage);
listenEl.addEventListener('change', () => {
  if (listenEl.checked) void startListening();
  else
    void listener.stop().finally(() => {
      hooks.consumers = 0;
      setState('connected', 'audio off; captions only');
    });
});

client.on('status', (text) => {
  if (hooks.state !== 'listening') statusEl.textContent = text;
});
client.on('welcome', (welcome) => {
  titleEl.textContent = welcome.session.title;
  setState('connected', 'connected');
  setLive(undefined); // until this socket has caught up
  // After a reconnect this resumes after the last final held: no gap, no repeat.
  void sendLanguage().catch((err: unknown) => console.warn('setLanguage failed', err));
  if (listenEl.checked) void startListening();
});
client.on('push', (message) => {
  if (message.type === 'caption') {
    onCaption(message);
  } else if (message.type === 'languageStatus') {
    if (message.lang !== transcript.language) return;
    showUntranslatable(
      message.state === 'untranslatable' ? `No captions in ${languageName(message.lang)} right now: ${UNTRANSLATABLE_TEXT[message.reason ?? 'engine_failed'] ?? 'translation failed'}.` : undefined,
    );
  } else if (message.type === 'captionsLive') {
    if (message.lang === transcript.language) setLive(message.lang);
  } else if (message.type === 'producerAdded' && listener.active) {
    void listener.consume(message.producerId).then(() => {
      hooks.consumers = listener.consumerCount;
      setState('listening', 'listening');
    });
  } else if (message.type === 'producerClosed') {
    listener.producerClosed(message.producerId);
    hooks.consumers = listener.consumerCount;
  } else if (message.type === 'mediaReset' && listenEl.checked) {
    void startListening();
  }
});
client.on('stopped', (info) => {
  void listener.stop().catch(() => undefined); // the socket is gone: nothing to release remotely
  hooks.consumers = 0;
  if (info.sessionEnded || info.code === CloseCode.SessionEnded) {
    transcript.note('The session has ended. Thank you for watching.');
    emptyEl.hidden = true;
    setState('ended', 'the session has ended');
  } else {
    setState('error', `disconnected: ${info.reason || info.code}`);
  }
});

if (token) {
  client.start();
} else {
  setState('error', 'open this page from the viewer link of the session (it carries #token=…)');
}
