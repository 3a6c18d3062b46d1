// The ceiling: a bare Fastify route doing the same single UPDATE … RETURNING through pg as a Gatehouse PATCH
// does at its core, with nothing else (no auth, no validation, no transaction, no audit). Started by
// bench/run.ts as its own process against the bench database; every Gatehouse figure is also a ratio to it.
//   DATABASE_URL=… PORT=… node --import tsx bench/ceiling.ts
import Fastify from 'fastify';
import pg from 'pg';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('ceiling: DATABASE_URL is required');
const pool = new pg.Pool({ connectionString: url, max: Number(process.env.POOL_SIZE ?? 10) });
pool.on('error', () => {});
const app = Fastify({ logger: false });

app.patch<{ Params: { id: string }; Body: { name?: string } }>('/ceiling/users/:id', async (req, reply) => {
  const id = Number(req.params.id);
  const name = String(req.body?.name ?? 'x');
  const r = await pool.query(
    'update users set name = $1, name_key = lower($1), updated_at = now(), version = version + 1 where id = $2 returning *',
    [name, id],
  );
  if (r.rowCount === 0) return reply.code(404).send({ ok: false });
  const row = r.rows[0];
  delete row.password_hash;
  return { ok: true, item: row };
});
// The read ceiling: the list page's own SELECT (the same columns, a page of 50 after a cursor, one more to
// know whether a next page exists) as a prepared statement, its rows sent as JSON, with nothing else.
app.get<{ Querystring: { after?: string } }>('/ceiling/users', async (req) => {
  const after = Number(req.query.after ?? 0);
  const r = await pool.query({
    name: 'ceiling_list',
    text: 'select id, username, name, email, email_verified_at, is_active, root_role_id, created_at, updated_at, last_login_at, deleted_at, version '
      + 'from users where deleted_at is null and id > $1 order by id limit 51',
    values: [after],
  });
  const items = r.rows.slice(0, 50);
  return { ok: true, items, next: r.rows.length > 50 ? items[items.length - 1].id : null };
});
app.get('/healthz', async () => ({ status: 'ok' }));

const stop = async () => {
  await app.close();
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
