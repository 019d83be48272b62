// Reports (报表): day ranges picked in the tenant's time zone and sent as instants, the sales
// report's periods and pivot (exact decimal sums; numbers only for drawing), and the export
// URLs. Pure functions, tested in tests/reports.test.ts.
import type { SalesBucket } from '@/graphql/generated'
import { add, isZero, sum } from './decimal'
import { nextDate } from './filters'
import { localDateToUtc, zonedParts } from './time'

/** Local dates "YYYY-MM-DD", both inclusive. */
export type DayRange = [string, string]

const pad = (n: number) => String(n).padStart(2, '0')
const DATE = /^\d{4}-\d{2}-\d{2}$/

export function isDate(s: unknown): s is string {
  return typeof s === 'string' && DATE.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`))
}

/** Today's local date in the tenant's zone (or `tz`). */
export function todayIn(tz?: string, now = new Date()): string {
  const p = zonedParts(now, tz)
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`
}

/** Calendar arithmetic on a local date (no time zone involved). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number)
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + days)).toISOString().slice(0, 10)
}

/** The quick ranges offered next to the date picker, relative to `today` (a local date). */
export const RANGE_SHORTCUTS = ['today', 'yesterday', 'last7', 'thisMonth', 'lastMonth', 'thisYear'] as const
export type RangeShortcut = (typeof RANGE_SHORTCUTS)[number]

export function shortcutRange(which: RangeShortcut, today: string): DayRange {
  const [y, m] = today.split('-').map(Number) as [number, number]
  switch (which) {
    case 'today':
      return [today, today]
    case 'yesterday': {
      const d = addDays(today, -1)
      return [d, d]
    }
    case 'last7':
      return [addDays(today, -6), today]
    case 'thisMonth':
      return [`${y}-${pad(m)}-01`, today]
    case 'lastMonth': {
      const first = `${y}-${pad(m)}-01`
      const last = addDays(first, -1)
      return [`${last.slice(0, 7)}-01`, last]
    }
    case 'thisYear':
      return [`${y}-01-01`, today]
  }
}

/**
 * A local day range as the API's instants: from the first day's local midnight to the local
 * midnight after the last day (`[from, to)`), in the tenant's zone.
 */
export function rangeInstants(range: DayRange, tz?: string): { from: string; to: string } {
  return { from: localDateToUtc(range[0], tz).toISOString(), to: localDateToUtc(nextDate(range[1]), tz).toISOString() }
}

/** The period keys the server uses for a bucket: `2026-12-06`, `2026-12`, `2026`. */
export function periodOf(date: string, bucket: SalesBucket): string {
  return bucket === 'DAY' ? date : bucket === 'MONTH' ? date.slice(0, 7) : date.slice(0, 4)
}

/**
 * Every period of the range, in order (so the chart shows days without sales too); at most
 * `max` (the server allows three years: 1 100 days).
 */
export function periodsBetween(range: DayRange, bucket: SalesBucket, max = 1200): string[] {
  const [from, to] = range
  if (!isDate(from) || !isDate(to) || from > to) return []
  const out: string[] = []
  if (bucket === 'DAY') {
    for (let d = from; d <= to && out.length < max; d = addDays(d, 1)) out.push(d)
    return out
  }
  if (bucket === 'MONTH') {
    let [y, m] = from.split('-').map(Number) as [number, number]
    const last = to.slice(0, 7)
    for (let p = `${y}-${pad(m)}`; p <= last && out.length < max; ) {
      out.push(p)
      m += 1
      if (m > 12) {
        m = 1
        y += 1
      }
      p = `${y}-${pad(m)}`
    }
    return out
  }
  for (let y = Number(from.slice(0, 4)); y <= Number(to.slice(0, 4)) && out.length < max; y++) out.push(String(y))
  return out
}

export interface SalesLineLike {
  period: string
  key: string
  name: string
  count: number
  amount: string
}

export interface SalesKeyTotal {
  key: string
  name: string
  count: number
  amount: string
}

/** Totals of the report: all lines, and per key (in the order keys first appear). */
export function salesTotals(lines: readonly SalesLineLike[]): { count: number; amount: string; keys: SalesKeyTotal[] } {
  const keys = new Map<string, SalesKeyTotal>()
  for (const l of lines) {
    const k = keys.get(l.key) ?? { key: l.key, name: l.name, count: 0, amount: '0' }
    k.count += l.count
    k.amount = add(k.amount, l.amount)
    keys.set(l.key, k)
  }
  return { count: lines.reduce((n, l) => n + l.count, 0), amount: sum(lines.map((l) => l.amount)), keys: [...keys.values()] }
}

/**
 * The chart's matrix: for each key, its amount in each period (exact decimal strings; '0'
 * where the key has no line). Periods the lines name outside `periods` are added in order.
 */
export function salesMatrix(lines: readonly SalesLineLike[], periods: readonly string[]): { periods: string[]; series: { key: string; name: string; amounts: string[] }[] } {
  const all = [...periods]
  const known = new Set(all)
  for (const l of lines) {
    if (!known.has(l.period)) {
      known.add(l.period)
      all.push(l.period)
    }
  }
  all.sort()
  const index = new Map(all.map((p, i) => [p, i]))
  const series = new Map<string, { key: string; name: string; amounts: string[] }>()
  for (const l of lines) {
    const s = series.get(l.key) ?? { key: l.key, name: l.name, amounts: all.map(() => '0') }
    const i = index.get(l.period) as number
    s.amounts[i] = add(s.amounts[i] ?? '0', l.amount)
    series.set(l.key, s)
  }
  return { periods: all, series: [...series.values()] }
}

/** The sum of the non-empty values (kWh, yuan), exact. */
export function sumPresent(values: readonly (string | null | undefined)[]): string {
  return sum(values.filter((v): v is string => typeof v === 'string' && v !== ''))
}

export function hasAmount(lines: readonly SalesLineLike[]): boolean {
  return lines.some((l) => !isZero(l.amount) || l.count > 0)
}

export type ExportName = 'sales' | 'meter-readings' | 'low-balances' | 'energy' | 'demand' | 'lost-devices' | 'statement' | 'readings' | 'ledger' | 'meters' | 'customers' | 'commands'
export type ExportFormat = 'xlsx' | 'csv'

/** `/exports/sales.xlsx?from=…&lang=zh`: empty parameters are left out. */
export function exportPath(name: ExportName, format: ExportFormat, params: Record<string, string | number | boolean | null | undefined>, lang: string): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') continue
    q.set(k, String(v))
  }
  q.set('lang', lang.toLowerCase().startsWith('en') ? 'en' : 'zh')
  return `/exports/${name}.${format}?${q}`
}

// 用电量统计 (energyReport): periods, limits and exact sums of the TOU split.

export type EnergyBucketName = 'HOUR' | 'DAY' | 'MONTH'

/** The longest range the server takes per bucket, in days (hours: 31, days: 400, months: three years). */
export const ENERGY_MAX_DAYS: Record<EnergyBucketName, number> = { HOUR: 31, DAY: 400, MONTH: 366 * 3 }

/** Days in a local day range, both ends counted (0 for a bad range). */
export function rangeDays(range: DayRange): number {
  const [from, to] = range
  if (!isDate(from) || !isDate(to) || from > to) return 0
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1
}

/** Every period key of the range the server would use: `2026-12-06 13:00`, `2026-12-06`, `2026-12`. */
export function energyPeriods(range: DayRange, bucket: EnergyBucketName, max = 24 * 32): string[] {
  if (bucket === 'DAY') return periodsBetween(range, 'DAY', max)
  if (bucket === 'MONTH') return periodsBetween(range, 'MONTH', max)
  const out: string[] = []
  for (const d of periodsBetween(range, 'DAY', max)) {
    for (let h = 0; h < 24 && out.length < max; h++) out.push(`${d} ${pad(h)}:00`)
  }
  return out
}

export const TOU_PARTS = ['sharp', 'peak', 'flat', 'valley'] as const
export type TouPart = (typeof TOU_PARTS)[number]

export interface EnergyLineLike {
  period: string
  key: string
  name: string
  total: string
  sharp: string
  peak: string
  flat: string
  valley: string
}
export type EnergySums = Record<TouPart | 'total', string>

/** The exact sums of total and of each TOU part. */
export function energyTotals(lines: readonly EnergyLineLike[]): EnergySums {
  return {
    total: sum(lines.map((l) => l.total)),
    sharp: sum(lines.map((l) => l.sharp)),
    peak: sum(lines.map((l) => l.peak)),
    flat: sum(lines.map((l) => l.flat)),
    valley: sum(lines.map((l) => l.valley)),
  }
}

/**
 * The chart's rows: per period (every period of `periods`, plus any the lines name), the sums
 * over all keys ('0' where nothing was used), in order.
 */
export function energyByPeriod(lines: readonly EnergyLineLike[], periods: readonly string[]): ({ period: string } & EnergySums)[] {
  const groups = new Map<string, EnergyLineLike[]>()
  for (const p of periods) groups.set(p, [])
  for (const l of lines) {
    const g = groups.get(l.period)
    if (g) g.push(l)
    else groups.set(l.period, [l])
  }
  return [...groups.keys()].sort().map((period) => ({ period, ...energyTotals(groups.get(period) ?? []) }))
}

/** The demand report's month picker: `YYYY-MM` of a local date. */
export function monthOf(date: string): string {
  return date.slice(0, 7)
}
export function isMonth(s: unknown): s is string {
  return typeof s === 'string' && /^\d{4}-(0[1-9]|1[0-2])$/.test(s)
}

/** Which of a demand line's figures the bill counts: the register when the meter reported one. */
export function demandBasisSource(l: { registerDemand?: string | null; intervalDemand?: string | null; basis?: string | null }): 'register' | 'interval' | null {
  if (l.basis === null || l.basis === undefined) return null
  if (l.registerDemand !== null && l.registerDemand !== undefined) return 'register'
  return l.intervalDemand !== null && l.intervalDemand !== undefined ? 'interval' : null
}
