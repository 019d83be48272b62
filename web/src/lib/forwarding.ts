// Forwarding to park platforms (数据转发): what the screen derives from the API's answers —
// the replay instant from a local date-time in the tenant's zone, an attempt's outcome (by the
// target's transport), state colours, the example addresses per transport. Counts, states, the
// log and every check of a target are the server's.
import type { ForwardEvent, ForwardTransportKind } from '@/graphql/generated'
import { zonedToUtc } from './time'

export const FORWARD_EVENTS = ['READING', 'RECHARGE', 'BILL', 'DAILY_ENERGY', 'ALARM'] as const
export const DELIVERY_STATES = ['PENDING', 'DELIVERED', 'DEAD'] as const

/** The header a park checks (docs/FORWARDING.md): `v1=` + hex HMAC-SHA256(secret, timestamp + "." + raw body). */
export const SIGNATURE_HEADER = 'X-VoltLedger-Signature'
export const TIMESTAMP_HEADER = 'X-VoltLedger-Timestamp'
export const IDEMPOTENCY_HEADER = 'Idempotency-Key'

export const TRANSPORTS = ['WEBHOOK', 'MQTT'] as const satisfies readonly ForwardTransportKind[]

/** What the address field shows as its placeholder, per transport (the schema's own examples). */
export const URL_EXAMPLES: Record<ForwardTransportKind, string> = {
  WEBHOOK: 'https://park.example.com/voltledger/events',
  MQTT: 'mqtts://mqtt.park.example.cn:8883/park/energy',
}

/**
 * The topic an MQTT target's events go to (docs/FORWARDING.md): `<prefix>/<kind lower-case>/<subject id>`,
 * the prefix being the broker URL's path — for the form's help text.
 */
export function mqttTopicExample(url: string, kind = 'READING', subject = '<id>'): string {
  const m = /^\s*mqtts?:\/\/[^/]+\/([^?#]*)/i.exec(url)
  const prefix = (m?.[1] ?? '').replace(/^\/+|\/+$/g, '') || 'park/energy'
  return `${prefix}/${kind.toLowerCase()}/${subject}`
}

/**
 * The create input as the server takes it: the broker login only for MQTT (a webhook given
 * one is refused), sent as typed (the server trims and checks it).
 */
export function targetInput(f: {
  name: string
  url: string
  events: readonly ForwardEvent[]
  propertyIds: readonly string[]
  transport: ForwardTransportKind
  username: string
  password: string
}) {
  const mqtt = f.transport === 'MQTT'
  return {
    name: f.name,
    url: f.url.trim(),
    events: [...f.events],
    propertyIds: [...f.propertyIds],
    transport: f.transport,
    username: mqtt ? f.username : null,
    password: mqtt ? f.password : null,
  }
}

/**
 * "YYYY-MM-DD HH:mm[:ss]" typed or picked as the tenant's wall-clock time → the RFC 3339
 * instant `replayForwardTarget(from)` takes; null when it is not such a time.
 */
export function replayInstant(local: string, tz?: string): string | null {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?\s*$/.exec(local)
  if (!m) return null
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number]
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null
  // A day past the month's end (2月30日) would roll over: refused instead.
  if (new Date(Date.UTC(y, mo - 1, d)).getUTCDate() !== d) return null
  const t = zonedToUtc(y, mo, d, h, mi, tz)
  return new Date(t.getTime() + s * 1000).toISOString().replace(/\.000Z$/, 'Z')
}

export type AttemptOutcome = 'ok' | 'refused' | 'noAnswer' | 'failed'

/**
 * A try's outcome. A webhook request: a 2xx delivered it, status 0 means no answer (timeout,
 * refused connection), anything else the park refused. A publish to an MQTT broker has no HTTP
 * status (always 0): it went through when its error is empty (every PUBACK came back), and
 * failed otherwise (no connection, a refused login, a refused publish, no acknowledgement).
 */
export function attemptOutcome(a: { status: number; error: string }, transport: ForwardTransportKind = 'WEBHOOK'): AttemptOutcome {
  if (transport === 'MQTT') return a.error ? 'failed' : 'ok'
  if (a.status === 0) return 'noAnswer'
  return a.status >= 200 && a.status < 300 ? 'ok' : 'refused'
}

export function targetStateTag(state: string): 'success' | 'warning' | 'info' {
  return state === 'ACTIVE' ? 'success' : state === 'PAUSED' ? 'warning' : 'info'
}

export function deliveryStateTag(state: string): 'success' | 'warning' | 'danger' | 'info' {
  return state === 'DELIVERED' ? 'success' : state === 'PENDING' ? 'warning' : state === 'DEAD' ? 'danger' : 'info'
}
