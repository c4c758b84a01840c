// A stand-in HTTP server for the token requests' tests (GitHub's OIDC endpoint, Entra's token
// endpoint): it answers each request with the next handler of its script (the last one repeats),
// and keeps every request it was sent, with its body.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Received = IncomingMessage & { body: string };
export type Handler = (req: Received, res: ServerResponse) => void;

export class ScriptedServer {
  /** What it answers, one handler per request in order (the last one repeats). */
  script: Handler[] = [];
  seen: Received[] = [];
  /** http://127.0.0.1:PORT once started. */
  base = "";
  private readonly server: Server;

  constructor(private readonly route: (req: Received, res: ServerResponse) => boolean = () => false) {
    this.server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on("end", () => {
        const received = Object.assign(req, { body });
        this.seen.push(received);
        if (this.route(received, res)) return;
        const handler = this.script.length > 1 ? this.script.shift()! : this.script[0]!;
        handler(received, res);
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A new script; forgets what was seen. */
  answer(...script: Handler[]): void {
    this.script = script;
    this.seen = [];
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** An answer with this status and body. */
export const status =
  (code: number, body = "", headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(code, headers);
    res.end(body);
  };
/** The connection dropped before any answer: a network error. */
export const reset: Handler = (req) => req.socket.destroy();
/** Never answers. */
export const hang: Handler = () => {};
