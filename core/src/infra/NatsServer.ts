import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { ServerProcess } from './ServerProcess.js';
import { freePort } from './ports.js';

export interface NatsServerOptions {
  /** JetStream storage lives in `${dir}/jetstream`. */
  dir: string;
  port: number;
  log: Logger;
}

/** A real nats-server with JetStream on 127.0.0.1. */
export class NatsServer {
  readonly url: string;
  readonly monitorUrl: string;
  readonly #process: ServerProcess;

  private constructor(process: ServerProcess, port: number, monitorPort: number) {
    this.#process = process;
    this.url = `nats://127.0.0.1:${port}`;
    this.monitorUrl = `http://127.0.0.1:${monitorPort}`;
  }

  static async start({ dir, port, log }: NatsServerOptions): Promise<NatsServer> {
    await mkdir(dir, { recursive: true });
    const monitorPort = await freePort();
    const args = ['-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-js', '-sd', path.join(dir, 'jetstream'), '-n', `pc-${port}`];
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
