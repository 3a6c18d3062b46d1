// Standard Webhooks signatures (https://www.standardwebhooks.com): a secret "whsec_" + base64 of 32 random
// bytes; each request carries webhook-id, webhook-timestamp (Unix seconds) and
// webhook-signature "v1,<base64 of HMAC-SHA256(key bytes, id + "." + timestamp + "." + body)>".
import { createHmac, randomBytes } from 'node:crypto';

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function signatureOf(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64')}`;
}
