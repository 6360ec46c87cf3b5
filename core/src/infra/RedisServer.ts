import net from 'node:net';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { writeOwnerOnly } from './infraCredentials.js';
import { ServerProcess } from './ServerProcess.js';

export interface RedisServerOptions {
  dir: string;
  port: number;
  /** Keep an append-only file in `dir` (the demo); tests run without persistence. */
  persistent: boolean;
  /** The one ACL user; the default user is disabled, so a connection without these gets nothing. */
  user: string;
  password: string;
  log: Logger;
}

/** A real redis-server on 127.0.0.1 with ACLs: one user with a password, the default user off. */
export class RedisServer {
  /** Carries the user and password (ioredis reads them from the URL). */
  readonly url: string;
  readonly #process: ServerProcess;

  private constructor(process: ServerProcess, port: number, user: string, password: string) {
    this.#process = process;
    this.url = `redis://${user}:${password}@127.0.0.1:${port}`;
  }

  static async start({ dir, port, persistent, user, password, log }: RedisServerOptions): Promise<RedisServer> {
    await mkdir(dir, { recursive: true });
    // The password goes in a 0600 file, never on the command line (ps shows it to every local user).
    const configFile = path.join(dir, 'redis-acl.conf');
    await writeOwnerOnly(configFile, ['user default off', `user ${user} on >${password} ~* &* +@all`, ''].join('\n'));
    const args = [configFile, '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', persistent ? 'yes' : 'no'];
    const process = new ServerProcess({ name: 'redis-server', command: 'redis-server', args, stopSignal: 'SIGTERM', log });
    const server = new RedisServer(process, port, user, password);
    try {
      await process.waitReady(() => ping(port, user, password));
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

function ping(port: number, user: string, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`AUTH ${user} ${password}\r\nPING\r\n`));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      // Two replies: +OK to AUTH, then +PONG; an error to either ends the probe.
      const lines = reply.split('\r\n').filter((l) => l !== '');
      if (lines.some((l) => l.startsWith('-')) || lines.length >= 2) {
        socket.destroy();
        resolve(lines[0] === '+OK' && lines[1] === '+PONG');
      }
    });
    socket.once('error', () => resolve(false));
  });
}
