// Mail through the outbox: a flow renders its mail and enqueues it in the transaction of the change that
// causes it (an invite, a reset token); the dispatcher sends it over SMTP (nodemailer) at least once. The
// rendered content carries one-time links, so it is stored sealed under the server secret and dropped once
// the mail is delivered (only the recipient and template name stay). Without GATEHOUSE_SMTP_URL nothing is
// enqueued and every flow behaves as it did without mail.
import nodemailer, { type Transporter } from 'nodemailer';
import type { Executor } from '../../store/sql.js';
import type { CoreDeps } from '../deps.js';
import { newMessageId, Sealer, type Outbox, type OutboxRow, type SendResult, type Sender } from '../outbox/index.js';
import { Templates, type TemplateName } from './templates.js';
import { baseUrlOf } from '../../platform/config.js';

interface MailPayload {
  to: string;
  template: string;
  /** Sealed JSON {subject, text, html}; absent once delivered. */
  sealed?: string;
}

export class MailService implements Sender {
  readonly enabled: boolean;
  readonly templates: Templates;
  private readonly sealer: Sealer;
  private transport: Transporter | undefined;

  constructor(private readonly deps: CoreDeps, private readonly outbox: Outbox) {
    this.enabled = deps.config.delivery.smtpUrl !== undefined;
    this.templates = new Templates(deps.config.delivery.mailTemplatesDir);
    this.sealer = new Sealer(deps.secret, 'mail-content-seal');
  }

  install(): void {
    this.outbox.register('mail', this);
  }

  /** A link into the product: GATEHOUSE_PUBLIC_URL (else the server's own scheme, host and port) + path (+ query). */
  link(pathAndQuery: string): string {
    return `${baseUrlOf(this.deps.config)}${pathAndQuery}`;
  }

  /**
   * Enqueues one mail in the caller's transaction; false (nothing written) when no SMTP server is configured.
   * `vars` fill the template ({{product}} defaults to Gatehouse).
   */
  async enqueue(ex: Executor, to: string, template: TemplateName, vars: Record<string, string>): Promise<boolean> {
    if (!this.enabled) return false;
    const content = this.templates.render(template, { product: 'Gatehouse', ...vars });
    const payload: MailPayload = { to, template, sealed: this.sealer.seal(JSON.stringify(content)) };
    await this.outbox.enqueue(ex, [{ id: newMessageId(), kind: 'mail', webhook_id: null, event_type: template, payload: JSON.stringify(payload) }]);
    return true;
  }

  private transporter(): Transporter {
    const cfg = this.deps.config.delivery;
    // Every SMTP step ends within the webhook time limit, which the configuration keeps below the lease.
    this.transport ??= nodemailer.createTransport(cfg.smtpUrl!, {
      connectionTimeout: cfg.webhookTimeoutMs,
      greetingTimeout: cfg.webhookTimeoutMs,
      socketTimeout: cfg.webhookTimeoutMs,
    } as never);
    return this.transport;
  }

  async send(message: OutboxRow): Promise<SendResult> {
    let payload: MailPayload;
    try {
      payload = JSON.parse(message.payload) as MailPayload;
    } catch {
      return { ok: false, status: null, error: 'unreadable mail payload', permanent: true };
    }
    if (!this.enabled) return { ok: false, status: null, error: 'no SMTP server configured on this node (GATEHOUSE_SMTP_URL)' };
    if (!payload.sealed) return { ok: false, status: null, error: 'the content of this mail is no longer kept (it was delivered)', permanent: true };
    const plain = this.sealer.unseal(payload.sealed);
    if (plain === null) return { ok: false, status: null, error: 'the mail content cannot be unsealed (server secret changed?)', permanent: true };
    const content = JSON.parse(plain) as { subject: string; text: string; html: string };
    try {
      const info = await this.transporter().sendMail({
        from: this.deps.config.delivery.mailFrom,
        to: payload.to,
        subject: content.subject,
        text: content.text,
        html: content.html,
        // The outbox id, on every attempt: receivers and tests drop duplicates by it.
        messageId: `<${message.id}@gatehouse>`,
        headers: { 'X-Gatehouse-Message-Id': message.id },
      });
      const code = Number(/^(\d{3})/.exec(String(info.response ?? ''))?.[1] ?? 250);
      return { ok: true, status: code, payload: JSON.stringify({ to: payload.to, template: payload.template }) };
    } catch (err) {
      const e = err as { responseCode?: number; message?: string };
      const code = typeof e.responseCode === 'number' ? e.responseCode : null;
      // 5xx is the mail server's final refusal (an unknown recipient, a rejected sender): no retry can help.
      return { ok: false, status: code, error: `SMTP: ${e.message ?? 'send failed'}`.slice(0, 500), permanent: code !== null && code >= 500 };
    }
  }

  close(): void {
    this.transport?.close();
  }
}

/** What the admin listing shows of a mail message: recipient and template, never its content. */
export function mailSummary(payload: string): { to: string | null; template: string | null } {
  try {
    const p = JSON.parse(payload) as MailPayload;
    return { to: typeof p.to === 'string' ? p.to : null, template: typeof p.template === 'string' ? p.template : null };
  } catch {
    return { to: null, template: null };
  }
}
