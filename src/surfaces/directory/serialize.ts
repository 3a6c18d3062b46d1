// The directory's UserResource (seed 003): every field the page lists, roles among them.
import type { DirectoryUser, TenantRole } from '../../core/index.js';

export function userResource(d: DirectoryUser) {
  const u = d.user;
  return {
    id: u.id,
    name: u.name,
    email: u.email,
    title: u.title,
    phone: u.phone,
    emergency_contact_name: u.emergencyContactName,
    emergency_contact_surname: u.emergencyContactSurname,
    emergency_contact_phone_number: u.emergencyContactPhoneNumber,
    blood_group: u.bloodGroup,
    language: u.languages,
    avatar_url: u.avatarUrl,
    is_active: u.isActive,
    bio: u.bio,
    last_login_at: u.lastLoginAt,
    last_login_ip: u.lastLoginIp,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
    deleted_at: d.deletedAt,
    roles: d.roles.map((r) => ({ id: r.id, name: r.name })),
  };
}

export function accountRole(r: TenantRole) {
  return { id: r.id, name: r.name, permissions: r.permissions };
}
