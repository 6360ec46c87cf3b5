import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { SafeEmitter } from '../../core/src/events.js';
import { moduleLog } from '../../core/src/log.js';
import { decodeNodeMessage, type NodeMessage } from '../../core/src/sfu/rpcProtocol.js';
import { SFU_ANNOUNCE_SUBJECT } from '../../core/src/subjects.js';

const moduleLogger = moduleLog('SfuNodeWatch');

/** A node silent for this many of its announce intervals is taken for dead (as SfuPlacement does). */
const MISSED_ANNOUNCEMENTS = 3;
const DEFAULT_CHECK_INTERVAL_MS = 1_000;

/** `restarted`: the node announced a new process instance. `silent`: it stopped announcing without a goaway. */
export type SfuNodeLossReason = 'restarted' | 'silent';

export type SfuNodeWatchEvents = {
  /** Every session's media on `node` is gone, and the node said nothing (it crashed). */
  lost: [node: string, reason: SfuNodeLossReason];
};

export interface SfuNodeWatchOptions {
  nc: NatsConnection;
  /** How often silence is checked; a lost node is reported within 3 of its intervals plus this. */
  checkIntervalMs?: number;
  log?: Logger;
}

interface KnownNode {
  instance: string | undefined;
  seenAt: number;
  intervalMs: number;
}

/**
 * Follows the SFU nodes' announcements (pc.v1.sfu.announce) and reports a node whose process died
 * without draining: a SIGKILLed or crashed SFU sends no sessionClosed, so without this its sockets
 * would keep waiting on media that no longer exists. A restarted process shows as a new `instance`
 * under the same node id; one that stays down as silence. A goaway is not a loss: a draining node
 * closes its sessions itself (sessionClosed {reason:'shutdown'}).
 */
export class SfuNodeWatch extends SafeEmitter<SfuNodeWatchEvents> {
  readonly #log: Logger;
  readonly #known = new Map<string, KnownNode>();
  readonly #sub: Subscription;
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor({ nc, checkIntervalMs = DEFAULT_CHECK_INTERVAL_MS, log = moduleLogger }: SfuNodeWatchOptions) {
    super(log);
    this.#log = log;
    this.#sub = nc.subscribe(SFU_ANNOUNCE_SUBJECT, {
      callback: (err, msg) => {
        if (err) {
          this.#log.warn({ err }, 'SFU announcements subscription failed');
          return;
        }
        let message: NodeMessage;
        try {
          message = decodeNodeMessage(msg.data);
        } catch (decodeErr) {
          this.#log.debug({ err: decodeErr }, 'ignored a malformed node message');
          return;
        }
        this.#onMessage(message);
      },
    });
    this.#timer = setInterval(() => this.#checkSilence(), checkIntervalMs);
    this.#timer.unref();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#sub.unsubscribe();
    this.#known.clear();
  }

  #onMessage(message: NodeMessage): void {
    if (message.type === 'goaway') {
      this.#known.delete(message.node);
      return;
    }
    const known = this.#known.get(message.node);
    this.#known.set(message.node, { instance: message.instance, seenAt: Date.now(), intervalMs: message.intervalMs });
    if (known && known.instance !== undefined && message.instance !== undefined && known.instance !== message.instance) {
      this.#log.warn({ node: message.node }, 'SFU node restarted: its media is gone');
      this.safeEmit('lost', message.node, 'restarted');
    }
  }

  #checkSilence(): void {
    const now = Date.now();
    for (const [node, known] of [...this.#known]) {
      if (now - known.seenAt <= MISSED_ANNOUNCEMENTS * known.intervalMs) continue;
      // Forgotten, so it is reported once; if it comes back, its next announcement is a newcomer's.
      this.#known.delete(node);
      this.#log.warn({ node, silentMs: now - known.seenAt }, 'SFU node went silent: its media is taken for gone');
      this.safeEmit('lost', node, 'silent');
    }
  }
}
