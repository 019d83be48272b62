// Meter import (批量导入电表, docs/REPORTS.md "Imports"): the REST answers of
// `POST /imports/meters?dryRun=…` read into one shape, the error table, the file check and the
// template's path. Every check is the server's; the portal only shows them.

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

/** 200: what was (or would be) written. */
export interface ImportSummary {
  dryRun: boolean
  rows: number
  created: number
  toCreate: number
  unchanged: number
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
    return {
      kind: 'ok',
      summary: { dryRun: b.dryRun !== false, rows: num(b.rows), created: num(b.created), toCreate: num(b.toCreate), unchanged: num(b.unchanged) },
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

/** `/imports/meters-template.xlsx?lang=zh|en` for the portal's language. */
export function templatePath(locale: string): string {
  return `/imports/meters-template.xlsx?lang=${locale.toLowerCase().startsWith('en') ? 'en' : 'zh'}`
}

export function importPath(dryRun: boolean): string {
  return `/imports/meters?dryRun=${dryRun ? 'true' : 'false'}`
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
