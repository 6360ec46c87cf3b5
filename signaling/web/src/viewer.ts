import { byId, readFragment, signalingUrl } from './fragment.js';
import { Listener, type InboundAudioStats } from './Listener.js';
import { SignalingClient } from './SignalingClient.js';

type ViewerState = 'connecting' | 'connected' | 'listening' | 'ended' | 'error';

/** What the end-to-end test reads from the page. */
interface ViewerHooks {
  state: ViewerState;
  error: string | undefined;
  consumers: number;
  language: string;
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

const statusEl = byId('status', HTMLElement);
const titleEl = byId('title', HTMLElement);
const languageEl = byId('language', HTMLSelectElement);
const listenEl = byId('listen', HTMLInputElement);
const audioEl = byId('audio', HTMLAudioElement);
const captionsEl = byId('captions', HTMLElement);

const { token } = readFragment('pc.viewer.token');
const client = new SignalingClient(signalingUrl(), token ?? '');
const listener = new Listener(client, audioEl);

const hooks: ViewerHooks = {
  state: 'connecting',
  error: undefined,
  consumers: 0,
  language: languageEl.value,
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
}

async function sendLanguage(): Promise<void> {
  hooks.language = languageEl.value;
  captionsEl.dataset.language = languageEl.value;
  await client.request({ type: 'setLanguage', language: languageEl.value }, 'languageSet');
}

async function startListening(): Promise<void> {
  try {
    await listener.start();
    hooks.consumers = listener.consumerCount;
    setState('listening', listener.consumerCount > 0 ? 'listening' : 'listening; waiting for the host to go on air');
  } catch (err) {
    setState('error', `audio unavailable: ${err instanceof Error ? err.message : String(err)}`);
  }
}

languageEl.addEventListener('change', () => void sendLanguage().catch((err: unknown) => console.warn('setLanguage failed', err)));
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
  void sendLanguage().catch((err: unknown) => console.warn('setLanguage failed', err));
  if (listenEl.checked) void startListening();
});
client.on('push', (message) => {
  if (message.type === 'producerAdded' && listener.active) {
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
  if (info.sessionEnded || info.code === 4410) {
    captionsEl.textContent = 'The session has ended. Thank you for watching.';
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
