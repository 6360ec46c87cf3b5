import type { IncomingMessage } from 'node:http';

/** RFC 6455 §4.1: the base64 of 16 bytes. */
const KEY = /^[+/0-9A-Za-z]{22}==$/;
/** RFC 7230 token, comma-separated (RFC 6455 §4.1 Sec-WebSocket-Protocol). */
const PROTOCOLS = /^\s*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(\s*,\s*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*\s*$/;

/**
 * Why an upgrade request at /ws is not a WebSocket handshake we can complete, or undefined. These
 * are the checks `ws` makes in handleUpgrade; made here first so the refusal is our JSON error
 * (ws answers them itself in text/html, a body no client of ours can read).
 */
export function handshakeProblem(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET') return 'a WebSocket upgrade must be a GET';
  if (req.headers.upgrade?.toLowerCase() !== 'websocket') return 'Upgrade: websocket required';
  const key = req.headers['sec-websocket-key'];
  if (key === undefined || !KEY.test(key)) return 'missing or invalid Sec-WebSocket-Key';
  const version = req.headers['sec-websocket-version'];
  if (version !== '8' && version !== '13') return 'Sec-WebSocket-Version must be 13';
  const protocols = req.headers['sec-websocket-protocol'];
  if (protocols !== undefined) {
    const names = protocols.split(',').map((p) => p.trim());
    if (!PROTOCOLS.test(protocols) || new Set(names).size !== names.length) return 'invalid Sec-WebSocket-Protocol';
  }
  return undefined;
}
