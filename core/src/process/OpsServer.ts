import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface HealthReport {
  ok: boolean;
  [detail: string]: unknown;
}

export interface OpsServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  registry: Registry;
  health: () => HealthReport;
  log: Logger;
}

/** The operator's side door of a process: GET /metrics (Prometheus) and GET /healthz (200 or 503, JSON). */
export class OpsServer {
  readonly #server: http.Server;

  private constructor(server: http.Server) {
    this.#server = server;
  }

  static async start({ host, port, registry, health, log }: OpsServerOptions): Promise<OpsServer> {
    const server = http.createServer((req, res) => {
      const path = req.url?.split('?')[0];
      if (req.method === 'GET' && path === '/metrics') {
        registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
          (err: unknown) => {
            log.error({ err }, 'metrics collection failed');
            res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"internal","message":"metrics failed"}}');
          },
        );
      } else if (req.method === 'GET' && path === '/healthz') {
        const report = health();
        res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(report));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"GET /metrics or /healthz"}}');
      }
    });
    server.listen(port, host);
    await once(server, 'listening');
    return new OpsServer(server);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
