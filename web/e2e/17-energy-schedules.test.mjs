// Energy, demand, lost devices, the readings export, statements and scheduled reports (issue
// 19): the energy tab for today by hour and property — the table's sum row and every finished
// hour against `energyReport` with the same filters (the simulator keeps feeding the current
// hour: it is held between the API's answers before and after the page's own); the demand and
// lost-devices tabs against their queries; the readings export refused with the server's own
// message for a range over a year, then a CSV of one area; a demo account's statement opened
// from the customers screen, its closing balance against `account(id) { balance }`; an e-mail
// schedule created through the settings (a bad address refused in the form, nothing created),
// its next run shown in the tenant's zone, "send now" for yesterday until its run shows SENT in
// the runs drawer and a new .eml with its name lands in `<data-dir>/mail/`, then retired after
// a confirmation; a webhook schedule's secret shown once; an operator with settings but without
// the reports permission sees the tab's "no permission" state. Screenshots in both languages.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { BASE, apiLogin, browser, page, q, shot, until } from './lib.mjs'

const stamp = Date.now().toString(36)
const DATA = process.env.VOLTLEDGER_DATA ?? 'data'
const MAIL = join(DATA, 'mail')
const username = `e2e-sched-${stamp}`
const pass = `Sched-${stamp}-Pw1!`
let b
let admin
let tz
let today
let operatorId
const schedules = []

// Exact decimals as integer hundredths (kWh, yuan); the screen's "12,345.60".
const cents = (s) => {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(s).trim().replace(/,/g, ''))
  assert.ok(m, `a decimal: ${s}`)
  const frac = (m[3] ?? '').padEnd(2, '0')
  assert.ok(/^\d\d0*$/.test(frac), `two decimals at most: ${s}`)
  const v = BigInt(m[2]) * 100n + BigInt(frac.slice(0, 2))
  return m[1] ? -v : v
}
const sum = (xs) => xs.reduce((a, x) => a + cents(x), 0n)

const dateIn = (d) => new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d)
/** "2026-12-06 13:05" in the tenant's zone, as the portal writes instants. */
const localTime = (iso) => {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(new Date(iso)).map((x) => [x.type, x.value]))
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`
}
/** Local midnight of a date in the tenant's zone, as an RFC 3339 instant. */
function midnight(date) {
  const [y, m, d] = date.split('-').map(Number)
  const guess = Date.UTC(y, m - 1, d)
  const at = (t) => Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(new Date(t)).map((x) => [x.type, Number(x.value)]))
  const offset = (t) => {
    const l = at(t)
    return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute) - t
  }
  let t = guess - offset(guess)
  t = guess - offset(t)
  return new Date(t).toISOString()
}
const nextDay = (date) => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)

const hideToasts = (p) => p.addStyleTag({ content: '.el-notification { display: none !important; }' })
const ready = (p, report, extra = '') => p.waitForSelector(`[data-report=${report}][data-state=ready]${extra}`, { timeout: 30_000 })

/** Clicks the report's refresh and returns the page's own answer to it (same token). */
async function refreshed(p, report, operation) {
  const [res] = await Promise.all([
    p.waitForResponse((r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes(`"operationName":"${operation}"`), { timeout: 30_000 }),
    p.click(`[data-report=${report}] [data-test=report-refresh]`),
  ])
  const body = await res.json()
  assert.ok(!body.errors, JSON.stringify(body.errors))
  await ready(p, report)
  return { data: body.data, variables: JSON.parse(res.request().postData()).variables }
}

const ENERGY = `query($from: DateTime!, $to: DateTime!, $bucket: EnergyBucket!, $by: EnergyBy!, $propertyId: ID, $areaId: ID) {
  energyReport(from: $from, to: $to, bucket: $bucket, by: $by, propertyId: $propertyId, areaId: $areaId) { period key name total sharp peak flat valley } }`
const SCHEDULES = `{ reportSchedules { id name report params state nextRunAt channel recipients runs(first: 5) { id state periodFrom periodTo rowsSent } } }`

before(async () => {
  b = await browser()
  admin = await apiLogin()
  tz = (await q(admin.accessToken, `{ tenant { timeZone } }`)).tenant.timeZone
  today = dateIn(new Date())
  // Schedules and operators an interrupted run left behind.
  for (const s of (await q(admin.accessToken, SCHEDULES)).reportSchedules.filter((s) => s.name.startsWith('e2e-sched-')))
    await q(admin.accessToken, `mutation($id: ID!) { retireReportSchedule(id: $id) { id } }`, { id: s.id }).catch(() => undefined)
  for (const o of (await q(admin.accessToken, `{ operators { id username status } }`)).operators.filter((o) => o.username.startsWith('e2e-sched-') && o.status === 'ACTIVE'))
    await q(admin.accessToken, `mutation($id: ID!) { setOperatorActive(input: { id: $id, active: false }) { id } }`, { id: o.id }).catch(() => undefined)
})
after(async () => {
  for (const id of schedules) await q(admin.accessToken, `mutation($id: ID!) { retireReportSchedule(id: $id) { id } }`, { id }).catch(() => undefined)
  if (operatorId) await q(admin.accessToken, `mutation($id: ID!) { setOperatorActive(input: { id: $id, active: false }) { id } }`, { id: operatorId }).catch(() => undefined)
  await b?.close()
})

test('energy today by hour and property: the table against energyReport', async () => {
  const t = admin.accessToken
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/reports?tab=energy`)
  await hideToasts(p)
  await ready(p, 'energy')
  assert.match(await p.innerText('[data-test=energy-limits]'), /31 天.*400 天/)
  await p.click('[data-report=energy] [data-range=today]')
  await p.click('[data-report=energy] [data-test=energy-bucket] [data-bucket=HOUR]')
  await p.click('[data-report=energy] [data-test=energy-by] [data-by=PROPERTY]')
  const from = midnight(today)
  const to = midnight(nextDay(today))
  await ready(p, 'energy', `[data-from="${from}"][data-bucket=HOUR][data-by=PROPERTY]`)

  // The API before, the page's own answer, the API after (same token, same filters).
  const vars = { from, to, bucket: 'HOUR', by: 'PROPERTY', propertyId: null, areaId: null }
  const hourNow = localTime(new Date().toISOString()).slice(0, 13) + ':00'
  const before = (await q(t, ENERGY, vars)).energyReport
  const own = await refreshed(p, 'energy', 'EnergyReport')
  const afterApi = (await q(t, ENERGY, vars)).energyReport
  assert.deepEqual({ ...own.variables, propertyId: own.variables.propertyId ?? null, areaId: own.variables.areaId ?? null }, vars)
  const lines = own.data.energyReport
  assert.ok(lines.length > 0, 'the simulator fed readings today')

  // The screen: every row and the sums row exactly as the page's answer.
  const rows = await p.$$eval('[data-test=energy-table] .el-table__body-wrapper .el-table__row', (trs) =>
    trs.map((tr) => ({ period: tr.querySelector('[data-col=period]').textContent.trim(), key: tr.querySelector('[data-col=key]').getAttribute('data-key'), total: tr.querySelector('[data-col=total]').textContent.trim() })))
  assert.equal(rows.length, lines.length)
  rows.forEach((r, i) => {
    assert.equal(r.period, lines[i].period)
    assert.equal(r.key, lines[i].key)
    assert.equal(cents(r.total), cents(lines[i].total))
  })
  const footer = await p.$$eval('[data-test=energy-table] .el-table__footer-wrapper td', (tds) => tds.map((td) => td.textContent.trim()))
  const screenTotal = cents(footer[2])
  assert.equal(screenTotal, sum(lines.map((l) => l.total)), 'the sums row is the sum of the lines')
  assert.equal(cents(await p.innerText('[data-report=energy] b[data-total=total]')), screenTotal)
  for (const part of ['sharp', 'peak', 'flat', 'valley']) assert.equal(cents(footer[{ sharp: 3, peak: 4, flat: 5, valley: 6 }[part]]), sum(lines.map((l) => l[part])))

  // Finished hours are final: equal to the API's, line by line; the hour still running lies
  // between the API's answers before and after; so does the whole total.
  const finished = (ls) => ls.filter((l) => l.period < hourNow)
  assert.deepEqual(finished(lines), finished(before))
  assert.deepEqual(finished(lines), finished(afterApi))
  const apiBefore = sum(before.map((l) => l.total))
  const apiAfter = sum(afterApi.map((l) => l.total))
  assert.ok(apiBefore <= screenTotal && screenTotal <= apiAfter, `total ${screenTotal} within the API's ${apiBefore}…${apiAfter}`)
  if (apiBefore === apiAfter) assert.equal(screenTotal, apiBefore)
  await p.waitForSelector('[data-report=energy] canvas')
  await shot(p, 'reports-energy')
  await p.close()
})

test('demand and lost devices against their queries; the readings export', async () => {
  const t = admin.accessToken
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/reports?tab=demand`)
  await hideToasts(p)
  await ready(p, 'demand')
  const period = today.slice(0, 7)
  await ready(p, 'demand', `[data-period="${period}"]`)
  const own = await refreshed(p, 'demand', 'DemandReport')
  const api = (await q(t, `query($p: String!) { demandReport(period: $p) { meterId address basis registerDemand } }`, { p: period })).demandReport
  assert.equal(own.data.demandReport.length, api.length)
  const addresses = await p.$$eval('[data-test=demand-table] .el-table__body-wrapper [data-col=address]', (els) => els.map((e) => e.textContent.trim()))
  assert.deepEqual(addresses, api.map((l) => l.address))
  assert.equal(Number(await p.innerText('[data-report=demand] [data-total=meters]')), api.length)
  // The billed figure is marked where it came from.
  if (api.some((l) => l.registerDemand !== null)) assert.ok(await p.locator('[data-test=demand-table] [data-source=register]').count())
  await shot(p, 'reports-demand')

  await p.click('#tab-lost')
  await ready(p, 'lost')
  const lost = (await q(t, `{ lostDevicesReport { kind id label lastSeenAt } }`)).lostDevicesReport
  const labels = await p.$$eval('[data-test=lost-table] .el-table__body-wrapper [data-col=label]', (els) => els.map((e) => e.textContent.trim()))
  assert.deepEqual(labels, lost.map((l) => l.label))
  assert.equal(Number(await p.innerText('[data-report=lost] [data-total=meters]')), lost.filter((l) => l.kind === 'METER').length)
  await shot(p, 'reports-lost')

  // The readings export: a range over a year is refused with the server's own words.
  const yearAgo = `${Number(today.slice(0, 4)) - 2}${today.slice(4)}`
  await p.goto(`${BASE}/reports?tab=readingsExport&from=${yearAgo}&to=${today}`)
  await hideToasts(p)
  await p.waitForSelector('[data-report=readings-export]')
  await p.click('[data-report=readings-export] [data-test=export-csv]')
  // The export runs as a job: its refusal comes at once and shows in the job's dialog.
  const refused = await p.waitForSelector('[data-test=export-job][data-state=refused] [data-test=export-job-error]', { timeout: 30_000 })
  assert.match(await refused.innerText(), /at most a year/)
  await shot(p, 'reports-readings-export')
  await p.click('[data-test=export-job-close]')
  // Then one area for today: a CSV with its BOM and header.
  const area = (await q(t, `{ areas { id name retiredAt } }`)).areas.find((a) => !a.retiredAt)
  await p.goto(`${BASE}/reports?tab=readingsExport&from=${today}&to=${today}&area=${area.id}`)
  await p.waitForSelector('[data-report=readings-export]')
  const [d] = await Promise.all([p.waitForEvent('download', { timeout: 60_000 }), p.click('[data-report=readings-export] [data-test=export-csv]')])
  assert.equal(await d.failure(), null)
  const text = readFileSync(await d.path(), 'utf8')
  assert.equal(text[0], '\uFEFF')
  assert.ok(text.split('\r\n').length > 2, 'a header and readings')
  await p.waitForSelector('[data-test=export-job][data-state=DONE] [data-test=export-job-done]')
  await p.close()
})

test('a demo account statement from the customers screen: closing = account balance', async () => {
  const t = admin.accessToken
  const acc = (await q(t, `{ accounts(pageSize: 20) { items { id number state customerId } } }`)).accounts.items.find((a) => a.state === 'OPEN')
  const name = (await q(t, `query($id: ID!, $f: DateTime!, $t: DateTime!) { accountStatement(accountId: $id, from: $f, to: $t) { customerName } }`, { id: acc.id, f: midnight(today), t: midnight(nextDay(today)) })).accountStatement.customerName
  const customer = (await q(t, `query($q: String) { customers(q: $q, page: 1, pageSize: 20) { items { id name phone } } }`, { q: name })).customers.items.find((c) => c.id === acc.customerId)
  assert.ok(customer, `the customer ${name}`)
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/customers`)
  await hideToasts(p)
  await p.waitForSelector('[data-test=customer-table] .el-table__row')
  await p.fill('input[data-test=customer-search], [data-test=customer-search] input', customer.phone || customer.name)
  // The search reloads the list after a pause: pick the customer once it has.
  await p.waitForResponse((r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('"operationName":"Customers"'), { timeout: 10_000 }).catch(() => undefined)
  await p.waitForTimeout(300)
  await p.click(`[data-test=customer-table] .el-table__row >> text="${customer.name}"`)
  await p.waitForSelector(`[data-account="${acc.number}"] [data-test=statement]`)
  await p.click(`[data-account="${acc.number}"] [data-test=statement]`)
  await p.waitForURL(new RegExp(`/accounts/${acc.id}/statement`))
  await p.waitForSelector('[data-report=statement][data-state=ready]', { timeout: 30_000 })
  assert.equal(await p.innerText('[data-test=statement-account]'), acc.number)

  // Energy charges keep posting: look for a moment when the balance holds still around the
  // page's own answer; otherwise the closing lies between the balances before and after.
  const BAL = `query($id: ID!) { account(id: $id) { balance } }`
  let last
  for (let i = 0; i < 6; i++) {
    const before = (await q(t, BAL, { id: acc.id })).account.balance
    const [res] = await Promise.all([
      p.waitForResponse((r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('"operationName":"AccountStatement"'), { timeout: 30_000 }),
      p.reload(),
    ])
    const own = (await res.json()).data.accountStatement
    await p.waitForSelector('[data-report=statement][data-state=ready]', { timeout: 30_000 })
    const afterBal = (await q(t, BAL, { id: acc.id })).account.balance
    const screen = cents(await p.innerText('[data-test=statement-closing]'))
    assert.equal(screen, cents(own.closing))
    assert.equal(cents(await p.innerText('[data-sum=closing]')), screen)
    assert.equal(cents(own.opening) + cents(own.credits) + cents(own.debits), cents(own.closing))
    if (own.lines.length) assert.equal(cents(own.lines.at(-1).balance), cents(own.closing))
    const lo = cents(before) < cents(afterBal) ? cents(before) : cents(afterBal)
    const hi = cents(before) < cents(afterBal) ? cents(afterBal) : cents(before)
    assert.ok(lo <= screen && screen <= hi, `closing ${screen} within the balances ${before}…${afterBal}`)
    last = { before, afterBal, screen }
    if (before === afterBal) break
  }
  assert.equal(last.screen, cents(last.afterBal), `closing = account balance (${JSON.stringify(last, (_, v) => (typeof v === 'bigint' ? String(v) : v))})`)
  assert.ok(await p.locator('[data-test=statement-lines] [data-col=amount]').count() > 0)
  await p.emulateMedia({ media: 'print' })
  assert.equal(await p.locator('.statement-page .bar').isVisible(), false, 'the toolbar is not printed')
  await p.emulateMedia({ media: 'screen' })
  await shot(p, 'statement')
  await p.close()
})

test('an e-mail schedule: created in settings, sent now for yesterday, SENT and in the mail folder', async () => {
  const t = admin.accessToken
  const name = `e2e-sched-${stamp}`
  // New by time, not by name: the stand-in numbers its files from 1 again after a restart.
  const started = Date.now() - 1000
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/settings`)
  await hideToasts(p)
  await p.click('#tab-schedules')
  await p.waitForSelector('[data-test=schedule-table]')
  await p.click('[data-test=schedule-new]')
  await p.waitForSelector('[data-test=schedule-dialog] input[data-test=schedule-name]')
  await p.fill('[data-test=schedule-dialog] input[data-test=schedule-name]', name)
  const tags = p.locator('[data-test=schedule-dialog] input[data-test=schedule-recipients], [data-test=schedule-dialog] [data-test=schedule-recipients] input').first()
  // A bad address: refused in the form, nothing created.
  await tags.fill('finance-at-park')
  await tags.press('Enter')
  await p.click('[data-test=schedule-save]')
  assert.match(await p.innerText('[data-test=schedule-error]'), /finance-at-park/)
  assert.equal((await q(t, SCHEDULES)).reportSchedules.filter((s) => s.name === name).length, 0)
  await p.click('[data-test=schedule-dialog] .el-input-tag .el-tag__close')
  await tags.fill('finance@park.example.cn')
  await tags.press('Enter')
  assert.equal(await p.innerText('[data-test=schedule-params]'), 'bucket=DAY&by=CHANNEL')
  await shot(p, 'settings-schedule-new')
  await p.click('[data-test=schedule-save]')
  await p.waitForSelector(`[data-test=schedule-table] [data-schedule="${name}"]`)
  const created = (await q(t, SCHEDULES)).reportSchedules.find((s) => s.name === name)
  assert.ok(created, 'created')
  schedules.push(created.id)
  assert.deepEqual([created.report, created.params, created.channel, created.recipients, created.state], ['sales', 'bucket=DAY&by=CHANNEL', 'EMAIL', ['finance@park.example.cn'], 'ACTIVE'])
  const row = p.locator('[data-test=schedule-table] .el-table__body-wrapper .el-table__row', { has: p.locator(`[data-schedule="${name}"]`) })
  assert.equal((await row.locator('[data-col=next]').innerText()).trim(), localTime(created.nextRunAt), 'next run in the tenant zone')
  await shot(p, 'settings-schedules')

  // Send now: the dialog offers yesterday for a daily schedule.
  await p.locator(`[data-test=schedule-table] .el-table__fixed-body-wrapper .el-table__row, [data-test=schedule-table] .el-table__body-wrapper .el-table__row`).filter({ hasText: name }).locator('[data-test=schedule-run]').first().click()
  await p.waitForSelector('[data-test=schedule-run-dialog] [data-test=schedule-run-send]')
  const yesterday = dateIn(new Date(Date.parse(midnight(today)) - 3600_000))
  const range = await p.$$eval('[data-test=schedule-run-range] input', (els) => els.map((e) => e.value))
  assert.deepEqual(range, [yesterday, yesterday])
  await p.click('[data-test=schedule-run-send]')
  await p.waitForSelector('[data-test=schedule-runs-drawer] [data-run-state]', { timeout: 15_000 })
  await until(async () => (await p.locator('[data-test=schedule-runs-drawer] [data-run-state=SENT]').count()) > 0, { timeout: 90_000, every: 2000, what: 'the run SENT in the drawer' })
  const run = (await q(t, SCHEDULES)).reportSchedules.find((s) => s.id === created.id).runs[0]
  assert.equal(run.state, 'SENT')
  assert.equal(run.periodFrom.slice(0, 19), midnight(yesterday).slice(0, 19))
  await shot(p, 'settings-schedule-runs')

  // The demo's SMTP stand-in kept the message: a new .eml naming the schedule.
  const fresh = await until(() => (existsSync(MAIL) ? readdirSync(MAIL).filter((f) => f.endsWith('.eml') && statSync(join(MAIL, f)).mtimeMs >= started) : []).find((f) => readFileSync(join(MAIL, f), 'utf8').includes(name)), { timeout: 15_000, every: 1000, what: `an .eml naming ${name}` })
  const eml = readFileSync(join(MAIL, fresh), 'utf8')
  assert.match(eml, /finance@park\.example\.cn/)
  await p.keyboard.press('Escape')
  await p.waitForSelector('[data-test=schedule-runs-drawer]', { state: 'hidden' })

  // Retired after a confirmation (a cancelled one changes nothing).
  const retire = p.locator('[data-test=schedule-table] .el-table__row').filter({ hasText: name }).locator('[data-test=schedule-retire]').first()
  await retire.click()
  await p.click('.el-message-box__btns button:not(.el-button--primary)')
  assert.equal((await q(t, SCHEDULES)).reportSchedules.find((s) => s.id === created.id)?.state, 'ACTIVE')
  await retire.click()
  await p.click('.el-message-box__btns .el-button--primary')
  await until(async () => {
    const s = (await q(t, SCHEDULES)).reportSchedules.find((x) => x.id === created.id)
    return !s || s.state === 'RETIRED'
  }, { timeout: 10_000, every: 500, what: 'retired' })
  await p.close()
})

test('a webhook schedule shows its secret once; English screens', async () => {
  const t = admin.accessToken
  const name = `e2e-sched-${stamp}-hook`
  const p = await page(b, { tokens: admin, lang: 'en-US' })
  await p.goto(`${BASE}/settings`)
  await hideToasts(p)
  await p.click('#tab-schedules')
  await p.waitForSelector('[data-test=schedule-table]')
  await p.click('[data-test=schedule-new]')
  await p.fill('[data-test=schedule-dialog] input[data-test=schedule-name]', name)
  await p.click('[data-test=schedule-report]')
  await p.click('.el-select-dropdown__item[data-report-option=energy]')
  await p.click('[data-test=schedule-channel] [data-channel=WEBHOOK]')
  await p.fill('input[data-test=schedule-url]', 'http://127.0.0.1:9/voltledger-e2e')
  await p.click('[data-test=schedule-save]')
  const secret = (await (await p.waitForSelector('[data-test=schedule-secret-value]')).innerText()).trim()
  assert.ok(secret.length >= 16, 'a secret')
  await shot(p, 'settings-schedule-secret', 'en-US')
  await p.click('[data-test=schedule-secret-done]')
  const created = (await q(t, SCHEDULES)).reportSchedules.find((s) => s.name === name)
  schedules.push(created.id)
  assert.equal(created.params, 'bucket=DAY&by=PROPERTY')
  await p.waitForSelector('[data-test=schedule-secret-value]', { state: 'detached' })
  assert.ok(!(await p.content()).includes(secret), 'the secret is gone from the page')
  await p.waitForSelector(`[data-schedule="${name}"]`)
  await shot(p, 'settings-schedules', 'en-US')

  await p.goto(`${BASE}/reports?tab=energy&ebucket=HOUR`)
  await hideToasts(p)
  await p.click('[data-report=energy] [data-range=today]')
  await ready(p, 'energy', `[data-from="${midnight(today)}"]`)
  assert.match(await p.innerText('[data-test=energy-limits]'), /31 days/)
  await shot(p, 'reports-energy', 'en-US')
  await p.goto(`${BASE}/reports?tab=demand`)
  await ready(p, 'demand')
  await shot(p, 'reports-demand', 'en-US')
  await p.close()
})

test('settings without the reports permission: the schedules tab says so', async () => {
  const t = admin.accessToken
  const roles = (await q(t, `{ roles { id name permissions } }`)).roles
  let role = roles.find((r) => r.name === 'e2e-settings-no-reports')
  if (!role) role = (await q(t, `mutation($i: RoleInput!) { createRole(input: $i) { id name permissions } }`, { i: { name: 'e2e-settings-no-reports', permissions: ['SETTINGS'] } })).createRole
  assert.ok(!role.permissions.includes('REPORTS'))
  operatorId = (await q(t, `mutation($i: CreateOperatorInput!) { createOperator(input: $i) { id } }`, { i: { username, displayName: 'E2E schedules', password: pass, roleId: role.id } })).createOperator.id
  const tokens = await apiLogin(username, pass)
  const p = await page(b, { tokens })
  await p.goto(`${BASE}/settings`)
  await hideToasts(p)
  await p.click('#tab-schedules')
  await p.waitForSelector('[data-test=schedules-forbidden]')
  assert.equal(await p.locator('[data-test=schedule-table]').count(), 0)
  assert.match(await p.innerText('[data-test=schedules-forbidden]'), /报表/)
  await p.close()
})
