import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with one request: pass it on, or one of the faults real networks and registries produce. */
export type Fault =
  | { kind: 'pass' }
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'reset-mid-body' }
  | { kind: 'truncate' }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'corrupt' };

export interface SeenRequest {
  method: string;
  url: string;
  fault: Fault['kind'];
  range: string | undefined;
}

export type FaultPlan = (req: IncomingMessage, n: number) => Fault;

/**
 * A loopback HTTP proxy in front of a registry that injects faults, request by request, by a
 * plan (n counts requests from 1): error statuses, connections cut halfway through a response
 * body, bodies truncated, slowed down or with a flipped byte.
 */
export async function startFaultProxy(
  target: string,
  plan: FaultPlan,
): Promise<{ host: string; seen: SeenRequest[]; stop(): Promise<void> }> {
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const fault = plan(req, seen.length + 1);
    seen.push({ method: req.method!, url: req.url!, fault: fault.kind, range: req.headers.range });
    if (fault.kind === 'status') {
      req.resume();
      res.writeHead(fault.status, fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}).end();
      return;
    }
    forward(req, res, target, fault);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function forward(req: IncomingMessage, res: ServerResponse, target: string, fault: Fault): void {
  const [hostname, port] = target.split(':');
  const upstream = request(
    { hostname, port: Number(port), method: req.method, path: req.url, headers: { ...req.headers, host: target } },
    (up) => {
      const headers = { ...up.headers };
      if (headers.location) headers.location = headers.location.replace(`//${target}`, `//${req.headers.host}`);
      res.writeHead(up.statusCode!, headers);
      const length = Number(up.headers['content-length'] ?? 0);
      const cutAt = fault.kind === 'reset-mid-body' || fault.kind === 'truncate' ? Math.floor(length / 2) : Infinity;
      let sent = 0;
      up.on('data', (chunk: Buffer) => {
        if (sent >= cutAt) return;
        let out = sent + chunk.length > cutAt ? chunk.subarray(0, cutAt - sent) : chunk;
        if (fault.kind === 'corrupt' && sent === 0 && out.length > 0) {
          out = Buffer.from(out);
          out[0]! ^= 0xff;
        }
        sent += out.length;
        if (fault.kind === 'slow') up.pause();
        res.write(out, () => (fault.kind === 'slow' ? setTimeout(() => up.resume(), fault.delayMs) : undefined));
        if (sent >= cutAt) {
          up.destroy();
          if (fault.kind === 'reset-mid-body') res.socket?.resetAndDestroy();
          else res.socket?.end();
        }
      });
      up.on('end', () => res.end());
    },
  );
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
}
