import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { NatsRole } from '../natsPermissions.js';
import { generateCredentials, writeOwnerOnly } from './infraCredentials.js';
import { natsServerConfig } from './natsServerConfig.js';
import { ServerProcess } from './ServerProcess.js';
import { freePort } from './ports.js';

export interface NatsServerOptions {
  /** JetStream storage lives in `${dir}/jetstream`, the configuration (0600) in `${dir}/nats-server.conf`, its log (permission violations among others) in `${dir}/nats-server.log`. */
  dir: string;
  port: number;
  /**
   * One user per role, each with its permissions from core/src/natsPermissions.ts. Omitted (a
   * test's private server): fresh ones, and credential-less connections are the admin.
   */
  users?: Record<NatsRole, { user: string; password: string }>;
  /** See NatsServerConfigOptions.noAuthRole: throwaway test sets only. */
  noAuthRole?: NatsRole;
  log: Logger;
}

/** A real nats-server with JetStream on 127.0.0.1, a user per role and nobody else. */
export class NatsServer {
  /** With no credentials in it: nats.js ignores a URL's userinfo (natsConnectOptions reads it). */
  readonly url: string;
  readonly monitorUrl: string;
  readonly #args: string[];
  readonly #log: Logger;
  #process: ServerProcess;

  private constructor(process: ServerProcess, port: number, monitorPort: number, args: string[], log: Logger) {
    this.#process = process;
    this.#args = args;
    this.#log = log;
    this.url = `nats://127.0.0.1:${port}`;
    this.monitorUrl = `http://127.0.0.1:${monitorPort}`;
  }

  static async start({ dir, port, users, noAuthRole, log }: NatsServerOptions): Promise<NatsServer> {
    await mkdir(dir, { recursive: true });
    const configFile = path.join(dir, 'nats-server.conf');
    const anonymous = noAuthRole ?? (users ? undefined : 'admin');
    await writeOwnerOnly(configFile, natsServerConfig({ users: users ?? generateCredentials().nats, ...(anonymous ? { noAuthRole: anonymous } : {}) }));
    const monitorPort = await freePort();
    // Passwords stay in the 0600 file, never on the command line (ps shows it to every local user).
    const args = ['-c', configFile, '-l', path.join(dir, 'nats-server.log'), '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-js', '-sd', path.join(dir, 'jetstream'), '-n', `pc-${port}`];
    const server = new NatsServer(NatsServer.#spawn(args, log), port, monitorPort, args, log);
    await server.#waitReady();
    return server;
  }

  static #spawn(args: string[], log: Logger): ServerProcess {
    return new ServerProcess({ name: 'nats-server', command: 'nats-server', args, stopSignal: 'SIGTERM', log });
  }

  async #waitReady(): Promise<void> {
    try {
      // /healthz answers 200 only once JetStream is up.
      await this.#process.waitReady(async () => (await fetch(`${this.monitorUrl}/healthz`)).ok);
    } catch (err) {
      await this.#process.stop();
      throw err;
    }
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** Stops the server but keeps its port and JetStream directory, for up() (fault tests). */
  down(): Promise<void> {
    return this.#process.stop();
  }

  /** Starts the server again after down(), on the same port and JetStream directory; no-op while it runs. */
  async up(): Promise<void> {
    if (this.#process.running) return;
    this.#process = NatsServer.#spawn(this.#args, this.#log);
    await this.#waitReady();
  }

  stop(): Promise<void> {
    return this.#process.stop();
  }
}
