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
  readonly #process: ServerProcess;

  private constructor(process: ServerProcess, port: number, monitorPort: number) {
    this.#process = process;
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
    const process = new ServerProcess({ name: 'nats-server', command: 'nats-server', args, stopSignal: 'SIGTERM', log });
    const server = new NatsServer(process, port, monitorPort);
    try {
      // /healthz answers 200 only once JetStream is up.
      await process.waitReady(async () => (await fetch(`${server.monitorUrl}/healthz`)).ok);
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
