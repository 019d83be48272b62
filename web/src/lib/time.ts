// Instants arrive in UTC (RFC 3339) and are shown in the tenant's time zone (`tenant.timeZone`).

let zone = 'Asia/Shanghai'

export function setTimeZone(tz: string) {
  zone = tz
}

export function timeZone(): string {
  return zone
}

const cache = new Map<string, Intl.DateTimeFormat>()
function fmt(tz: string, withTime: boolean, seconds: boolean): Intl.DateTimeFormat {
  const key = `${tz}|${withTime}|${seconds}`
  let f = cache.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      ...(withTime ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } : {}),
      ...(seconds ? { second: '2-digit' } : {}),
    })
    cache.set(key, f)
  }
  return f
}

interface Parts {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
}

export function zonedParts(instant: Date, tz = zone): Parts {
  const parts = fmt(tz, true, true).formatToParts(instant)
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? '0')
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour') % 24, minute: get('minute'), second: get('second') }
}

/** "2026-11-03 14:05" in the tenant's zone; "—" for nothing. */
export function formatDateTime(iso: string | null | undefined, seconds = false, tz = zone): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const p = zonedParts(d, tz)
  const pad = (n: number) => String(n).padStart(2, '0')
  const base = `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}`
  return seconds ? `${base}:${pad(p.second)}` : base
}

export function formatDate(iso: string | null | undefined, tz = zone): string {
  if (!iso) return '—'
  return formatDateTime(iso, false, tz).slice(0, 10)
}

/** The UTC instant of a wall-clock time in `tz` (DST-safe to within the usual ambiguity). */
export function zonedToUtc(year: number, month: number, day: number, hour = 0, minute = 0, tz = zone): Date {
  const guess = Date.UTC(year, month - 1, day, hour, minute)
  const offset = (t: number) => {
    const p = zonedParts(new Date(t), tz)
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - t
  }
  let t = guess - offset(guess)
  t = guess - offset(t)
  return new Date(t)
}

/** Start of the local day containing `instant`, shifted by `days`. */
export function localDayStart(instant: Date, days = 0, tz = zone): Date {
  const p = zonedParts(instant, tz)
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day + days))
  return zonedToUtc(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), 0, 0, tz)
}

/** "YYYY-MM-DD" (a local date picked in a date picker) → the UTC instant of its local midnight. */
export function localDateToUtc(date: string, tz = zone): Date {
  const [y, m, d] = date.split('-').map(Number)
  return zonedToUtc(y ?? 1970, m ?? 1, d ?? 1, 0, 0, tz)
}

/** Relative "x minutes ago" is avoided on purpose: operators compare absolute times. */
export function ageSeconds(iso: string | null | undefined, now = Date.now()): number | null {
  if (!iso) return null
  return Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000))
}

/** IANA zones offered first in the settings' time-zone list (China's, its neighbours', UTC). */
export const COMMON_TIME_ZONES = [
  'Asia/Shanghai', 'Asia/Urumqi', 'Asia/Hong_Kong', 'Asia/Macau', 'Asia/Taipei', 'Asia/Singapore', 'Asia/Kuala_Lumpur', 'Asia/Bangkok',
  'Asia/Ho_Chi_Minh', 'Asia/Jakarta', 'Asia/Manila', 'Asia/Seoul', 'Asia/Tokyo', 'Asia/Kolkata', 'Asia/Dubai', 'Europe/London', 'Europe/Berlin',
  'America/New_York', 'America/Los_Angeles', 'Australia/Sydney', 'UTC',
]

/** Every IANA zone the browser knows, the common ones left out (they are listed first). */
export function otherTimeZones(): string[] {
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []
  return all.filter((z) => !COMMON_TIME_ZONES.includes(z))
}

/** A zone's UTC offset at `at`, as "UTC+08:00" (empty for a zone the browser does not know). */
export function zoneOffset(tz: string, at = new Date()): string {
  try {
    const part = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName')
    const v = part?.value ?? ''
    return v === 'GMT' ? 'UTC+00:00' : v.replace(/^GMT/, 'UTC')
  } catch {
    return ''
  }
}
