import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from '@floe/telemetry';
import type { Component } from './lifecycle.js';

/** Where the health endpoint listens. `port` 0 = any free port. */
export interface HealthListen {
  host: string;
  port: number;
}

/** The health endpoint as a component: its `start()` listens, `url()` names where. */
export interface HealthServer extends Component {
  /** `http://host:port` once started (the bound port when 0 was asked), else undefined. */
  url(): string | undefined;
}

/**
 * A small node:http server for one service: `GET /healthz` answers 200 with
 * `{ ok: true, service, ... }` when `health()` is ok and 503 with the same body otherwise;
 * `GET /metrics` answers the registry in the Prometheus text format (content type from
 * prom-client); `HEAD` works on both; anything else is 404, other methods 405.
 * Inert until start(); stop() closes idle keep-alive connections and is safe twice.
 */
export function createHealthServer(listen: HealthListen, deps: { service: string; registry: Registry; health: () => Record<string, unknown> & { ok: boolean } }): HealthServer {
  let server: Server | undefined;
  let url: string | undefined;
  const send = (res: import('node:http').ServerResponse, status: number, type: string, body: string, head: boolean) => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(head ? undefined : body);
  };
  return {
    name: 'health',
    url: () => url,
    async start() {
      if (server) return;
      const s = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0];
        const head = req.method === 'HEAD';
        if (path !== '/healthz' && path !== '/metrics') return send(res, 404, 'application/json', JSON.stringify({ error: 'not found', paths: ['/healthz', '/metrics'] }), head);
        if (req.method !== 'GET' && !head) return send(res, 405, 'application/json', JSON.stringify({ error: 'method not allowed' }), false);
        if (path === '/healthz') {
          let body: Record<string, unknown> & { ok: boolean };
          try {
            body = { ...deps.health(), service: deps.service };
          } catch (e) {
            body = { ok: false, service: deps.service, error: (e as Error).message };
          }
          return send(res, body.ok ? 200 : 503, 'application/json', JSON.stringify(body), head);
        }
        deps.registry.metrics().then(
          (text) => send(res, 200, deps.registry.contentType, text, head),
          (e: Error) => send(res, 500, 'application/json', JSON.stringify({ error: e.message }), head),
        );
      });
      s.keepAliveTimeout = 5_000;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(listen.port, listen.host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      server = s;
      const a = s.address() as AddressInfo;
      url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    },
    async stop() {
      const s = server;
      if (!s) return;
      server = undefined;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeIdleConnections();
      });
    },
    health: () => ({ ok: server !== undefined, url }),
  };
}
