// Core objects in Unleash's shapes.
import { hash } from 'node:crypto';
import type { AuditEvent, RoleView, ApiToken, UserListItem } from '../../core/index.js';

/** Unleash shows a Gravatar picture when the user has none of their own. */
function gravatar(email: string | null): string {
  // One-shot hash: no Hash object per user (the streamed list computes one per user).
  return `https://gravatar.com/avatar/${hash('md5', (email ?? '').trim().toLowerCase(), 'hex')}?s=42&d=retro&r=g`;
}

export function unleashUser(u: UserListItem, extra: { rootRole?: number | string; emailSent?: boolean; inviteLink?: string } = {}) {
  return {
    id: u.id,
    isAPI: false,
    name: u.name,
    email: u.email ?? undefined,
    username: u.username,
    imageUrl: u.avatarUrl ?? gravatar(u.email),
    ...(extra.inviteLink ? { inviteLink: extra.inviteLink } : {}),
    loginAttempts: u.loginAttempts,
    emailSent: extra.emailSent ?? false,
    rootRole: extra.rootRole ?? u.rootRoleId,
    seenAt: u.seenAt,
    createdAt: u.createdAt,
    accountType: u.accountType || 'User',
    permissions: [] as string[],
  };
}

export function rootRoleItem(r: RoleView) {
  return { id: r.id, name: r.name, description: r.description, type: r.type, project: null };
}

export function patItem(t: ApiToken) {
  return { id: t.id, description: t.name, expiresAt: t.expiresAt, createdAt: t.createdAt, seenAt: t.lastUsedAt, userId: t.userId };
}

// ---- events: the one audit log, named as Unleash names its events ----

const TYPE_OF_ACTION: Record<string, string> = {
  'user.created': 'user-created',
  'user.updated': 'user-updated',
  'user.deleted': 'user-deleted',
  'user.password_changed': 'user-password-changed',
};

/**
 * The audit actions an Unleash event type can come from (callers still compare eventType() exactly).
 * Other actions keep their own name with dashes ("api_token.created" is "api-token-created"), so every way of
 * reading each dash back as "-", "." or "_" is a candidate.
 */
export function actionsOfType(type: string): string[] {
  if (type === 'user-password-changed') return ['user.password_changed', 'user.updated'];
  const known = Object.entries(TYPE_OF_ACTION).find(([, t]) => t === type);
  if (known) return [known[0]];
  const parts = type.split('-');
  if (parts.length > 6) return [type];
  let out = [parts[0]];
  for (const part of parts.slice(1)) out = out.flatMap((prefix) => ['-', '.', '_'].map((sep) => prefix + sep + part));
  return out;
}

/** True when an update changed the password and nothing else: Unleash calls that user-password-changed. */
function passwordOnly(after: Record<string, unknown> | null): boolean {
  const changed = after?.changed;
  return Array.isArray(changed) && changed.length > 0 && changed.every((c) => c === 'password');
}

export function eventType(e: Pick<AuditEvent, 'action' | 'after'>): string {
  if (e.action === 'user.updated' && passwordOnly(e.after)) return 'user-password-changed';
  return TYPE_OF_ACTION[e.action] ?? e.action.replace(/[._]/g, '-');
}

export function eventItem(e: AuditEvent) {
  const byUser = e.actor.type === 'user' && e.actor.id !== null && /^\d+$/.test(e.actor.id);
  return {
    id: e.id,
    type: eventType(e),
    createdAt: e.occurred_at,
    createdBy: e.actor.label ?? (e.actor.id ? `${e.actor.type}:${e.actor.id}` : e.actor.type),
    createdByUserId: byUser ? Number(e.actor.id) : null,
    data: e.after,
    preData: e.before,
    tags: [] as Array<{ type: string; value: string }>,
    featureName: null,
    project: null,
    environment: null,
    ip: e.ip,
  };
}
