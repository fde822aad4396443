/**
 * Pushed events between processes sharing one PostgreSQL: LISTEN on the `movierec_events` channel, which the
 * database's own triggers NOTIFY on a rating through the API and on a model activation (migration
 * 20261202060000_pushed_events). One dedicated connection per process (not from the pool: a pooled client would be
 * returned and reused); when it is lost, `onState(false)` tells the caller to fall back to polling while it
 * reconnects with exponential back-off (0.25 s … 5 s).
 */
import pg from 'pg';

export const EVENTS_CHANNEL = 'movierec_events';

/** A rating (or view) changed a user's history; `at` is the database clock in ms when the trigger ran. */
export interface RatingEvent {
  type: 'rating';
  user: string;
  at: number;
}
/** A model version became active. */
export interface ActivationEvent {
  type: 'activation';
  version: string;
  at: number;
}
export type MovierecEvent = RatingEvent | ActivationEvent;

/** Parses a NOTIFY payload; null for anything that is not one of ours (wrong shape, version, type or field types). */
export function parseEvent(payload: string | undefined): MovierecEvent | null {
  if (payload === undefined || payload.length > 8192) return null;
  let v: unknown;
  try {
    v = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (o.v !== 1 || typeof o.at !== 'number' || !Number.isFinite(o.at)) return null;
  if (o.type === 'rating' && typeof o.user === 'string' && o.user.length > 0)
    return { type: 'rating', user: o.user, at: o.at };
  if (o.type === 'activation' && (typeof o.version === 'number' || typeof o.version === 'string'))
    return { type: 'activation', version: String(o.version), at: o.at };
  return null;
}

export interface EventHandlers {
  onEvent(event: MovierecEvent): void;
  /** True once LISTEN is in place (again), false when the connection is lost. */
  onState?(listening: boolean): void;
  /** A payload on our channel that is not ours or is malformed (the caller logs it once). */
  onInvalid?(payload: string): void;
  /** A connection attempt or the connection failed. */
  onError?(error: Error): void;
}

export interface EventListener {
  readonly listening: boolean;
  close(): Promise<void>;
}

/** Listens for movierec events on the PostgreSQL at `url`, reconnecting until closed. Resolves after the first attempt. */
export async function listenEvents(url: string, handlers: EventHandlers): Promise<EventListener> {
  let client: pg.Client | null = null;
  let listening = false;
  let closed = false;
  let delay = 250;
  let timer: NodeJS.Timeout | null = null;

  const setListening = (value: boolean) => {
    if (listening === value) return;
    listening = value;
    handlers.onState?.(value);
  };

  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, keepAlive: true });
    client = c;
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      handlers.onError?.(error);
      setListening(false);
      c.removeAllListeners('notification');
      c.end().catch(() => {});
      if (client === c) client = null;
      schedule();
    };
    c.on('error', fail);
    c.on('end', () => fail(new Error('the listening connection ended')));
    c.on('notification', (msg) => {
      if (msg.channel !== EVENTS_CHANNEL) return;
      const event = parseEvent(msg.payload);
      if (event === null) handlers.onInvalid?.(msg.payload ?? '');
      else handlers.onEvent(event);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${EVENTS_CHANNEL}`);
      if (closed) {
        await c.end().catch(() => {});
        return;
      }
      delay = 250;
      setListening(true);
    } catch (error) {
      fail(error as Error);
    }
  };

  const schedule = () => {
    if (closed || timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      void connect();
    }, delay);
    timer.unref();
    delay = Math.min(delay * 2, 5000);
  };

  await connect();
  return {
    get listening() {
      return listening;
    },
    async close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      const c = client;
      client = null;
      listening = false;
      if (c !== null) {
        c.removeAllListeners('end');
        c.removeAllListeners('error');
        c.on('error', () => {});
        await c.end().catch(() => {});
      }
    },
  };
}
