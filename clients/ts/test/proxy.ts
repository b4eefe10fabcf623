// A small HTTP proxy in front of the server that misbehaves on purpose: it can forward a
// request and then drop the answer (the write happened, the client never hears of it), or
// answer in the server's place (a 503 or 429 with Retry-After).

import { createServer, request, type IncomingMessage, type Server } from 'node:http';

export type Fault =
  | { kind: 'drop-response' }
  | { kind: 'answer'; status: number; headers: Record<string, string>; body: string };

export class FaultyProxy {
  private server: Server;
  /** Faults to apply to the next matching requests, in order. */
  private faults: { match: (req: IncomingMessage) => boolean; fault: Fault }[] = [];
  /** Every request seen: method, path, idempotency key, when. */
  readonly seen: { method: string; path: string; key: string | undefined; at: number }[] = [];
  url = '';

  constructor(private readonly upstream: string) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const key = req.headers['idempotency-key'];
        this.seen.push({ method: req.method ?? '', path: req.url ?? '', key: Array.isArray(key) ? key[0] : key, at: Date.now() });
        const i = this.faults.findIndex((f) => f.match(req));
        const fault = i >= 0 ? this.faults.splice(i, 1)[0]?.fault : undefined;
        if (fault?.kind === 'answer') {
          res.writeHead(fault.status, fault.headers).end(fault.body);
          return;
        }
        const target = new URL(req.url ?? '/', this.upstream);
        const headers = { ...req.headers, host: target.host };
        const up = request(target, { method: req.method, headers }, (upRes) => {
          const body: Buffer[] = [];
          upRes.on('data', (c: Buffer) => body.push(c));
          upRes.on('end', () => {
            if (fault?.kind === 'drop-response') {
              // The server has answered: cut the client off before it hears anything.
              req.socket.destroy();
              return;
            }
            res.writeHead(upRes.statusCode ?? 502, upRes.headers).end(Buffer.concat(body));
          });
        });
        up.on('error', () => req.socket.destroy());
        up.end(Buffer.concat(chunks));
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', () => ok()));
    const address = this.server.address();
    if (typeof address !== 'object' || address === null) throw new Error('proxy has no address');
    this.url = `http://127.0.0.1:${address.port}`;
    return this;
  }

  /** The next request matching `method` and `path` (prefix) meets `fault`. */
  inject(method: string, path: string, fault: Fault): void {
    this.faults.push({ match: (req) => req.method === method && (req.url ?? '').startsWith(path), fault });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }
}
