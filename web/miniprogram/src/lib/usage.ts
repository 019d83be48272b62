// Usage as the pages show it (myUsage): the periods asked, today and this month, the totals
// (exact: decimal strings summed as scaled integers, never floats) and the bars of the chart
// (heights in rpx; the only place a value becomes a float, for drawing).
//
// The server cuts buckets at the company's local midnight (or the first of the month), so a
// bucket's `at` is such a midnight. Twelve hours later is the company's local noon, whose UTC
// date is the company's date for any zone within ±12 h: labels and "same month" come from that,
// not from the phone's time zone (a phone set to another zone still sees the company's days).
// The periods asked start at the phone's local midnight; the server widens `from` to the
// bucket holding it, and `to` is now, so the last bucket is always the company's today.

import type { UsagePoint } from './queries'

const HOUR = 3600 * 1000

export interface Period {
  from: string
  to: string
}

/** This month so far: the first of the month (local midnight) to now. */
export function monthToDate(now: Date): Period {
  return { from: new Date(now.getFullYear(), now.getMonth(), 1).toISOString(), to: now.toISOString() }
}

/** The last `days` days, today included (up to now). */
export function lastDays(now: Date, days: number): Period {
  return { from: new Date(now.getFullYear(), now.getMonth(), now.getDate() - (days - 1)).toISOString(), to: now.toISOString() }
}

/** The last `months` months, this one included (up to now). */
export function lastMonths(now: Date, months: number): Period {
  return { from: new Date(now.getFullYear(), now.getMonth() - (months - 1), 1).toISOString(), to: now.toISOString() }
}

/** The bucket's date as the company counts it (read with the getUTC… methods). */
function companyDate(at: string): Date {
  return new Date(Date.parse(at) + 12 * HOUR)
}

const pad = (n: number) => String(n).padStart(2, '0')

/** `MM-DD` for a day, `YYYY-MM` for a month. */
export function bucketLabel(at: string, bucket: 'DAY' | 'MONTH'): string {
  const d = companyDate(at)
  if (isNaN(d.getTime())) return at
  return bucket === 'DAY' ? `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` : `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`
}

function monthKey(at: string): string {
  const d = companyDate(at)
  return `${d.getUTCFullYear()}-${d.getUTCMonth()}`
}

interface Scaled {
  units: number
  scale: number
}

function parse(s: string): Scaled {
  const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(String(s).trim())
  if (!m) throw new Error(`not a decimal: ${s}`)
  const frac = m[3] || ''
  const units = Number(m[2] + frac)
  if (!Number.isSafeInteger(units)) throw new Error(`too many digits: ${s}`)
  return { units: m[1] === '-' ? -units : units, scale: frac.length }
}

function show(units: number, scale: number): string {
  const neg = units < 0
  const digits = String(Math.abs(units)).padStart(scale + 1, '0')
  const int = digits.slice(0, digits.length - scale)
  return `${neg && units !== 0 ? '-' : ''}${int}${scale > 0 ? '.' + digits.slice(digits.length - scale) : ''}`
}

/** The exact sum of decimal strings ("101.60" + "0.0525" = "101.6525"). */
export function sumDecimals(values: readonly string[]): string {
  const parsed = values.map(parse)
  const scale = parsed.reduce((m, p) => Math.max(m, p.scale), 0)
  let units = 0
  for (const p of parsed) {
    units += p.units * Math.pow(10, scale - p.scale)
    if (!Number.isSafeInteger(units)) throw new Error('sum out of range')
  }
  return show(units, scale)
}

/** A decimal string rounded half away from zero to `places` (kWh shown with two). */
export function roundDecimal(value: string, places = 2): string {
  const p = parse(value)
  if (p.scale <= places) return show(p.units * Math.pow(10, places - p.scale), places)
  const div = Math.pow(10, p.scale - places)
  const abs = Math.abs(p.units)
  const q = Math.floor(abs / div) + (abs % div >= div / 2 ? 1 : 0)
  return show(p.units < 0 ? -q : q, places)
}

/** kWh for display: two decimals. */
export function kwh(value: string): string {
  return roundDecimal(value, 2)
}

/** Today's energy (the last bucket) and this month's (the buckets of the last bucket's month), exact. */
export function todayAndMonth(points: readonly UsagePoint[]): { today: string; month: string } {
  if (!points.length) return { today: '0', month: '0' }
  const last = points[points.length - 1]
  const key = monthKey(last.at)
  return { today: last.energy, month: sumDecimals(points.filter((p) => monthKey(p.at) === key).map((p) => p.energy)) }
}

export function totals(points: readonly UsagePoint[]): { energy: string; cost: string } {
  return { energy: sumDecimals(points.map((p) => p.energy)), cost: sumDecimals(points.map((p) => p.cost)) }
}

export interface Bar {
  at: string
  /** The full label (`MM-DD`, `YYYY-MM`). */
  label: string
  /** What the axis shows under the bar ('' for most days). */
  tick: string
  energy: string
  cost: string
  /** rpx, proportional to the energy (the largest bar is `maxRpx`, none is 0). */
  height: number
}

/** The chart's bars, oldest first: heights proportional to the energy, to a tenth of an rpx. */
export function bars(points: readonly UsagePoint[], bucket: 'DAY' | 'MONTH', maxRpx: number): Bar[] {
  const values = points.map((p) => Math.max(0, Number(p.energy) || 0))
  const max = values.reduce((m, v) => Math.max(m, v), 0)
  const n = points.length
  return points.map((p, i) => {
    const label = bucketLabel(p.at, bucket)
    // Days: every seventh counted back from today; months: each, by its number.
    const tick = bucket === 'DAY' ? ((n - 1 - i) % 7 === 0 ? label : '') : label.slice(5)
    return { at: p.at, label, tick, energy: kwh(p.energy), cost: p.cost, height: max > 0 ? Math.round((values[i] / max) * maxRpx * 10) / 10 : 0 }
  })
}
