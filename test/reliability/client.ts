/**
 * A plain HTTP client over one keep-alive agent on loopback: raw header values (no cookie jar, no
 * normalisation beyond what Node's own client enforces), and the whole answer as text.
 */
import { Agent, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface Client {
  send(method: string, path: string, headers?: Record<string, string | string[]>, body?: unknown): Promise<Answer>;
  close(): void;
}

export async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export function client(port: number, { sockets = 32 } = {}): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  return {
    send(method, path, headers = {}, body) {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return new Promise<Answer>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, method, path, agent, headers: payload ? { ...headers, 'content-type': 'application/json' } : headers },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}

/** `name=value` of our Set-Cookie line, if any. */
export function sessionCookie(answer: Answer, name = 'session'): string | undefined {
  const lines = answer.headers['set-cookie'] ?? [];
  const line = lines.find((l) => l.startsWith(`${name}=`));
  return line?.split(';', 1)[0];
}
