// The audit log's before/after images (JSON objects) side by side: one row per top-level key
// of either image, values shown as JSON, the changed ones marked.

export interface AuditRow {
  key: string
  before: string
  after: string
  changed: boolean
}

function parse(s: string | null | undefined): Record<string, unknown> | null {
  if (!s) return null
  try {
    const v: unknown = JSON.parse(s)
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v }
  } catch {
    return { value: s }
  }
}

const show = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v))

export function auditRows(before: string | null | undefined, after: string | null | undefined): AuditRow[] {
  const b = parse(before)
  const a = parse(after)
  const keys = [...new Set([...Object.keys(b ?? {}), ...Object.keys(a ?? {})])]
  return keys.map((key) => {
    const x = b ? show(b[key]) : ''
    const y = a ? show(a[key]) : ''
    return { key, before: b ? (key in b ? x : '—') : '—', after: a ? (key in a ? y : '—') : '—', changed: JSON.stringify(b?.[key]) !== JSON.stringify(a?.[key]) }
  })
}

/** Only the changed rows first, then the rest (what an auditor reads first). */
export function changedFirst(rows: AuditRow[]): AuditRow[] {
  return [...rows.filter((r) => r.changed), ...rows.filter((r) => !r.changed)]
}
