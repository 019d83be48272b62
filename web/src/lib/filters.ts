// Query-variable building for the list screens: empty inputs are left out so the server's
// defaults apply, text is trimmed, and a scoped operator's property is always named.
import type { EntryFilter, EntryKind, FeeState, MeterFilter, MeterStatus } from '@/graphql/generated'
import { localDateToUtc } from './time'

export interface MeterFilterForm {
  propertyId?: string | null
  areaId?: string | null
  gatewayId?: string | null
  status?: MeterStatus | '' | null
  feeState?: FeeState | '' | null
  q?: string | null
}

function clean<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Partial<T> = {}
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null) continue
    if (typeof v === 'string' && v.trim() === '') continue
    ;(out as Record<string, unknown>)[k] = typeof v === 'string' ? v.trim() : v
  }
  return out
}

export function buildMeterFilter(form: MeterFilterForm): MeterFilter {
  return clean({
    propertyId: form.propertyId,
    areaId: form.areaId,
    gatewayId: form.gatewayId,
    status: form.status || null,
    feeState: form.feeState || null,
    q: form.q,
  }) as MeterFilter
}

export interface EntryFilterForm {
  propertyId?: string | null
  accountId?: string | null
  kind?: EntryKind | '' | null
  channel?: string | null
  operator?: string | null
  payeeId?: string | null
  /** Local dates "YYYY-MM-DD", inclusive: [from, to]. */
  period?: [string, string] | null
}

/** "2026-11-30" → "2026-12-01" (calendar arithmetic, no time zone involved). */
export function nextDate(date: string): string {
  const [y, m, d] = date.split('-').map(Number)
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + 1)).toISOString().slice(0, 10)
}

export function buildEntryFilter(form: EntryFilterForm, tz?: string): EntryFilter {
  const out = clean({
    propertyId: form.propertyId,
    accountId: form.accountId,
    kind: form.kind || null,
    channel: form.channel,
    operator: form.operator,
    payeeId: form.payeeId,
  }) as EntryFilter
  if (form.period && form.period[0] && form.period[1]) {
    out.from = localDateToUtc(form.period[0], tz).toISOString()
    // The end date is inclusive: up to the next local midnight.
    out.to = localDateToUtc(nextDate(form.period[1]), tz).toISOString()
  }
  return out
}

/** The property a request must carry: the selected one, or for a scoped operator always one. */
export function effectiveProperty(selected: string | null, scope: readonly string[] | null | undefined): string | null {
  if (selected) return selected
  if (scope && scope.length > 0) return scope[0] ?? null
  return null
}
