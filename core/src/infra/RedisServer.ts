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
  readonly #process: ServerProcess;

  private constructor(process: ServerProcess, port: number) {
    this.#process = process;
    this.url = `redis://127.0.0.1:${port}`;
  }

  static async start({ dir, port, persistent, log }: RedisServerOptions): Promise<RedisServer> {
    await mkdir(dir, { recursive: true });
    const args = ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', persistent ? 'yes' : 'no'];
    const process = new ServerProcess({ name: 'redis-server', command: 'redis-server', args, stopSignal: 'SIGTERM', log });
    const server = new RedisServer(process, port);
    try {
      await process.waitReady(() => ping(port));
    } catch (err) {
      await process.stop();
      throw err;
    }
    return server;
  }

  get pid(): number | undefined {
    return this.#process.pid;
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
