// Usage periods in the browser's local time (customers and their property share a time zone;
// the server buckets by the tenant's local midnight), and exact sums of the API's decimals.

import { formatFixed, sum } from '@/lib/decimal'
import type { UsagePoint } from '@mp/lib/queries'

const midnight = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate())

/** `[from, to)` covering the last `days` local days, today included. */
export function lastDays(now: Date, days: number): { from: string; to: string } {
  const today = midnight(now)
  const from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - (days - 1))
  const to = new Date(today.getFullYear(), today.getMonth(), today.getDate() + 1)
  return { from: from.toISOString(), to: to.toISOString() }
}

/** `[from, to)` covering the last `months` months, this one included. */
export function lastMonths(now: Date, months: number): { from: string; to: string } {
  const from = new Date(now.getFullYear(), now.getMonth() - (months - 1), 1)
  const to = new Date(now.getFullYear(), now.getMonth() + 1, 1)
  return { from: from.toISOString(), to: to.toISOString() }
}

/** `[from, to)` from the first of this month to the end of today. */
export function monthToDate(now: Date): { from: string; to: string } {
  const from = new Date(now.getFullYear(), now.getMonth(), 1)
  const to = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1)
  return { from: from.toISOString(), to: to.toISOString() }
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate()
}

/** Today's and this month's energy from DAY points of the month so far (kWh, exact). */
export function todayAndMonth(points: readonly UsagePoint[], now: Date): { today: string; month: string } {
  const today = points.filter((p) => sameDay(new Date(p.at), now)).map((p) => p.energy)
  return { today: sum(today), month: sum(points.map((p) => p.energy)) }
}

export function totals(points: readonly UsagePoint[]): { energy: string; cost: string } {
  return { energy: sum(points.map((p) => p.energy)), cost: sum(points.map((p) => p.cost)) }
}

/** kWh for display: two decimals, rounded half up, exactly. */
export function kwh(value: string): string {
  return formatFixed(value, 2)
}

/** A bucket's label: `MM-DD` for days, `YYYY-MM` for months (local time). */
export function bucketLabel(at: string, bucket: 'DAY' | 'MONTH'): string {
  const d = new Date(at)
  const p = (n: number) => String(n).padStart(2, '0')
  return bucket === 'DAY' ? `${p(d.getMonth() + 1)}-${p(d.getDate())}` : `${d.getFullYear()}-${p(d.getMonth() + 1)}`
}
