// Time-of-use day plans on the client: parse "hh:mm", check that the periods cover the day
// 00:00–24:00 exactly once (no gap, no overlap, at most 14), lay them out on a 24-hour ruler,
// and price a sample day with exact decimal arithmetic (lib/decimal.ts). The server checks
// the plan again and its message is what the operator reads when it refuses.
import { add, parse, round, toString } from './decimal'

export type Rate = 'SHARP' | 'PEAK' | 'FLAT' | 'VALLEY' | 'DEEP_VALLEY'
export const RATES: Rate[] = ['SHARP', 'PEAK', 'FLAT', 'VALLEY', 'DEEP_VALLEY']
export const MAX_PERIODS = 14
export const DAY = 1440

export interface PeriodRow {
  start: string
  end: string
  rate: Rate
}

/** Minutes since midnight of "hh:mm" (00:00–24:00), or null. */
export function toMinutes(s: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s.trim())
  if (!m) return null
  const h = Number(m[1])
  const min = Number(m[2])
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return null
  return h * 60 + min
}

export function fromMinutes(n: number): string {
  return `${String(Math.floor(n / 60)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}`
}

export type IssueKind = 'format' | 'order' | 'gap' | 'overlap' | 'tooMany' | 'none'
export interface Issue {
  kind: IssueKind
  /** The row concerned (format, order). */
  row?: number
  /** The span concerned, minutes (gap, overlap). */
  from?: number
  to?: number
}

/**
 * Everything wrong with a day plan: rows that are not "hh:mm" or end before they start,
 * spans no period covers (gaps), spans covered twice (overlaps), more than 14 periods, none.
 */
export function checkPeriods(rows: readonly PeriodRow[]): Issue[] {
  const issues: Issue[] = []
  if (rows.length === 0) issues.push({ kind: 'none' })
  if (rows.length > MAX_PERIODS) issues.push({ kind: 'tooMany' })
  const cover = new Uint8Array(DAY)
  let parsedAll = true
  rows.forEach((r, i) => {
    const s = toMinutes(r.start)
    const e = toMinutes(r.end)
    if (s === null || e === null || s === DAY) {
      issues.push({ kind: 'format', row: i })
      parsedAll = false
      return
    }
    if (e <= s) {
      issues.push({ kind: 'order', row: i })
      parsedAll = false
      return
    }
    for (let m = s; m < e; m++) cover[m] = Math.min(2, cover[m]! + 1)
  })
  if (rows.length > 0 && parsedAll) {
    for (const [kind, test] of [['gap', (c: number) => c === 0], ['overlap', (c: number) => c > 1]] as const) {
      let m = 0
      while (m < DAY) {
        if (!test(cover[m]!)) {
          m++
          continue
        }
        const from = m
        while (m < DAY && test(cover[m]!)) m++
        issues.push({ kind, from, to: m })
      }
    }
  }
  return issues
}

export interface Segment {
  /** Left edge and width in percent of the day. */
  left: number
  width: number
  rate?: Rate
  /** A gap or an overlap (drawn in red), else a period. */
  issue?: 'gap' | 'overlap'
  from: number
  to: number
}

/** The ruler's segments: one per well-formed period, then the gaps and overlaps on top. */
export function rulerSegments(rows: readonly PeriodRow[]): Segment[] {
  const seg = (from: number, to: number) => ({ left: (from / DAY) * 100, width: ((to - from) / DAY) * 100, from, to })
  const out: Segment[] = []
  for (const r of rows) {
    const s = toMinutes(r.start)
    const e = toMinutes(r.end)
    if (s !== null && e !== null && e > s) out.push({ ...seg(s, e), rate: r.rate })
  }
  for (const i of checkPeriods(rows)) if ((i.kind === 'gap' || i.kind === 'overlap') && i.from !== undefined && i.to !== undefined) out.push({ ...seg(i.from, i.to), issue: i.kind })
  return out
}

/** `a / n` rounded half up to `scale` places (n > 0). */
export function divRound(a: string, n: number, scale: number): string {
  const x = parse(a)
  const num = x.units * 10n ** BigInt(scale + 1)
  const den = BigInt(n) * 10n ** BigInt(x.scale)
  let q = num / den
  q = q >= 0n ? (q + 5n) / 10n : (q - 5n) / 10n
  return toString({ units: q, scale })
}

export interface PreviewLine {
  row: number
  rate: Rate
  start: string
  end: string
  /** kWh in the period (4 places), the price, the cost (4 places). */
  energy: string
  price: string
  cost: string
}

export interface Preview {
  lines: PreviewLine[]
  energy: string
  /** The day's cost, exact sum of the lines, then rounded to fen for display. */
  cost: string
  costFen: string
}

/**
 * Prices a sample day: `hourly` holds 24 kWh values (one per local hour, spread evenly within
 * the hour); each period gets the energy of the minutes it covers, times its rate's price.
 * Periods on whole hours are exact; a split hour is divided at 4 places. Before tiers and fees.
 * `rows` empty = flat all day at `prices.FLAT`.
 */
export function previewDay(rows: readonly PeriodRow[], prices: Partial<Record<Rate, string>>, hourly: readonly string[]): Preview {
  const plan: PeriodRow[] = rows.length > 0 ? [...rows] : [{ start: '00:00', end: '24:00', rate: 'FLAT' }]
  const lines: PreviewLine[] = []
  plan.forEach((r, i) => {
    const s = toMinutes(r.start)
    const e = toMinutes(r.end)
    if (s === null || e === null || e <= s) return
    // Σ kWh_h × minutes of hour h inside the period, exact; then / 60.
    let kwhMinutes = '0'
    for (let h = 0; h < 24; h++) {
      const overlap = Math.max(0, Math.min(e, (h + 1) * 60) - Math.max(s, h * 60))
      if (overlap > 0) kwhMinutes = add(kwhMinutes, mulInt(hourly[h] ?? '0', overlap))
    }
    const price = prices[r.rate] ?? '0'
    const energy = divRound(kwhMinutes, 60, 4)
    const cost = divRound(mulDec(kwhMinutes, price), 60, 4)
    lines.push({ row: i, rate: r.rate, start: r.start, end: r.end, energy, price, cost })
  })
  const energy = lines.reduce((a, l) => add(a, l.energy), '0')
  const cost = lines.reduce((a, l) => add(a, l.cost), '0')
  return { lines, energy, cost, costFen: round(cost, 2) }
}

function mulInt(a: string, n: number): string {
  const x = parse(a)
  return toString({ units: x.units * BigInt(n), scale: x.scale })
}

function mulDec(a: string, b: string): string {
  const x = parse(a)
  const y = parse(b)
  return toString({ units: x.units * y.units, scale: x.scale + y.scale })
}
