// Sending a list of any size as one JSON document without holding it: the rows come in batches (a keyset
// read, src/store/batches.ts), each batch is serialized and written before the next is asked for, and the
// socket's backpressure paces the reading. A response is the same bytes the route's schema serializer would
// have written for the whole document at once (test/bounded.test.ts).
import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import type { FastifyReply } from 'fastify';

export interface StreamedList<T> {
  /** The whole response with the streamed array empty, serialized by the route's own 200 schema. */
  envelope: Record<string, unknown>;
  /** The top-level property of `envelope` whose array is streamed (listed first or after scalars only). */
  key: string;
  /** The schema of one item: the items of the route's 200 schema at `key`, the same object. */
  itemSchema: object;
  /** The items, a batch at a time. Its first batch is read before anything is sent. */
  batches: AsyncIterator<unknown[]>;
  /** Maps a batch's rows to what `itemSchema` serializes (the surface's shape). */
  toItem: (row: T) => unknown;
}

/**
 * Sends `list` as a streamed 200 response. The first batch is read before the status line goes out, so a
 * failure there (the store unreachable, a 404 the iterator throws) is answered by the surface's error
 * handler as usual. Afterwards:
 * - backpressure: a batch is serialized only once the previous one has left the stream's buffer (Readable.from
 *   asks for the next chunk when the socket drained), and at most one batch more is read ahead meanwhile;
 * - a client that disconnects destroys the stream (Fastify does on the response's close): the iterator is
 *   returned and reads nothing after the batch in flight; with keyset batches nothing else is held;
 * - a store error mid-stream is logged with what was sent and destroys the response, so the client sees a
 *   truncated chunked body (no final chunk), never a hang and never a well-formed partial document.
 */
export function sendStreamedList<T>(reply: FastifyReply, list: StreamedList<T>): Promise<FastifyReply> | FastifyReply {
  const whole = reply.serializeInput(list.envelope, '200') as string;
  // The array's key is a top-level property after scalars only (ok: true), so its first occurrence is it: a
  // key inside a string value would have its quotes escaped.
  const marker = `${JSON.stringify(list.key)}:[]`;
  const at = whole.indexOf(marker);
  if (at < 0 || !Array.isArray(list.envelope[list.key]) || (list.envelope[list.key] as unknown[]).length !== 0) {
    throw new Error(`streamed list: the envelope has no empty array at ${list.key}`);
  }
  const head = whole.slice(0, at + marker.length - 1);
  const tail = whole.slice(at + marker.length - 1);
  const serialize = reply.compileSerializationSchema(list.itemSchema as { [key: string]: unknown }) as (item: unknown) => string;
  const { batches, toItem } = list;
  /** Set when the stream is destroyed (the client left, or an error ended it). */
  let closed = false;
  reply.type('application/json; charset=utf-8');
  return batches.next().then((first) => {
    // HEAD: the same headers, no body to build.
    if (reply.request.method === 'HEAD') {
      void batches.return?.();
      return reply.send(whole);
    }
    const stream = Readable.from(chunks(first), {
      // One chunk (a serialized batch) buffered at most: the next batch is serialized when the socket took it.
      objectMode: true,
      highWaterMark: 1,
    });
    // Destroyed (the client left): the generator notices at its next step, without waiting to be asked for a
    // chunk it would serialize for nobody.
    stream.once('close', () => {
      closed = true;
    });
    return reply.send(stream);
  });

  async function* chunks(first: IteratorResult<unknown[]>): AsyncGenerator<string, void, undefined> {
    let sent = 0;
    let batch = first;
    let out = head;
    try {
      while (!batch.done && !closed) {
        // Read the next batch while this one is serialized and written (one batch ahead, no more).
        const ahead = batches.next();
        // Its failure is handled where it is awaited below; this only keeps it from counting as unhandled
        // when the client left first and it is never awaited.
        ahead.catch(() => {});
        for (const row of batch.value) {
          out += sent === 0 ? serialize(toItem(row as T)) : `,${serialize(toItem(row as T))}`;
          sent++;
        }
        yield out;
        out = '';
        // Let the event loop run between batches: on SQLite (synchronous reads) a list whose client reads
        // fast would otherwise go from batch to batch in microtasks alone, and every other request (other
        // lists' first bytes included) waited for it to end.
        await setImmediate();
        if (closed) return;
        batch = await ahead;
      }
      if (!closed) yield out + tail;
    } catch (err) {
      reply.log.error({ err, route: reply.request.routeOptions.url, itemsSent: sent }, 'streamed list ended early: the response is cut short');
      throw err;
    } finally {
      // A client that left: stop the source (after the batch in flight, if any).
      await batches.return?.();
    }
  }
}
