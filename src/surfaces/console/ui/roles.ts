// The five root roles, as the admin API names them (root_role).
export const ROOT_ROLES = ['Owner', 'Admin', 'Editor', 'Viewer', 'Member'];
