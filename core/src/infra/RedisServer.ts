import net from 'node:net';
import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ServerProcess } from './ServerProcess.js';

export interface RedisServerOptions {
  dir: string;
  port: number;
  /** Keep an append-only file in `dir` (the demo); tests run without persistence. */
  persistent: boolean;
  log: Logger;
}

/** A real redis-server on 127.0.0.1. */
export class RedisServer {
  readonly url: string;
  readonly #port: number;
  readonly #args: string[];
  readonly #log: Logger;
  #process: ServerProcess;

  private constructor(process: ServerProcess, port: number, args: string[], log: Logger) {
    this.#process = process;
    this.#port = port;
    this.#args = args;
    this.#log = log;
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async start({ dir, port, persistent, log }: RedisServerOptions): Promise<RedisServer> {
    await mkdir(dir, { recursive: true });
    const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', persistent ? 'yes' : 'no'];
    const server = new RedisServer(RedisServer.#spawn(args, log), port, args, log);
    await server.#waitReady();
    return server;
  }

  static #spawn(args: string[], log: Logger): ServerProcess {
    return new ServerProcess({ name: 'redis-server', command: 'redis-server', args, stopSignal: 'SIGTERM', log });
  }

  async #waitReady(): Promise<void> {
    try {
      await this.#process.waitReady(() => ping(this.#port));
    } catch (err) {
      await this.#process.stop();
      throw err;
    }
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** Stops the server but keeps its port and directory, for up() (fault tests). */
  down(): Promise<void> {
    return this.#process.stop();
  }

  /** Starts the server again after down(), on the same port and directory; no-op while it runs. */
  async up(): Promise<void> {
    if (this.#process.running) return;
    this.#process = RedisServer.#spawn(this.#args, this.#log);
    await this.#waitReady();
  }

  stop(): Promise<void> {
    return this.#process.stop();
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.startsWith('+PONG'));
      }
    });
    socket.once('error', () => resolve(false));
  });
}
