// The imports' answers (meters; properties, areas and gateways with their counts per kind) read
// into one shape, the error table (row, column letter, cell, field, message) in sheet order, the
// file check, the paths per kind and when the import is offered.
import { describe, expect, it } from 'vitest'
import {
  IMPORT_LIMIT, canCommit, checkImportFile, compareColumns, errorLines, fileKey, formatSize, importContentType, importKind, importPath, readImportAnswer,
  rowsWithErrors, siteFigures, templateName, templatePath,
} from '@/lib/imports'

describe('import answers', () => {
  it('a clean dry run and an import', () => {
    expect(readImportAnswer(200, { dryRun: true, rows: 3, created: 0, toCreate: 2, unchanged: 1, errors: [] })).toEqual({
      kind: 'ok', summary: { dryRun: true, rows: 3, created: 0, toCreate: 2, unchanged: 1, counts: null },
    })
    const done = readImportAnswer(200, { dryRun: false, rows: 3, created: 2, toCreate: 2, unchanged: 1, errors: [] })
    expect(done.kind === 'ok' && done.summary).toEqual({ dryRun: false, rows: 3, created: 2, toCreate: 2, unchanged: 1, counts: null })
  })
  it('a site import: the counts per kind', () => {
    const body = { dryRun: true, rows: 3, created: 0, toCreate: 4, counts: { properties: 1, areas: 2, gateways: 1 }, unchanged: 0, errors: [] }
    const r = readImportAnswer(200, body)
    expect(r).toEqual({ kind: 'ok', summary: { dryRun: true, rows: 3, created: 0, toCreate: 4, unchanged: 0, counts: { properties: 1, areas: 2, gateways: 1 } } })
    expect(siteFigures(r.kind === 'ok' ? r.summary.counts : null)).toEqual([{ key: 'properties', n: 1 }, { key: 'areas', n: 2 }, { key: 'gateways', n: 1 }])
    // A count the server left out reads as 0; no counts (meters) shows no figures.
    const partial = readImportAnswer(200, { ...body, counts: { areas: 2 } })
    expect(partial.kind === 'ok' && partial.summary.counts).toEqual({ properties: 0, areas: 2, gateways: 0 })
    expect(siteFigures(null)).toEqual([])
  })
  it('a site import\'s 422: every error, nothing written', () => {
    const body = { dryRun: true, rows: 2, created: 0, errors: [{ row: 3, column: 'F', field: '面积 / Floor area', message: '“x” is not a number of m²' }] }
    expect(readImportAnswer(422, body)).toEqual({ kind: 'errors', rows: 2, unchanged: 0, errors: body.errors })
  })
  it('422 with every error by row and column', () => {
    const body = {
      dryRun: true, rows: 2, created: 0, unchanged: 0,
      errors: [{ row: 3, column: 'C', field: '表地址 / Meter address', message: 'the address is 12 digits' }],
    }
    expect(readImportAnswer(422, body)).toEqual({ kind: 'errors', rows: 2, unchanged: 0, errors: body.errors })
  })
  it('other refusals keep the server code and message', () => {
    expect(readImportAnswer(422, { error: 'VALIDATION', message: 'neither an .xlsx workbook nor UTF-8 CSV text' })).toEqual({
      kind: 'refused', status: 422, code: 'VALIDATION', message: 'neither an .xlsx workbook nor UTF-8 CSV text',
    })
    expect(readImportAnswer(403, { error: 'FORBIDDEN', message: 'your role does not allow registering meters' })).toMatchObject({ kind: 'refused', code: 'FORBIDDEN' })
    expect(readImportAnswer(413, null)).toMatchObject({ kind: 'refused', code: 'TOO_LARGE', message: 'HTTP 413' })
    expect(readImportAnswer(502, 'Bad gateway')).toMatchObject({ kind: 'refused', code: 'HTTP_502' })
    // A 422 without errors (should not happen) is a refusal, not an empty table.
    expect(readImportAnswer(422, { errors: [] })).toMatchObject({ kind: 'refused' })
  })
})

describe('error table', () => {
  const errors = [
    { row: 5, column: 'AB', field: 'x', message: 'later column' },
    { row: 5, column: 'C', field: '表地址 / Meter address', message: '000000000001 is also on row 2' },
    { row: 2, column: 'N', field: '物业费 / Property fee', message: 'must not be negative' },
    { row: 1, column: '', field: '接入方式 / Link', message: 'this column is required' },
    { row: 5, column: 'B', field: '区域 / Area', message: 'no area “Nowhere” in this property' },
  ]
  it('sorted by row, then column in sheet order (B < C < AB)', () => {
    expect(errorLines(errors).map((l) => `${l.row}${l.column}`)).toEqual(['1', '2N', '5B', '5C', '5AB'])
  })
  it('each line: row, column letter, Excel cell, field, message', () => {
    expect(errorLines(errors)[3]).toEqual({ row: 5, column: 'C', cell: 'C5', field: '表地址 / Meter address', message: '000000000001 is also on row 2' })
    // A missing column has no letter: the cell is the row alone.
    expect(errorLines(errors)[0]).toMatchObject({ column: '', cell: '1' })
  })
  it('counts the data rows with errors (the header is not one)', () => {
    expect(rowsWithErrors(errors)).toBe(2)
  })
  it('compares column letters as Excel orders them', () => {
    expect(['AA', 'B', 'Z', 'A', 'AZ', 'BA'].sort(compareColumns)).toEqual(['A', 'B', 'Z', 'AA', 'AZ', 'BA'])
  })
})

describe('files and paths', () => {
  it('takes .xlsx and .csv up to 20 MB', () => {
    expect(checkImportFile({ name: 'meters.XLSX', size: 10 })).toBeNull()
    expect(checkImportFile({ name: 'meters.csv', size: IMPORT_LIMIT })).toBeNull()
    expect(checkImportFile({ name: 'meters.xls', size: 10 })).toBe('type')
    expect(checkImportFile({ name: 'meters.csv', size: 0 })).toBe('empty')
    expect(checkImportFile({ name: 'meters.csv', size: IMPORT_LIMIT + 1 })).toBe('size')
  })
  it('content types, template language and the dry-run flag', () => {
    expect(importContentType('a.csv')).toBe('text/csv')
    expect(importContentType('a.xlsx')).toMatch(/spreadsheetml/)
    expect(templatePath('zh-CN')).toBe('/imports/meters-template.xlsx?lang=zh')
    expect(templatePath('en-US')).toBe('/imports/meters-template.xlsx?lang=en')
    expect(importPath(true)).toBe('/imports/meters?dryRun=true')
    expect(importPath(false)).toBe('/imports/meters?dryRun=false')
  })
  it('per kind: the site import\'s paths and template', () => {
    expect(templatePath('zh-CN', 'sites')).toBe('/imports/sites-template.xlsx?lang=zh')
    expect(templatePath('en-US', 'sites')).toBe('/imports/sites-template.xlsx?lang=en')
    expect(importPath(true, 'sites')).toBe('/imports/sites?dryRun=true')
    expect(importPath(false, 'sites')).toBe('/imports/sites?dryRun=false')
    expect([templateName('meters'), templateName('sites')]).toEqual(['meters-import.xlsx', 'sites-import.xlsx'])
  })
  it('the kind a route names: sites, else meters', () => {
    expect(importKind('sites')).toBe('sites')
    expect(importKind(['sites'])).toBe('sites')
    for (const other of [undefined, null, '', 'meters', 'SITES', 'gateways', ['meters']]) expect(importKind(other)).toBe('meters')
  })
  it('sizes', () => {
    expect(formatSize(512)).toBe('512 B')
    expect(formatSize(1536)).toBe('1.5 KB')
    expect(formatSize(IMPORT_LIMIT)).toBe('20.0 MB')
  })
})

describe('the import is offered', () => {
  const file = { name: 'm.csv', size: 100, lastModified: 1 }
  const key = fileKey(file)
  const clean = readImportAnswer(200, { dryRun: true, rows: 2, toCreate: 2, unchanged: 0 })
  it('after a clean dry run of the same file with meters to create', () => {
    expect(canCommit(clean, key, key)).toBe(true)
  })
  it('not after errors, another file, nothing to create, or no dry run', () => {
    expect(canCommit(readImportAnswer(422, { errors: [{ row: 2, column: 'A', field: '', message: 'x' }] }), key, key)).toBe(false)
    expect(canCommit(clean, key, fileKey({ ...file, lastModified: 2 }))).toBe(false)
    expect(canCommit(readImportAnswer(200, { dryRun: true, rows: 2, toCreate: 0, unchanged: 2 }), key, key)).toBe(false)
    expect(canCommit(null, '', key)).toBe(false)
    expect(canCommit(readImportAnswer(200, { dryRun: false, rows: 2, created: 2, toCreate: 2 }), key, key)).toBe(false)
  })
})
