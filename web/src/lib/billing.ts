// Post-paid bills and shared areas seen from the portal: billing periods in the tenant's time
// zone, bill states as tag types, and exact sums over bill lines and allocation shares
// (Decimal strings through lib/decimal.ts, never floats). The amounts themselves are the
// server's; these only add up what it answered, to show the operator that they agree.
import { add, cmp, neg, sum } from './decimal'
import { zonedParts } from './time'

export type BillStateName = 'DRAFT' | 'ISSUED' | 'PAID' | 'SUPERSEDED'

/** The billing period ("YYYY-MM") containing `now` in the tenant's zone, shifted by `months`. */
export function periodOf(now: Date, months = 0, tz?: string): string {
  const p = zonedParts(now, tz)
  const index = p.year * 12 + (p.month - 1) + months
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`
}

export function isPeriod(s: string): boolean {
  return /^\d{4}-(0[1-9]|1[0-2])$/.test(s.trim())
}

/** Element Plus tag type for a bill state. */
export function stateTag(state: string): 'info' | 'warning' | 'success' | 'primary' {
  switch (state) {
    case 'DRAFT':
      return 'warning'
    case 'ISSUED':
      return 'primary'
    case 'PAID':
      return 'success'
    default:
      return 'info'
  }
}

/** What a bill line's quantity counts, as an i18n key under `bills.unit`. */
export function unitOf(kind: string): string {
  switch (kind) {
    case 'ENERGY':
    case 'TIER':
    case 'SHARED_AREA':
      return 'kwh'
    case 'CAPACITY':
      return 'kw'
    case 'PROPERTY_FEE':
      return 'month'
    default:
      return 'none'
  }
}

export interface KindTotal {
  kind: string
  amount: string
  lines: number
}

/** Sum of the lines' amounts per kind, in the order kinds first appear. */
export function totalsByKind(lines: readonly { kind: string; amount: string }[]): KindTotal[] {
  const out: KindTotal[] = []
  for (const l of lines) {
    const t = out.find((x) => x.kind === l.kind)
    if (t) {
      t.amount = add(t.amount, l.amount)
      t.lines++
    } else out.push({ kind: l.kind, amount: l.amount, lines: 1 })
  }
  return out
}

/** Whether the lines add up to the bill's total, exactly. */
export function linesMatchTotal(lines: readonly { amount: string }[], total: string): boolean {
  return cmp(sum(lines.map((l) => l.amount)), total) === 0
}

/**
 * A member's share from a shared-area run's ledger entries: charges are negative entries, the
 * share is what they took from the account (positive yuan).
 */
export function shareOf(entries: readonly { amount: string }[]): string {
  return neg(sum(entries.map((e) => e.amount)))
}

/** Whether a run's shares add up to its amount, exactly (the server promises they do). */
export function sharesMatchAmount(shares: readonly { amount: string }[], amount: string): boolean {
  return cmp(sum(shares.map((s) => s.amount)), amount) === 0
}

/** Element Plus tag type for where a shared-area share went. */
export function dispositionTag(d: string): 'success' | 'warning' | 'info' {
  return d === 'POSTED' ? 'success' : d === 'ON_BILL' ? 'warning' : 'info'
}

/** A weight's part of all weights, in percent with two decimals (for display only). */
export function weightPercent(weight: string, weights: readonly string[]): string {
  const total = sum(weights)
  if (cmp(total, '0') === 0) return '0.00'
  // Scaled BigInt division: weight × 10000 / total, rounded half up, as percent with 2 places.
  const scale = 12
  const toUnits = (s: string) => {
    const [i, f = ''] = s.split('.')
    return BigInt((i ?? '0') + f.padEnd(scale, '0').slice(0, scale))
  }
  const q = (toUnits(weight) * 100000n) / toUnits(total)
  const rounded = (q + 5n) / 10n
  const str = rounded.toString().padStart(3, '0')
  return `${str.slice(0, -2)}.${str.slice(-2)}`
}
