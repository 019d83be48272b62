// Forwarding to park platforms (数据转发): what the screen derives from the API's answers —
// the replay instant from a local date-time in the tenant's zone, an attempt's outcome, state
// colours. Counts, states and the log are the server's.
import { zonedToUtc } from './time'

export const FORWARD_EVENTS = ['READING', 'RECHARGE', 'BILL', 'DAILY_ENERGY', 'ALARM'] as const
export const DELIVERY_STATES = ['PENDING', 'DELIVERED', 'DEAD'] as const

/** The header a park checks (docs/FORWARDING.md): `v1=` + hex HMAC-SHA256(secret, timestamp + "." + raw body). */
export const SIGNATURE_HEADER = 'X-VoltLedger-Signature'
export const TIMESTAMP_HEADER = 'X-VoltLedger-Timestamp'

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

export type AttemptOutcome = 'ok' | 'refused' | 'noAnswer'

/** A request's outcome: a 2xx delivered it; status 0 means no answer (timeout, refused connection). */
export function attemptOutcome(status: number): AttemptOutcome {
  if (status === 0) return 'noAnswer'
  return status >= 200 && status < 300 ? 'ok' : 'refused'
}

export function targetStateTag(state: string): 'success' | 'warning' | 'info' {
  return state === 'ACTIVE' ? 'success' : state === 'PAUSED' ? 'warning' : 'info'
}

export function deliveryStateTag(state: string): 'success' | 'warning' | 'danger' | 'info' {
  return state === 'DELIVERED' ? 'success' : state === 'PENDING' ? 'warning' : state === 'DEAD' ? 'danger' : 'info'
}
