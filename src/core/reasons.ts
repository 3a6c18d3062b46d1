// The catalogue of reason codes a DomainError can carry: the machine-readable `reason` of an error, which the
// admin surface answers as is and every surface reads to choose its own words. A reason not listed here is
// a type error wherever a DomainError is made (core/errors.ts) or its reason compared, so the list is
// complete by construction. Each surface's errors.ts lists what it answers on top of these.

/** Bad input, as the core judges it (400; 422 on the directory surface). */
export const INPUT_REASONS = [
  'required', 'too_short', 'too_long', 'too_few', 'invalid_type', 'invalid_format', 'invalid_value', 'invalid_characters',
  'invalid_encoding', 'invalid_url', 'invalid_email', 'invalid_domain', 'invalid_ip', 'invalid_name', 'invalid_username', 'invalid_language', 'invalid_role', 'invalid_date',
  'invalid_cursor', 'invalid_id', 'empty_patch', 'conflicting_fields', 'confirmation_mismatch', 'password_mismatch',
  'same_as_current', 'weak_password', 'duplicate_in_input', 'in_the_past', 'not_with_q', 'unknown_role', 'unknown_user',
  'unknown_permission', 'unknown_grant_type', 'unsupported_hash', 'unreadable', 'same_as_address', 'requires_revoked',
  'not_supported_for_ip_bans', 'would_ban_yourself', 'range_too_broad', 'use_self_password_route',
  // Webhook targets (core/webhooks/target.ts).
  'credentials_in_url', 'unsupported_scheme', 'unresolvable_host', 'private_target',
] as const;

/** Who is calling: a missing or refused credential (401). */
export const CREDENTIAL_REASONS = [
  'unauthenticated', 'auth_failed', 'login_failed', 'invalid_credentials', 'invalid_current_password', 'missing_credentials',
  'invalid_session', 'invalid_or_expired_session', 'missing_or_invalid_session', 'invalid_token', 'missing_or_invalid_token',
  'invalid_invite', 'missing_or_invalid_credentials',
] as const;

/** What the caller may do (403). */
export const PERMISSION_REASONS = [
  'admin_required', 'permission_required', 'missing_permission', 'role_out_of_reach', 'target_out_of_reach', 'self_delete',
  'already_signed_in', 'signup_closed', 'csrf_required', 'invalid_csrf_token', 'cross_site_request', 'user_required',
  'user_session_required', 'tenant_required', 'unknown_tenant', 'invalid_tenant', 'not_a_member', 'banned',
] as const;

/** The state of the store refuses the change (409, 412). */
export const STATE_REASONS = [
  'username_taken', 'address_taken', 'name_taken', 'ban_exists', 'already_member', 'last_admin', 'deleted_user_holds_identity',
  'in_flight', 'stale_etag', 'has_password', 'user_cannot_act',
] as const;

/** Limits and availability (429, 503). */
export const AVAILABILITY_REASONS = [
  'account_throttled', 'address_throttled', 'signup_throttled', 'store_unavailable',
  // The admin surface's sign-in throttle, in its product's words.
  'too_many_failed_attempts_ip', 'too_many_failed_attempts_identifier',
] as const;

/** What notFound(resource) answers `<resource>_not_found` for (404). */
export const RESOURCES = ['user', 'ban', 'alias', 'api_token', 'member', 'message', 'oauth_client', 'role', 'session', 'tenant', 'webhook'] as const;
export type Resource = (typeof RESOURCES)[number];

export type Reason =
  | (typeof INPUT_REASONS)[number]
  | (typeof CREDENTIAL_REASONS)[number]
  | (typeof PERMISSION_REASONS)[number]
  | (typeof STATE_REASONS)[number]
  | (typeof AVAILABILITY_REASONS)[number]
  | `${Resource}_not_found`
  /** A unique field's value is held by another row (email_taken, username_taken …: the users store names the field). */
  | `${string}_taken`;

/** Every reason, for documentation and tests. */
export const REASONS: readonly Reason[] = [
  ...INPUT_REASONS, ...CREDENTIAL_REASONS, ...PERMISSION_REASONS, ...STATE_REASONS, ...AVAILABILITY_REASONS,
  ...RESOURCES.map((r) => `${r}_not_found` as const),
];
