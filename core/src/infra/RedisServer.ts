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
  readonly #port: number;
  readonly #args: string[];
  readonly #user: string;
  readonly #password: string;
  readonly #log: Logger;
  #process: ServerProcess;

  private constructor(process: ServerProcess, port: number, args: string[], user: string, password: string, log: Logger) {
    this.#process = process;
    this.#port = port;
    this.#args = args;
    this.#user = user;
    this.#password = password;
    this.#log = log;
    this.url = `redis://${user}:${password}@127.0.0.1:${port}`;
  }

  static async start({ dir, port, persistent, user, password, log }: RedisServerOptions): Promise<RedisServer> {
    await mkdir(dir, { recursive: true });
    // The password goes in a 0600 file, never on the command line (ps shows it to every local user).
    const configFile = path.join(dir, 'redis-acl.conf');
    await writeOwnerOnly(configFile, ['user default off', `user ${user} on >${password} ~* &* +@all`, ''].join('\n'));
    const args = [configFile, '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', persistent ? 'yes' : 'no'];
    const server = new RedisServer(RedisServer.#spawn(args, log), port, args, user, password, log);
    await server.#waitReady();
    return server;
  }

  static #spawn(args: string[], log: Logger): ServerProcess {
    return new ServerProcess({ name: 'redis-server', command: 'redis-server', args, stopSignal: 'SIGTERM', log });
  }

  async #waitReady(): Promise<void> {
    try {
      await this.#process.waitReady(() => ping(this.#port, this.#user, this.#password));
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
