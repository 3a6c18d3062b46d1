// SQL of user-admin invites (set-your-password links; password-reset tokens share the table). No rules here.
import type { Insertable, Selectable } from 'kysely';
import type { Store } from '../../store/db.js';
import type { UseradminInvitesTable } from '../../store/migrations/0004_useradmin.js';
import type { Executor } from '../../store/sql.js';

export type InviteRow = Selectable<UseradminInvitesTable>;

/** The invite statements bound to a store (its database and engine). */
export function createInviteStore(store: Store) {
  const { db, engine } = store;
  return {
    transaction: <T>(work: (trx: Executor) => Promise<T>): Promise<T> => db.transaction().execute(work),

    async insert(trx: Executor, row: Insertable<UseradminInvitesTable>): Promise<void> {
      await trx.insertInto('useradmin_invites').values(row).execute();
    },

    findByHash(hash: string): Promise<InviteRow | undefined> {
      return db.selectFrom('useradmin_invites').selectAll().where('token_hash', '=', hash).executeTakeFirst();
    },

    /** The user an invite token hash belongs to (read before any lock is taken). */
    async ownerOf(trx: Executor, hash: string): Promise<number | undefined> {
      return (await trx.selectFrom('useradmin_invites').select('user_id').where('token_hash', '=', hash).executeTakeFirst())?.user_id;
    },

    /** An invite by its token hash, locked (PostgreSQL) until the transaction ends. */
    lockByHash(trx: Executor, hash: string): Promise<InviteRow | undefined> {
      let q = trx.selectFrom('useradmin_invites').selectAll().where('token_hash', '=', hash);
      // SQLite has no row locks: its writers are serialised by the database itself.
      if (engine === 'postgres') q = q.forUpdate();
      return q.executeTakeFirst();
    },
  };
}

export type InviteStore = ReturnType<typeof createInviteStore>;
