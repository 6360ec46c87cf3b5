import { once } from 'node:events';
import http from 'node:http';

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface MetricsServerOptions {
  registry: Registry;
  /** Whether /healthz answers 200 (SERVING) or 503. */
  serving: () => boolean;
  host: string;
  /** 0 picks a free port. */
  port: number;
  log: Logger;
}

/** HTTP for operators: GET /metrics (Prometheus text format) and GET /healthz. */
export class MetricsServer {
  readonly #server: http.Server;
  readonly #host: string;
  #closing: Promise<void> | undefined;

  private constructor(server: http.Server, host: string) {
    this.#server = server;
    this.#host = host;
  }

  static async start({ registry, serving, host, port, log }: MetricsServerOptions): Promise<MetricsServer> {
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/metrics') {
        registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
          (err: unknown) => {
            log.warn({ err }, 'metrics collection failed');
            res.writeHead(500).end();
          },
        );
      } else if (path === '/healthz') {
        const ok = serving();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'SERVING' : 'NOT_SERVING' }));
      } else {
        res.writeHead(404).end();
      }
    });
    server.listen(port, host);
    await once(server, 'listening');
    return new MetricsServer(server, host);
  }

  get url(): string {
    const address = this.#server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    return `http://${this.#host.includes(':') ? `[${this.#host}]` : this.#host}:${port}`;
  }

  close(): Promise<void> {
    this.#closing ??= new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }
}
