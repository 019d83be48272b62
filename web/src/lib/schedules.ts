// Scheduled reports (定时报表): the reports a schedule can send, the filters each takes (built
// into the schedule's `params` query string from simple controls, and read back for the list),
// recipients, and the period "send now" offers. Pure functions, tested in tests/schedules.test.ts.
import { addDays, type DayRange } from './reports'

/** Every export but the statement (docs/REPORTS.md, "Scheduled reports"). */
export const SCHEDULE_REPORTS = ['sales', 'energy', 'meter-readings', 'low-balances', 'demand', 'lost-devices', 'ledger', 'bills', 'alarms'] as const
export type ScheduleReport = (typeof SCHEDULE_REPORTS)[number]

export function isScheduleReport(s: string): s is ScheduleReport {
  return (SCHEDULE_REPORTS as readonly string[]).includes(s)
}

/** The controls a report's filters are made of; every report takes the property. */
export interface ReportControls {
  buckets?: readonly string[]
  bys?: readonly string[]
  area?: boolean
  includeLow?: boolean
  activeOnly?: boolean
}

export const REPORT_CONTROLS: Record<ScheduleReport, ReportControls> = {
  sales: { buckets: ['DAY', 'MONTH', 'YEAR'], bys: ['CHANNEL', 'OPERATOR', 'PAYEE'] },
  energy: { buckets: ['HOUR', 'DAY', 'MONTH'], bys: ['PROPERTY', 'AREA', 'METER'], area: true },
  'meter-readings': { area: true },
  'low-balances': { includeLow: true },
  demand: { area: true },
  'lost-devices': {},
  ledger: {},
  bills: {},
  alarms: { activeOnly: true },
}

export interface ScheduleFilters {
  bucket?: string
  by?: string
  propertyId?: string | null
  areaId?: string | null
  includeLow?: boolean
  activeOnly?: boolean
}

/** The defaults a new schedule's controls start from. */
export function defaultFilters(report: ScheduleReport): ScheduleFilters {
  const c = REPORT_CONTROLS[report]
  return {
    bucket: c.buckets ? 'DAY' : undefined,
    by: c.bys?.[0],
    propertyId: null,
    areaId: null,
    includeLow: c.includeLow ? true : undefined,
    activeOnly: c.activeOnly ? false : undefined,
  }
}

/**
 * The schedule's `params`: only the filters the report takes, in a fixed order, empty ones
 * left out (the range is the schedule's own: never `from`, `to` or `period`).
 */
export function buildParams(report: ScheduleReport, f: ScheduleFilters): string {
  const c = REPORT_CONTROLS[report]
  const q = new URLSearchParams()
  if (c.buckets && f.bucket && c.buckets.includes(f.bucket)) q.set('bucket', f.bucket)
  if (c.bys && f.by && c.bys.includes(f.by)) q.set('by', f.by)
  if (f.propertyId) q.set('propertyId', f.propertyId)
  if (c.area && f.areaId) q.set('areaId', f.areaId)
  if (c.includeLow && f.includeLow !== undefined) q.set('includeLow', String(f.includeLow))
  if (c.activeOnly && f.activeOnly) q.set('activeOnly', 'true')
  return q.toString()
}

/** A stored `params` string as key → value. */
export function parseParams(params: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(params))
}

const EMAIL = /^[^\s@<>(),;:"[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/

/** A plain address (`name@host.tld`): what the server's relay takes, checked before sending. */
export function isEmail(s: string): boolean {
  return s.length <= 254 && EMAIL.test(s)
}

/** Addresses typed or pasted: split on spaces, commas and semicolons (also full-width), trimmed, deduplicated. */
export function splitRecipients(text: string): string[] {
  const out: string[] = []
  for (const part of text.split(/[\s,，;；]+/)) {
    const a = part.trim()
    if (a && !out.some((x) => x.toLowerCase() === a.toLowerCase())) out.push(a)
  }
  return out
}

export const MAX_RECIPIENTS = 20

export type Cadence = 'DAILY' | 'WEEKLY' | 'MONTHLY'

/**
 * The period just ended for a cadence, as local dates (both inclusive), relative to `today`:
 * yesterday; last week Monday to Sunday; last calendar month. "Send now" starts from it.
 */
export function lastPeriod(cadence: Cadence, today: string): DayRange {
  if (cadence === 'DAILY') {
    const d = addDays(today, -1)
    return [d, d]
  }
  if (cadence === 'WEEKLY') {
    const dow = new Date(`${today}T00:00:00Z`).getUTCDay() // 0 = Sunday
    const monday = addDays(today, -((dow + 6) % 7))
    return [addDays(monday, -7), addDays(monday, -1)]
  }
  const first = `${today.slice(0, 7)}-01`
  const last = addDays(first, -1)
  return [`${last.slice(0, 7)}-01`, last]
}

/** Run states, for their tag colours. */
export function runTone(state: string): 'success' | 'warning' | 'danger' | 'info' {
  return state === 'SENT' ? 'success' : state === 'PENDING' ? 'warning' : state === 'DEAD' ? 'danger' : 'info'
}
