// Exports as background jobs (docs/REPORTS.md "Large exports as jobs"): the readings export
// from Reports → 抄表明细 through the progress dialog, its file against the job's own count;
// stopping the wait; a refusal in the dialog; the meter monitor's export against
// `meters { total }` for the same filter, and the customers' and commands' list exports.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { BASE, apiLogin, browser, page, q, shot } from './lib.mjs'

let b
let admin
let tz
let today

const dateIn = (d) => new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d)
const daysBefore = (date, n) => new Date(Date.parse(`${date}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10)
const hideToasts = (p) => p.addStyleTag({ content: '.el-notification { display: none !important; }' })

/** A Python with openpyxl (`PYTHON`, else the first of python3 and the system's that has it). */
const python = (() => {
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean)) {
    try {
      execFileSync(py, ['-c', 'import openpyxl'], { stdio: 'ignore' })
      return py
    } catch {
      // try the next one
    }
  }
  return null
})()

/** The data rows of a workbook's first sheet: without the header and a last 合计 / Total row. */
function workbookRows(file) {
  assert.ok(python, 'a python3 with openpyxl (set PYTHON)')
  // openpyxl goes by the file's extension; playwright keeps downloads without one.
  copyFileSync(file, `${file}.xlsx`)
  file = `${file}.xlsx`
  const out = execFileSync(python, ['-c', `
import sys, json
from openpyxl import load_workbook
ws = load_workbook(sys.argv[1], read_only=True).worksheets[0]
rows = [r for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)]
print(json.dumps({"rows": len(rows), "first": str(rows[-1][0]) if rows else ""}))
`, file], { encoding: 'utf8' })
  const { rows, first } = JSON.parse(out)
  return rows - 1 - (/^(合计|Total)$/.test(first) ? 1 : 0)
}

/** A job's status as the API gives it to the same operator. */
async function jobStatus(id) {
  const res = await fetch(`${BASE}/exports/jobs/${id}`, { headers: { Authorization: `Bearer ${admin.accessToken}` } })
  assert.equal(res.status, 200)
  return res.json()
}

/** Holds the page's first `n` status calls for `ms` (the job's first answer stays on screen). */
async function holdStatus(p, ms, n = 1) {
  let seen = 0
  await p.route(/\/exports\/jobs\/[0-9a-f]+$/, async (route) => {
    if (seen++ < n) await new Promise((r) => setTimeout(r, ms))
    await route.continue().catch(() => undefined)
  })
}

const started = (p) => p.waitForResponse((r) => /\/exports\/jobs$/.test(r.url()) && r.request().method() === 'POST', { timeout: 30_000 })

before(async () => {
  b = await browser()
  admin = await apiLogin()
  tz = (await q(admin.accessToken, `{ tenant { timeZone } }`)).tenant.timeZone
  today = dateIn(new Date())
})
after(async () => {
  await b?.close()
})

test('the readings export runs as a job: progress, DONE, the file has the rows the job reported', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/reports?tab=readingsExport&from=${daysBefore(today, 6)}&to=${today}`)
  await hideToasts(p)
  await p.waitForSelector('[data-report=readings-export]')
  await holdStatus(p, 3000)
  const [startRes, d] = await Promise.all([
    started(p),
    p.waitForEvent('download', { timeout: 120_000 }),
    (async () => {
      await p.click('[data-report=readings-export] [data-test=export-xlsx]')
      // The job's first answer: running, rows 0 of the counted total, the server's file name.
      const running = await p.waitForSelector('[data-test=export-job][data-state=RUNNING]', { timeout: 10_000 })
      assert.match(await running.getAttribute('data-file'), /^readings-\d{8}-\d{6}\.xlsx$/)
      assert.match(await p.innerText('[data-test=export-job-file]'), /^readings-.*\.xlsx$/)
      assert.match(await p.innerText('[data-test=export-job-rows]'), /已写入 0 \/ [\d,]+ 行/)
      await shot(p, 'export-job-running')
    })(),
  ])
  const first = await startRes.json()
  assert.equal(startRes.status(), 202)
  assert.equal(first.state, 'RUNNING')
  assert.ok(first.total > 0, 'the demo has readings this week')
  assert.match(JSON.parse(startRes.request().postData()).path, /^\/exports\/readings\.xlsx\?from=.*&to=.*&lang=zh$/)

  await p.waitForSelector('[data-test=export-job][data-state=DONE] [data-test=export-job-done]', { timeout: 60_000 })
  assert.equal(await p.getAttribute('[data-test=export-job]', 'data-job-id'), first.id)
  await shot(p, 'export-job-done')
  assert.equal(await d.failure(), null)
  assert.equal(d.suggestedFilename(), first.file)
  const file = await d.path()
  assert.equal(readFileSync(file).subarray(0, 2).toString('latin1'), 'PK')

  const job = await jobStatus(first.id)
  assert.equal(job.state, 'DONE')
  assert.ok(job.url.startsWith(`/exports/jobs/${first.id}/file?link=`))
  assert.equal(Number(await p.getAttribute('[data-test=export-job]', 'data-rows')), job.rows)
  assert.equal(workbookRows(file), job.rows, 'the workbook holds the rows the job reported')
  await p.click('[data-test=export-job-close]')
  await p.waitForSelector('[data-test=export-job-dialog]', { state: 'hidden' })
  await p.close()
})

test('stopping the wait closes the dialog and downloads nothing; a refusal shows in the dialog', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/reports?tab=readingsExport&from=${today}&to=${today}`)
  await hideToasts(p)
  await p.waitForSelector('[data-report=readings-export]')
  await holdStatus(p, 2500, 100)
  let downloads = 0
  p.on('download', () => downloads++)
  const [res] = await Promise.all([started(p), p.click('[data-report=readings-export] [data-test=export-csv]')])
  const { id } = await res.json()
  await p.waitForSelector('[data-test=export-job][data-state=RUNNING]')
  await p.click('[data-test=export-job-cancel]')
  await p.waitForSelector('[data-test=export-job-dialog]', { state: 'hidden' })
  await p.waitForTimeout(4000)
  assert.equal(downloads, 0, 'no download after stopping the wait')
  // The server finishes the job all the same.
  assert.equal((await jobStatus(id)).state, 'DONE')
  await p.unroute(/\/exports\/jobs\/[0-9a-f]+$/)

  // Two years: refused at once with the server's words, no job.
  await p.goto(`${BASE}/reports?tab=readingsExport&from=${daysBefore(today, 730)}&to=${today}`)
  await p.waitForSelector('[data-report=readings-export]')
  const [refusal] = await Promise.all([started(p), p.click('[data-report=readings-export] [data-test=export-xlsx]')])
  assert.equal(refusal.status(), 400)
  const err = await p.waitForSelector('[data-test=export-job][data-state=refused] [data-test=export-job-error]')
  assert.match(await err.innerText(), /at most a year/)
  await shot(p, 'export-job-refused')
  await p.click('[data-test=export-job-close]')
  await p.close()
})

test('the meter monitor exports its filter: the file has meters { total } rows', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/monitor?status=ONLINE`)
  await hideToasts(p)
  await p.waitForSelector('[data-export=meters] [data-test=export-xlsx]')
  await p.waitForSelector('[data-meter]', { timeout: 30_000 })
  await shot(p, 'list-export-meters-list')
  const [res, d] = await Promise.all([started(p), p.waitForEvent('download', { timeout: 60_000 }), p.click('[data-export=meters] [data-test=export-xlsx]')])
  const path = JSON.parse(res.request().postData()).path
  assert.match(path, /^\/exports\/meters\.xlsx\?/)
  const params = new URL(path, BASE).searchParams
  assert.equal(params.get('status'), 'ONLINE')
  const { id } = await res.json()
  await p.waitForSelector('[data-test=export-job][data-state=DONE]', { timeout: 60_000 })
  await shot(p, 'list-export-meters')
  const file = await d.path()
  assert.equal(readFileSync(file).subarray(0, 2).toString('latin1'), 'PK')
  assert.match(d.suggestedFilename(), /^meters-.*\.xlsx$/)

  const filter = { status: 'ONLINE', ...(params.get('propertyId') ? { propertyId: params.get('propertyId') } : {}) }
  const { total } = (await q(admin.accessToken, `query($f: MeterFilter) { meters(filter: $f, page: 1, pageSize: 1) { total } }`, { f: filter })).meters
  const job = await jobStatus(id)
  const rows = workbookRows(file)
  assert.equal(rows, job.rows)
  assert.equal(rows, total, 'the export has every meter of the filter (meters { total })')
  await p.click('[data-test=export-job-close]')
  await p.close()
})

test('the customers and commands lists export their filters', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/customers`)
  await hideToasts(p)
  await p.waitForSelector('[data-test=customer-table] .el-table__row')
  const [d] = await Promise.all([p.waitForEvent('download', { timeout: 60_000 }), p.click('[data-export=customers] [data-test=export-csv]')])
  assert.equal(await d.failure(), null)
  const text = readFileSync(await d.path(), 'utf8')
  assert.equal(text[0], '\uFEFF')
  const lines = text.slice(1).split('\r\n').filter((l) => l !== '')
  assert.match(lines[0], /客户/)
  const all = (await q(admin.accessToken, `{ customers(page: 1, pageSize: 500) { total items { retiredAt } } }`)).customers
  if (all.total <= all.items.length) assert.equal(lines.length - 1, all.items.filter((c) => !c.retiredAt).length, 'one line per customer in use')
  await p.locator('[data-export=customers] [data-test=export-csv]').blur()
  await shot(p, 'list-export-customers')

  await p.goto(`${BASE}/commands`)
  await p.waitForSelector('[data-test=commands-table]')
  await p.click('[data-test=command-kind]')
  await p.click('.el-select-dropdown:visible .el-select-dropdown__item >> nth=4')
  const [d2] = await Promise.all([p.waitForEvent('download', { timeout: 60_000 }), p.click('[data-export=commands] [data-test=export-xlsx]')])
  assert.equal(await d2.failure(), null)
  assert.match(d2.url(), /\/exports\/commands\.xlsx\?kind=READ&lang=zh&link=/)
  assert.equal(readFileSync(await d2.path()).subarray(0, 2).toString('latin1'), 'PK')
  await p.locator('[data-export=commands] [data-test=export-xlsx]').blur()
  await shot(p, 'list-export-commands')
  await p.close()
})
