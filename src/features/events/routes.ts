/**
 * The change-event routes: the pull feed, the live SSE stream and a case's timeline. The stream subscribes to the
 * event store's one shared tail reader (no Redis connection per client), replays from `Last-Event-ID` (or `after`)
 * and then goes live, dropping what the replay already sent: no gap, no duplicate.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { GatewayError } from '../../domain/problems.js'
import { compareIds, matchesFilter } from '../../events/store.js'
import type { EventService } from '../../events/service.js'
import { EVENT_ID_PATTERN, EventListQuerySchema, EventPageSchema, EventSchema, EventStreamQuerySchema, TimelineQuerySchema, TimelineSchema, type Event } from '../../schemas/event.js'
import { AUTH_PROBLEMS, CaseIdParamsSchema, problems } from '../../routes/responses.js'

export interface EventRoutesOptions {
  events: EventService
  /** comment line sent to every stream this often (default 15000) */
  heartbeatMs?: number
}

const EVENT_ID = new RegExp(EVENT_ID_PATTERN)
/** a client whose socket buffer holds more than this is dropped: it resumes with Last-Event-ID */
const MAX_BUFFERED_BYTES = 1 << 20
const REPLAY_PAGE = 500

export const eventRoutes: FastifyPluginAsyncTypebox<EventRoutesOptions> = async (app, { events, heartbeatMs = 15_000 }) => {
  app.get('/v1/events', {
    config: { scope: 'read' },
    schema: {
      operationId: 'listEvents',
      tags: ['Events'],
      summary: 'Case change events, oldest first',
      description: 'Every recorded change of every case (the watcher\'s polls, vendor webhooks, reads and the gateway\'s own writes), ' +
        'oldest first. Resume from any event id inside the retention window (`EVENTS_RETENTION_DAYS`) by passing the last id you handled (or `next`) as `after`; ' +
        'an older id is a 410 problem: re-list cases, then follow the feed again. Delivery is at-least-once across pages you re-read, in order per case (`sequence` grows by one per case and epoch). ' +
        'A page may hold fewer than `limit` events while newer ones exist (filters skip entries); keep following `next`. 503 when the event store is down (the case API keeps working).',
      security: [{ bearerAuth: [] }],
      querystring: EventListQuerySchema,
      response: { 200: EventPageSchema, ...problems(...AUTH_PROBLEMS, 410) }
    }
  }, async (req) => await events.list(req.query))

  const streams = new Set<{ end: () => void, beat: () => void }>()
  // the subscription hands every stream the same event object: its SSE message is built once, not once per client
  const frames = new WeakMap<Event, string>()
  const frameOf = (e: Event): string => {
    let frame = frames.get(e)
    if (frame === undefined) {
      frame = `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`
      frames.set(e, frame)
    }
    return frame
  }
  const heartbeat = setInterval(() => { for (const s of streams) s.beat() }, heartbeatMs)
  heartbeat.unref()
  app.addHook('preClose', async () => {
    clearInterval(heartbeat)
    for (const s of streams) s.end()
  })

  app.get('/v1/events/stream', {
    config: { scope: 'read' },
    schema: {
      operationId: 'streamEvents',
      tags: ['Events'],
      summary: 'Case change events as Server-Sent Events',
      description: 'The same events as `GET /v1/events`, pushed as they are recorded: one SSE message per event with `id:` (the event id), `event:` (its type) and `data:` (the event JSON). ' +
        'Reconnect with `Last-Event-ID` (browsers do it by themselves) to receive every event after it once, in order; without it and without `after` the stream starts with new events. ' +
        'A comment line (`: keep-alive`) is sent every 15 s (`EVENTS_STREAM_HEARTBEAT_MS`). A client that stops reading is disconnected and resumes from its last id.',
      security: [{ bearerAuth: [] }],
      querystring: EventStreamQuerySchema,
      headers: Type.Object({
        'last-event-id': Type.Optional(Type.String({ description: 'The id of the last event received; wins over `after`' }))
      }),
      response: {
        200: {
          description: 'An endless `text/event-stream`; each `data:` line is an event (a case event, or batch.completed / endpoint.disabled with `case` null)',
          content: { 'text/event-stream': { schema: EventSchema } }
        },
        ...problems(...AUTH_PROBLEMS, 410)
      }
    }
  }, async (req, reply) => {
    const filter = events.filter(req.query)
    const lastEventId = req.headers['last-event-id']
    if (lastEventId !== undefined && !EVENT_ID.test(lastEventId)) {
      throw new GatewayError('GW_ERR_VALIDATION', 'Last-Event-ID is not an event id', { errors: [{ path: '/headers/last-event-id', message: `must match ${EVENT_ID_PATTERN}` }] })
    }
    const start = lastEventId ?? req.query.after ?? null
    await events.checkAfter(start)

    let last: string | null = start
    let live = false
    const buffered: Event[] = []
    const raw = reply.raw
    const write = (e: Event): void => {
      if (last !== null && compareIds(e.id, last) <= 0) return
      last = e.id
      if (!matchesFilter(e, filter)) return
      raw.write(frameOf(e))
      if (raw.writableLength > MAX_BUFFERED_BYTES) stream.end()
    }
    const stream = {
      end: () => { if (!raw.writableEnded) raw.end() },
      beat: () => { if (live && !raw.writableEnded) raw.write(': keep-alive\n\n') }
    }
    // subscribe before the replay: what the replay does not read, the subscription brings (store.subscribe)
    const unsubscribe = await events.subscribe(e => { if (live) write(e); else buffered.push(e) })
    reply.hijack()
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': req.id
    })
    raw.write('retry: 2000\n\n')
    streams.add(stream)
    raw.on('close', () => { streams.delete(stream); unsubscribe() })
    try {
      if (start !== null) {
        for (;;) {
          const cursor: string | null = last
          const page = await events.store.read(cursor, REPLAY_PAGE, {})
          for (const e of page.items) write(e)
          if (page.next === cursor || page.items.length === 0) break
          if (raw.writableNeedDrain) await new Promise(resolve => raw.once('drain', resolve))
          last = page.next
        }
      }
      live = true
      for (const e of buffered.splice(0)) write(e)
    } catch (err) {
      req.log.warn({ err: (err as Error).message }, 'event stream replay failed; the client resumes from its last id')
      stream.end()
    }
  })

  app.get('/v1/cases/:id/timeline', {
    config: { scope: 'read' },
    schema: {
      operationId: 'getCaseTimeline',
      tags: ['Events'],
      summary: 'Every recorded change of one case, oldest first',
      description: 'The case\'s events, kept longer than the global feed (`EVENTS_TIMELINE_RETENTION_DAYS` after its last change). ' +
        'Empty when the gateway has recorded no change of the case (it only holds what it observed); an id no provider can own is a 404. Pass `next` as `after` for more.',
      security: [{ bearerAuth: [] }],
      params: CaseIdParamsSchema,
      querystring: TimelineQuerySchema,
      response: { 200: TimelineSchema, ...problems(...AUTH_PROBLEMS, 404) }
    }
  }, async (req) => await events.timeline(req.params.id, req.query.after ?? null, req.query.limit))
}
