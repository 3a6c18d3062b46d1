// EdDSA (Ed25519) signing keys for access tokens, kept in the database so every node signs and verifies
// with the same set. Private keys are sealed with AES-256-GCM under a key derived from the server secret.
// Rotation adds a new signing key and retires the old ones; a retired key stays published (and accepted)
// until every token it can have signed has expired, so rotating logs nobody out.
import { createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Store } from '../../store/db.js';
import { deleteKeysRetiredBefore, insertKeyRow, listKeyRows, retireKeys, type KeyRow } from './store.js';
import type { Executor } from '../../store/sql.js';

export const SIGNING_ALG = 'EdDSA';

interface LoadedKey {
  kid: string;
  publicKey: KeyObject;
  publicJwk: Record<string, unknown>;
  privateKey: KeyObject | null;
  createdAt: string;
  retiredAt: string | null;
}

// Other nodes pick up a rotation within this long; retired keys stay published at least this much longer.
const RELOAD_MS = 60_000;
const UNKNOWN_KID_RELOAD_MS = 2_000;

export class SigningKeys {
  private keys = new Map<string, LoadedKey>();
  private loadedAt = 0;
  private lastUnknownReload = 0;
  private readonly sealKey: Buffer;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    secret: string,
    /** How long a retired key stays published: the access-token lifetime plus the reload interval, with margin. */
    private readonly retentionMs: number,
  ) {
    this.sealKey = createHmac('sha256', secret).update('gatehouse/oauth-signing-key-seal').digest();
  }

  private seal(der: Buffer): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.sealKey, iv);
    const ct = Buffer.concat([c.update(der), c.final()]);
    return `v1.${iv.toString('base64url')}.${c.getAuthTag().toString('base64url')}.${ct.toString('base64url')}`;
  }

  private unseal(sealed: string): KeyObject | null {
    try {
      const [v, iv, tag, ct] = sealed.split('.');
      if (v !== 'v1') return null;
      const d = createDecipheriv('aes-256-gcm', this.sealKey, Buffer.from(iv, 'base64url'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      const der = Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]);
      return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } catch {
      // Sealed under another server secret: the key can still verify, but this node cannot sign with it.
      return null;
    }
  }

  private async generate(ex: Executor): Promise<string> {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const jwk = publicKey.export({ format: 'jwk' }) as JWK;
    const kid = await calculateJwkThumbprint({ kty: jwk.kty!, crv: jwk.crv, x: jwk.x }, 'sha256');
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    await insertKeyRow(ex, { kid, alg: SIGNING_ALG, publicJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, privateKey: this.seal(der) });
    return kid;
  }

  private adopt(rows: KeyRow[]): void {
    const next = new Map<string, LoadedKey>();
    for (const r of rows) {
      const prev = this.keys.get(r.kid);
      next.set(r.kid, {
        kid: r.kid,
        publicJwk: r.publicJwk,
        publicKey: prev?.publicKey ?? createPublicKey({ key: r.publicJwk as JWK & { kty: string }, format: 'jwk' }),
        privateKey: prev ? prev.privateKey : r.retiredAt === null ? this.unseal(r.privateKey) : null,
        createdAt: r.createdAt,
        retiredAt: r.retiredAt,
      });
    }
    this.keys = next;
    this.loadedAt = Date.now();
  }

  async reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        this.adopt(await listKeyRows(this.store.db));
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private signer(): LoadedKey | undefined {
    for (const k of this.keys.values()) if (k.retiredAt === null && k.privateKey) return k;
    return undefined;
  }

  /** The key to sign with: the newest live one this node can unseal, made on first use. */
  async signingKey(): Promise<{ kid: string; privateKey: KeyObject }> {
    if (Date.now() - this.loadedAt > RELOAD_MS) await this.reload();
    let k = this.signer();
    if (!k) {
      await this.generate(this.store.db);
      await this.reload();
      k = this.signer();
    }
    if (!k || !k.privateKey) throw new Error('no usable signing key');
    return { kid: k.kid, privateKey: k.privateKey };
  }

  private published(k: LoadedKey, now = Date.now()): boolean {
    return k.retiredAt === null || Date.parse(k.retiredAt) + this.retentionMs > now;
  }

  /** The public key of `kid` while it is published; an unknown kid reloads the set (at most every 2 s). */
  async publicKey(kid: string): Promise<KeyObject | undefined> {
    let k = this.keys.get(kid);
    if (!k && Date.now() - this.lastUnknownReload > UNKNOWN_KID_RELOAD_MS) {
      this.lastUnknownReload = Date.now();
      await this.reload();
      k = this.keys.get(kid);
    }
    return k && this.published(k) ? k.publicKey : undefined;
  }

  async jwks(): Promise<{ keys: Array<Record<string, unknown>> }> {
    if (Date.now() - this.loadedAt > RELOAD_MS) await this.reload();
    if (!this.signer()) await this.signingKey();
    const now = Date.now();
    return {
      keys: [...this.keys.values()].filter((k) => this.published(k, now)).map((k) => ({ ...k.publicJwk, kid: k.kid, alg: SIGNING_ALG, use: 'sig' })),
    };
  }

  /** Retires the live keys and starts signing with a new one; drops keys retired long enough ago. */
  async rotate(ex: Executor): Promise<{ kid: string; retired: string[] }> {
    const retired = await retireKeys(ex);
    const kid = await this.generate(ex);
    await deleteKeysRetiredBefore(ex, new Date(Date.now() - this.retentionMs - 86_400_000).toISOString());
    return { kid, retired };
  }

  /** After a rotation commits: forget the cache so this node signs with the new key at once. */
  invalidate(): void {
    this.loadedAt = 0;
  }

  describe(): Array<{ kid: string; createdAt: string; retiredAt: string | null; signing: boolean; published: boolean }> {
    const signer = this.signer();
    return [...this.keys.values()].map((k) => ({ kid: k.kid, createdAt: k.createdAt, retiredAt: k.retiredAt, signing: k === signer, published: this.published(k) }));
  }
}
