// Spreadsheet imports (docs/REPORTS.md "Imports"): meters (批量导入电表) and the site structure —
// properties, areas and gateways from one sheet (项目·区域·网关). The REST answers of
// `POST /imports/<kind>?dryRun=…` read into one shape (the site import's counts per kind
// included), the error table, the file check and the template's path. Every check is the
// server's; the portal only shows them.

/** What a sheet registers: meters, or properties with their areas and gateways. */
export type ImportKind = 'meters' | 'sites'
export const IMPORT_KINDS: readonly ImportKind[] = ['meters', 'sites']

/** The kind a route's `?kind=` names (meters unless it says sites). */
export function importKind(q: unknown): ImportKind {
  const v = Array.isArray(q) ? q[0] : q
  return v === 'sites' ? 'sites' : 'meters'
}

/** The largest file the server takes (server/api/src/imports.rs `IMPORT_LIMIT`). */
export const IMPORT_LIMIT = 20 * 1024 * 1024
export const IMPORT_EXTENSIONS = ['.xlsx', '.csv'] as const

/** One error as the server gives it: the sheet's row (the header is row 1), the column letter and header. */
export interface ImportRowError {
  row: number
  column: string
  field: string
  message: string
}

/** What a site import makes (or made), per kind. */
export interface SiteCounts {
  properties: number
  areas: number
  gateways: number
}

/** 200: what was (or would be) written. */
export interface ImportSummary {
  dryRun: boolean
  rows: number
  created: number
  toCreate: number
  unchanged: number
  /** The site import's split of `toCreate`; null for meters. */
  counts: SiteCounts | null
}

export type ImportOutcome =
  | { kind: 'ok'; summary: ImportSummary }
  /** 422 with every error by row and column; nothing written. */
  | { kind: 'errors'; rows: number; unchanged: number; errors: ImportRowError[] }
  /** Any other refusal: the server's code and message (an unreadable file, no permission, …). */
  | { kind: 'refused'; status: number; code: string; message: string }

/** Reads the server's answer (status and parsed JSON body, or null when it was not JSON). */
export function readImportAnswer(status: number, body: unknown): ImportOutcome {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
  if (status === 200) {
    const c = b.counts && typeof b.counts === 'object' ? (b.counts as Record<string, unknown>) : null
    return {
      kind: 'ok',
      summary: {
        dryRun: b.dryRun !== false,
        rows: num(b.rows),
        created: num(b.created),
        toCreate: num(b.toCreate),
        unchanged: num(b.unchanged),
        counts: c ? { properties: num(c.properties), areas: num(c.areas), gateways: num(c.gateways) } : null,
      },
    }
  }
  if (status === 422 && Array.isArray(b.errors) && b.errors.length > 0) {
    const errors = (b.errors as Record<string, unknown>[]).map((e) => ({
      row: num(e.row),
      column: typeof e.column === 'string' ? e.column : '',
      field: typeof e.field === 'string' ? e.field : '',
      message: typeof e.message === 'string' ? e.message : '',
    }))
    return { kind: 'errors', rows: num(b.rows), unchanged: num(b.unchanged), errors }
  }
  const code = typeof b.error === 'string' ? b.error : status === 413 ? 'TOO_LARGE' : `HTTP_${status}`
  const message = typeof b.message === 'string' ? b.message : `HTTP ${status}`
  return { kind: 'refused', status, code, message }
}

/** Column letters in sheet order: B before AA (by length, then alphabetically). */
export function compareColumns(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)
}

/** One line of the error table. */
export interface ErrorLine {
  /** The sheet's row number, as the operator sees it in Excel. */
  row: number
  /** The column letter, or '' when the error is about a column that is missing or the whole file. */
  column: string
  /** "B5" for Excel's name box, or "5" / "" without a column. */
  cell: string
  field: string
  message: string
}

/** The server's errors as table lines, by row then column (header errors first). */
export function errorLines(errors: readonly ImportRowError[]): ErrorLine[] {
  return [...errors]
    .sort((a, b) => a.row - b.row || compareColumns(a.column, b.column))
    .map((e) => ({ row: e.row, column: e.column, cell: e.column ? `${e.column}${e.row}` : e.row ? String(e.row) : '', field: e.field, message: e.message }))
}

/** How many distinct rows (below the header) have an error. */
export function rowsWithErrors(errors: readonly ImportRowError[]): number {
  return new Set(errors.filter((e) => e.row > 1).map((e) => e.row)).size
}

export type FileProblem = 'type' | 'size' | 'empty'

/** A file the server can take: .xlsx or .csv, not empty, at most 20 MB. */
export function checkImportFile(file: { name: string; size: number }): FileProblem | null {
  const name = file.name.toLowerCase()
  if (!IMPORT_EXTENSIONS.some((x) => name.endsWith(x))) return 'type'
  if (file.size === 0) return 'empty'
  if (file.size > IMPORT_LIMIT) return 'size'
  return null
}

/** The content type sent with the file (the server reads the bytes either way). */
export function importContentType(name: string): string {
  return name.toLowerCase().endsWith('.csv') ? 'text/csv' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
}

/** `/imports/<kind>-template.xlsx?lang=zh|en` for the portal's language. */
export function templatePath(locale: string, kind: ImportKind = 'meters'): string {
  return `/imports/${kind}-template.xlsx?lang=${locale.toLowerCase().startsWith('en') ? 'en' : 'zh'}`
}

export function importPath(dryRun: boolean, kind: ImportKind = 'meters'): string {
  return `/imports/${kind}?dryRun=${dryRun ? 'true' : 'false'}`
}

/** The file name the template is saved under when the server names none. */
export function templateName(kind: ImportKind): string {
  return `${kind}-import.xlsx`
}

/** The per-kind figures of a site import worth showing (all three, in the sheet's order). */
export function siteFigures(c: SiteCounts | null): { key: keyof SiteCounts; n: number }[] {
  if (!c) return []
  return (['properties', 'areas', 'gateways'] as const).map((key) => ({ key, n: c[key] }))
}

/** Identifies the chosen file, so a commit only follows a clean dry run of that same file. */
export function fileKey(file: { name: string; size: number; lastModified: number }): string {
  return `${file.name}|${file.size}|${file.lastModified}`
}

/** The commit is offered only after a clean dry run of the same file that would create meters. */
export function canCommit(dry: ImportOutcome | null, dryKey: string, currentKey: string): boolean {
  return !!dry && dry.kind === 'ok' && dry.summary.dryRun && dryKey === currentKey && dry.summary.toCreate > 0
}

/** A readable size: "12.3 KB". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
