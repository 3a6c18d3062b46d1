// SQL and row mapping for roles. No rules here.
import type { Store } from '../../store/db.js';
import { parseJson } from '../../store/sql.js';

export interface RoleView {
  id: number;
  name: string;
  type: string;
  description: string | null;
  permissions: string[];
}

/** The roles store bound to the database. */
export function createRolesStore(store: Store) {
  const { db } = store;
  return {
    async listRoot(): Promise<RoleView[]> {
      const rows = await db.selectFrom('roles').selectAll().where('type', '=', 'root').orderBy('id').execute();
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        type: r.type,
        description: r.description,
        permissions: parseJson<string[]>(r.permissions, []),
      }));
    },
  };
}

export type RolesStore = ReturnType<typeof createRolesStore>;
