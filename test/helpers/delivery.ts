// Real receivers for delivery tests: an HTTP server that verifies every webhook's Standard Webhooks
// signature, and an in-process SMTP server (smtp-server) that parses every mail (mailparser).
import http from 'node:http';
import type net from 'node:net';
import { createHmac } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Delivery {
  id: string;
  timestamp: number;
  path: string;
  body: string;
  json: any;
  /** Which secret verified the signature. */
  secret: string;
}

/** Verifies a Standard Webhooks signature header against the secrets; returns the one that matches. */
export function verifySignature(secrets: readonly string[], id: string, timestamp: string, body: string, header: string): string | undefined {
  const given = header.split(' ').filter((s) => s.startsWith('v1,')).map((s) => s.slice(3));
  for (const secret of secrets) {
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
    if (given.includes(expected)) return secret;
  }
  return undefined;
}

export class WebhookReceiver {
  /** Secrets a signature may verify with (the test adds each webhook's secret when it gets it). */
  secrets: string[] = [];
  /** Answer for each path: a status, or 'hang' (never answer). Default 200. */
  answers = new Map<string, number | 'hang'>();
  /** Wait this long before answering (the request is recorded when it arrives). */
  delayMs = 0;
  readonly received: Delivery[] = [];
  /** Requests answered 2xx so far. */
  answered = 0;
  /** Requests whose signature did not verify, or whose timestamp was off by more than 5 minutes. */
  readonly rejected: string[] = [];
  /** Requests currently being answered, per webhook-id, and the most ever at once for one id. */
  private readonly inFlight = new Map<string, number>();
  maxConcurrentPerId = 0;
  private server: http.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = this.port): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const id = String(req.headers['webhook-id'] ?? '');
        const ts = String(req.headers['webhook-timestamp'] ?? '');
        const secret = verifySignature(this.secrets, id, ts, body, String(req.headers['webhook-signature'] ?? ''));
        if (!secret || Math.abs(Date.now() / 1000 - Number(ts)) > 300 || req.headers['content-type'] !== 'application/json') {
          this.rejected.push(`${req.url} ${id}`);
          res.writeHead(401).end();
          return;
        }
        const n = (this.inFlight.get(id) ?? 0) + 1;
        this.inFlight.set(id, n);
        this.maxConcurrentPerId = Math.max(this.maxConcurrentPerId, n);
        this.received.push({ id, timestamp: Number(ts), path: req.url ?? '/', body, json: JSON.parse(body), secret });
        const answer = this.answers.get(req.url ?? '/') ?? 200;
        if (this.delayMs) await sleep(this.delayMs);
        this.inFlight.set(id, (this.inFlight.get(id) ?? 1) - 1);
        if (answer === 'hang') return;
        if (answer >= 200 && answer < 300) this.answered++;
        res.writeHead(answer, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and drops every open connection (the receiver is "down"). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  ids(path?: string): string[] {
    return this.received.filter((d) => path === undefined || d.path === path).map((d) => d.id);
  }
}

export class SmtpReceiver {
  readonly mails: ParsedMail[] = [];
  /** Recipients answered 550 (a permanent refusal). */
  readonly refuse = new Set<string>();
  /** Every recipient answered 451 (a temporary failure) while true. */
  tempFail = false;
  readonly user = 'mailer';
  readonly pass = 'mail-pass-1';
  private server: SMTPServer | undefined;
  port = 0;

  get url(): string {
    return `smtp://${this.user}:${this.pass}@127.0.0.1:${this.port}`;
  }

  async start(port = this.port): Promise<void> {
    const server = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authOptional: false,
      logger: false,
      onAuth: (auth, _session, cb) => {
        if (auth.username === this.user && auth.password === this.pass) cb(null, { user: auth.username });
        else cb(new Error('bad credentials'));
      },
      onRcptTo: (address, _session, cb) => {
        if (this.tempFail) return cb(Object.assign(new Error('try again later'), { responseCode: 451 }));
        if (this.refuse.has(address.address)) return cb(Object.assign(new Error('no such mailbox'), { responseCode: 550 }));
        cb();
      },
      onData: (stream, _session, cb) => {
        simpleParser(stream).then((m) => {
          this.mails.push(m);
          cb();
        }, cb);
      },
    });
    server.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  to(address: string): ParsedMail[] {
    return this.mails.filter((m) => {
      const to = Array.isArray(m.to) ? m.to : m.to ? [m.to] : [];
      return to.some((a) => a.value.some((v) => v.address === address));
    });
  }
}
