// Reports (报表): two desk recharges (cash and transfer) through the API, then the sales report
// for today by channel — every line and the totals against `salesReport` with the same token,
// the Excel export a non-empty .xlsx (a zip), the CSV's BOM, Chinese header and lines against
// the API; an empty range shows the empty state and a range over three years the server's
// message; the meter-reading report for today against `meterReadingReport` (as many rows, the
// same meters, the usage total) and the arrears tab against `lowBalanceReport`, each account
// linked to its page at the sales desk; the English screens and an English CSV; an operator
// without the reports permission sees the readings and arrears but not the sales tab.
// The simulated meters keep reporting and settlement keeps charging: the screen is compared
// exactly with its own answer (the page's request, same token), and that answer with the
// API's before and after it (usage only grows, balances only fall, without recharges).
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { BASE, apiLogin, browser, gql, page, q, shot, until } from './lib.mjs'

const stamp = Date.now().toString(36)
const username = `e2e-reports-${stamp}`
const pass = `Reports-${stamp}-Pw1!`
let b
let admin
let tz
let today
let operatorId

// Exact money and kWh: API decimals as integer hundredths; the screen's "12,345.60".
const cents = (s) => {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(s).replace(/,/g, ''))
  assert.ok(m, `a decimal: ${s}`)
  const v = BigInt(m[2]) * 100n + BigInt((m[3] ?? '').padEnd(2, '0') || '0')
  return m[1] ? -v : v
}
const fmt = (c) => {
  const neg = c < 0n
  const a = neg ? -c : c
  const int = (a / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${neg ? '-' : ''}${int}.${(a % 100n).toString().padStart(2, '0')}`
}
const money = (s) => fmt(cents(s))
/** The server's CSV (BOM, quoted text, CRLF) as rows of fields. */
function parseCsv(text) {
  assert.equal(text[0], '\uFEFF', 'a UTF-8 BOM first')
  const rows = []
  let row = []
  let field = ''
  let quoted = false
  for (let i = 1; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++
      else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') row.push(field), (field = '')
    else if (c === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++
    else field += c
  }
  if (field || row.length) row.push(field), rows.push(row)
  return rows
}
const total = (xs) => xs.reduce((a, x) => a + (x === null || x === undefined ? 0n : cents(x)), 0n)

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

// Live alarm toasts of the simulated meters would cover the screenshots.
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

/** A download started by clicking `selector`: its name and bytes. */
async function downloaded(p, selector) {
  const [d] = await Promise.all([p.waitForEvent('download', { timeout: 30_000 }), p.click(selector)])
  assert.equal(await d.failure(), null)
  return { name: d.suggestedFilename(), bytes: readFileSync(await d.path()) }
}

const SALES = `query($from: DateTime!, $to: DateTime!, $bucket: SalesBucket!, $by: SalesBy!, $propertyId: ID) {
  salesReport(from: $from, to: $to, bucket: $bucket, by: $by, propertyId: $propertyId) { period key name count amount } }`
const READINGS = `query($from: DateTime!, $to: DateTime!, $propertyId: ID, $areaId: ID) {
  meterReadingReport(from: $from, to: $to, propertyId: $propertyId, areaId: $areaId) { meterId address accountNumber usage } }`
const LOW = `query($propertyId: ID, $includeLow: Boolean!) { lowBalanceReport(propertyId: $propertyId, includeLow: $includeLow) { accountId number customerName balance balanceState } }`

before(async () => {
  b = await browser()
  admin = await apiLogin()
  tz = (await q(admin.accessToken, `{ tenant { timeZone } }`)).tenant.timeZone
  today = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date())
  // Operators an interrupted run left behind.
  for (const o of (await q(admin.accessToken, `{ operators { id username status } }`)).operators.filter((o) => o.username.startsWith('e2e-reports-') && o.status === 'ACTIVE'))
    await q(admin.accessToken, `mutation($id: ID!) { setOperatorActive(input: { id: $id, active: false }) { id } }`, { id: o.id }).catch(() => undefined)
})
after(async () => {
  if (operatorId) await q(admin.accessToken, `mutation($id: ID!) { setOperatorActive(input: { id: $id, active: false }) { id } }`, { id: operatorId }).catch(() => undefined)
  await b?.close()
})

test('sales today by channel: lines and totals as salesReport, Excel and CSV exports', async () => {
  const t = admin.accessToken
  // Two desk recharges, cash and transfer, so today has both channels.
  const accounts = (await q(t, `{ accounts(pageSize: 20) { items { id number state } } }`)).accounts.items.filter((a) => a.state === 'OPEN')
  assert.ok(accounts.length >= 2, 'two open accounts')
  const RECHARGE = `mutation($i: RechargeInput!) { recharge(input: $i) { receiptNo entries { kind amount } } }`
  for (const [a, channel, amount] of [[accounts[0], 'CASH', '12.34'], [accounts[1], 'TRANSFER', '56.78']]) {
    const r = await q(t, RECHARGE, { i: { accountId: a.id, amount, channel, idempotencyKey: `e2e-reports-${stamp}-${channel}`, note: 'e2e reports' } })
    assert.ok(r.recharge.receiptNo > 0)
  }

  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/reports?tab=sales`)
  await hideToasts(p)
  await ready(p, 'sales')
  const from = midnight(today)
  const to = midnight(nextDay(today))
  await p.click('[data-report=sales] [data-range=today]')
  await p.click('[data-report=sales] [data-test=sales-by] [data-by=CHANNEL]')
  await p.click('[data-report=sales] [data-test=sales-bucket] [data-bucket=DAY]')
  await ready(p, 'sales', `[data-from="${from}"][data-to="${to}"][data-by=CHANNEL][data-bucket=DAY]`)

  // Online payments of the demo may arrive at any time: the screen, its own answer and the
  // API's, taken together until they agree.
  const vars = { from, to, bucket: 'DAY', by: 'CHANNEL', propertyId: null }
  let api
  await until(async () => {
    const own = await refreshed(p, 'sales', 'SalesReport')
    assert.equal(own.variables.from, from)
    assert.equal(own.variables.to, to)
    api = (await q(t, SALES, vars)).salesReport
    if (JSON.stringify(own.data.salesReport) !== JSON.stringify(api)) return false
    const rows = await p.$$eval('[data-test=sales-table] .el-table__body-wrapper .el-table__row', (trs) =>
      trs.map((tr) => ['period', 'key', 'count', 'amount'].map((c) => {
        const el = tr.querySelector(`[data-col=${c}]`)
        return c === 'key' ? el.getAttribute('data-key') : el.textContent.trim()
      })),
    )
    assert.deepEqual(rows, api.map((l) => [l.period, l.key, String(l.count), money(l.amount)]))
    return true
  }, { timeout: 60_000, every: 500, what: 'the sales table to equal salesReport' })
  const keys = api.map((l) => l.key)
  assert.ok(keys.includes('CASH') && keys.includes('TRANSFER'), `cash and transfer today: ${keys}`)
  assert.ok(api.every((l) => l.period === today))
  // The totals: tiles and the table's sums row.
  const count = api.reduce((n, l) => n + l.count, 0)
  const sum = fmt(total(api.map((l) => l.amount)))
  assert.equal(await p.innerText('[data-report=sales] [data-total=count]'), String(count))
  assert.equal(await p.innerText('[data-report=sales] [data-total=amount]'), sum)
  const foot = await p.$$eval('[data-test=sales-table] .el-table__footer-wrapper td', (tds) => tds.map((td) => td.textContent.trim()))
  assert.deepEqual(foot, ['合计', '', String(count), sum])
  for (const l of api) assert.match(await p.innerText(`[data-report=sales] [data-key-total="${l.key}"]`), new RegExp(money(l.amount).replace(/[.,]/g, '\\$&')))
  // The labels are the portal's words for the channels.
  assert.equal(await p.innerText('[data-test=sales-table] [data-key=CASH]'), '现金')
  assert.equal(await p.innerText('[data-test=sales-table] [data-key=TRANSFER]'), '转账')
  assert.equal(await p.locator('[data-report=sales] [data-chart] canvas').count(), 1)
  await shot(p, 'reports-sales')

  // Excel: a workbook (a zip: "PK"), named by the server.
  const xlsx = await downloaded(p, '[data-report=sales] [data-test=export-xlsx]')
  assert.match(xlsx.name, /^sales-\d{8}-\d{4}\.xlsx$/)
  assert.ok(xlsx.bytes.length > 100, 'a non-empty workbook')
  assert.equal(xlsx.bytes.subarray(0, 2).toString('latin1'), 'PK')
  // CSV: BOM, the Chinese header, the API's lines (unless a payment arrived meanwhile) and the sums.
  const csv = await downloaded(p, '[data-report=sales] [data-test=export-csv]')
  assert.match(csv.name, /^sales-\d{8}-\d{4}\.csv$/)
  const text = csv.bytes.toString('utf8')
  assert.ok(text.startsWith('\uFEFF"期间"'), JSON.stringify(text.slice(0, 40)))
  const rows = parseCsv(text)
  assert.deepEqual(rows[0], ['期间', '维度', '名称', '笔数', '金额(元)'])
  const apiNow = (await q(t, SALES, vars)).salesReport
  assert.deepEqual(rows.slice(1, -1), apiNow.map((l) => [l.period, l.key, l.name, String(l.count), l.amount]))
  assert.deepEqual(rows.at(-1), ['合计', '', '', String(apiNow.reduce((n, l) => n + l.count, 0)), fmt(total(apiNow.map((l) => l.amount))).replace(/,/g, '')])

  // A range without sales: the empty state; a range over three years: the server's refusal.
  await p.goto(`${BASE}/reports?tab=sales&from=2020-01-01&to=2020-01-31`)
  await ready(p, 'sales')
  assert.equal((await gql(t, SALES, { ...vars, from: midnight('2020-01-01'), to: midnight('2020-02-01') })).data.salesReport.length, 0)
  await p.waitForSelector('[data-report=sales] [data-test=report-empty]')
  assert.match(await p.innerText('[data-report=sales] [data-test=report-empty]'), /所选期间没有收款/)
  await p.goto(`${BASE}/reports?tab=sales&from=2020-01-01&to=${today}`)
  await p.waitForSelector('[data-report=sales][data-state=error]')
  const refusal = (await gql(t, SALES, { ...vars, from: midnight('2020-01-01') })).errors?.[0]?.message
  assert.ok(refusal, 'the API refuses more than three years')
  assert.ok((await p.innerText('[data-report=sales] [data-test=report-error]')).includes(refusal))
  assert.ok(await p.isDisabled('[data-report=sales] [data-test=export-xlsx]'), 'no export of a refused report')
  await shot(p, 'reports-sales-refused')
  await p.close()
})

test('meter readings today: the rows and usage total of meterReadingReport', async () => {
  const t = admin.accessToken
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/reports?tab=readings`)
  await hideToasts(p)
  await ready(p, 'readings')
  const from = midnight(today)
  const to = midnight(nextDay(today))
  await p.click('[data-report=readings] [data-range=today]')
  await ready(p, 'readings', `[data-from="${from}"][data-to="${to}"]`)

  const vars = { from, to, propertyId: null, areaId: null }
  await until(async () => {
    const before = (await q(t, READINGS, vars)).meterReadingReport
    const own = (await refreshed(p, 'readings', 'MeterReadingReport'))
    const after = (await q(t, READINGS, vars)).meterReadingReport
    assert.deepEqual({ ...own.variables, propertyId: own.variables.propertyId ?? null, areaId: own.variables.areaId ?? null }, vars)
    const mine = own.data.meterReadingReport
    // The screen is its answer, row for row, and the usage total.
    const rows = await p.$$eval('[data-test=readings-table] .el-table__body-wrapper .el-table__row', (trs) =>
      trs.map((tr) => [tr.querySelector('[data-col=address]').textContent.trim(), tr.querySelector('[data-col=usage]').textContent.trim()]),
    )
    assert.deepEqual(rows, mine.map((l) => [l.address, l.usage === null ? '—' : money(l.usage)]))
    const usage = fmt(total(mine.map((l) => l.usage)))
    assert.equal(await p.innerText('[data-report=readings] [data-total=usage]'), usage)
    assert.equal(await p.innerText('[data-report=readings] [data-total=meters]'), String(mine.length))
    const foot = await p.$$eval('[data-test=readings-table] .el-table__footer-wrapper td', (tds) => tds.map((td) => td.textContent.trim()))
    assert.equal(foot.at(-1), usage)
    // And the API's, taken just before and after: the same meters; usage only grows.
    if (before.length !== mine.length || after.length !== mine.length) return false
    assert.deepEqual(mine.map((l) => l.address), before.map((l) => l.address))
    const [u0, u1, u2] = [before, mine, after].map((r) => total(r.map((l) => l.usage)))
    assert.ok(u0 <= u1 && u1 <= u2, `usage ${u0} ≤ ${u1} ≤ ${u2}`)
    return u1 > 0n
  }, { timeout: 60_000, every: 1000, what: 'the readings to equal meterReadingReport' })
  const n = await p.locator('[data-test=readings-table] .el-table__body-wrapper .el-table__row').count()
  assert.equal(n, (await q(t, READINGS, vars)).meterReadingReport.length)
  await shot(p, 'reports-readings')

  const csv = await downloaded(p, '[data-report=readings] [data-test=export-csv]')
  assert.match(csv.name, /^meter-readings-\d{8}-\d{4}\.csv$/)
  const rows = parseCsv(csv.bytes.toString('utf8'))
  assert.deepEqual(rows[0], ['表地址', '户号', '客户', '倍率', '起始读数(kWh)', '起始时间', '结束读数(kWh)', '结束时间', '用电量(kWh)'])
  assert.equal(rows.length, n + 2, 'header, one line per meter, sums')
  assert.equal(rows.at(-1)[0], '合计')
  const xlsx = await downloaded(p, '[data-report=readings] [data-test=export-xlsx]')
  assert.equal(xlsx.bytes.subarray(0, 2).toString('latin1'), 'PK')
  await p.close()
})

test('arrears and low balances as lowBalanceReport, linked to the accounts', async () => {
  const t = admin.accessToken
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/reports?tab=arrears`)
  await hideToasts(p)
  await ready(p, 'arrears', '[data-include-low=true]')
  const vars = { propertyId: null, includeLow: true }
  let mine
  await until(async () => {
    const before = (await q(t, LOW, vars)).lowBalanceReport
    const own = await refreshed(p, 'arrears', 'LowBalanceReport')
    const after = (await q(t, LOW, vars)).lowBalanceReport
    assert.equal(own.variables.includeLow, true)
    mine = own.data.lowBalanceReport
    const rows = await p.$$eval('[data-test=arrears-table] .el-table__body-wrapper .el-table__row', (trs) =>
      trs.map((tr) => ['number', 'customer', 'balance'].map((c) => tr.querySelector(`[data-col=${c}]`).textContent.trim()).concat(tr.querySelector('[data-col=state]').getAttribute('data-balance-state'))),
    )
    assert.deepEqual(rows, mine.map((l) => [l.number, l.customerName || '—', money(l.balance), l.balanceState]))
    assert.equal(await p.innerText('[data-report=arrears] [data-total=accounts]'), String(mine.length))
    assert.equal(await p.innerText('[data-report=arrears] [data-total=balance]'), fmt(total(mine.map((l) => l.balance))))
    // The API's before and after: the same accounts in the same states; balances only fall.
    const byNumber = (r) => Object.fromEntries(r.map((l) => [l.number, l]))
    const [b0, b2] = [byNumber(before), byNumber(after)]
    if (mine.some((l) => !b0[l.number] || !b2[l.number] || b0[l.number].balanceState !== l.balanceState || b2[l.number].balanceState !== l.balanceState)) return false
    if (before.length !== mine.length || after.length !== mine.length) return false
    for (const l of mine) assert.ok(cents(b0[l.number].balance) >= cents(l.balance) && cents(l.balance) >= cents(b2[l.number].balance), `${l.number} balance`)
    return mine.length > 0
  }, { timeout: 60_000, every: 1000, what: 'the arrears tab to equal lowBalanceReport' })
  // States in words, the portal's balance-state labels.
  const first = mine[0]
  const label = { LOW_1: '低于报警1', LOW_2: '低于报警2', ARREARS: '欠费', EXHAUSTED: '透支用尽' }[first.balanceState]
  assert.equal(await p.innerText('[data-test=arrears-table] .el-table__body-wrapper .el-table__row >> nth=0 >> [data-col=state]'), label)
  await shot(p, 'reports-arrears')

  // Without the low ones: arrears and exhausted only, as the API answers.
  await p.click('[data-test=include-low]')
  await ready(p, 'arrears', '[data-include-low=false]')
  await until(async () => {
    const own = await refreshed(p, 'arrears', 'LowBalanceReport')
    assert.equal(own.variables.includeLow, false)
    const api = (await q(t, LOW, { ...vars, includeLow: false })).lowBalanceReport
    const numbers = await p.$$eval('[data-test=arrears-table] .el-table__body-wrapper [data-col=number]', (els) => els.map((e) => e.textContent.trim()))
    assert.ok(own.data.lowBalanceReport.every((l) => l.balanceState === 'ARREARS' || l.balanceState === 'EXHAUSTED'))
    return JSON.stringify(numbers) === JSON.stringify(api.map((l) => l.number))
  }, { timeout: 30_000, every: 1000, what: 'arrears only' })
  const csv = await downloaded(p, '[data-report=arrears] [data-test=export-csv]')
  assert.deepEqual(parseCsv(csv.bytes.toString('utf8'))[0], ['户号', '客户', '电话', '余额(元)', '状态'])
  await p.click('[data-test=include-low]')
  await ready(p, 'arrears', '[data-include-low=true]')

  // The account's page: the sales desk with its balance.
  await p.click(`[data-test=arrears-table] a[data-col=number]:text-is("${first.number}")`)
  await p.waitForURL(new RegExp(`/sales\\?account=${first.accountId}`))
  await p.waitForSelector('[data-test=balance]')
  await p.close()
})

test('the English screens and exports', async () => {
  const p = await page(b, { tokens: admin, lang: 'en-US' })
  await p.goto(`${BASE}/reports?tab=sales`)
  await hideToasts(p)
  await p.click('[data-report=sales] [data-range=today]')
  await ready(p, 'sales', `[data-from="${midnight(today)}"]`)
  assert.equal(await p.innerText('[data-test=sales-table] [data-key=CASH]'), 'Cash')
  await shot(p, 'reports-sales', 'en-US')
  const csv = await downloaded(p, '[data-report=sales] [data-test=export-csv]')
  assert.deepEqual(parseCsv(csv.bytes.toString('utf8'))[0], ['Period', 'Key', 'Name', 'Count', 'Amount (yuan)'])

  await p.click('#tab-readings')
  await ready(p, 'readings')
  await p.click('[data-report=readings] [data-range=today]')
  await ready(p, 'readings', `[data-from="${midnight(today)}"]`)
  await shot(p, 'reports-readings', 'en-US')
  await p.click('#tab-arrears')
  await ready(p, 'arrears')
  assert.match(await p.innerText('[data-test=arrears-table] .el-table__body-wrapper'), /Below alarm|Arrears|Credit used up/)
  await shot(p, 'reports-arrears', 'en-US')
  await p.close()
})

test('without the reports permission: readings and arrears, no sales', async () => {
  const t = admin.accessToken
  const role = (await q(t, `{ roles { id name permissions } }`)).roles.find((r) => r.name === 'operator' && !r.permissions.includes('REPORTS'))
  assert.ok(role, 'the built-in operator role (no REPORTS)')
  operatorId = (await q(t, `mutation($i: CreateOperatorInput!) { createOperator(input: $i) { id } }`, { i: { username, displayName: 'E2E reports', password: pass, roleId: role.id } })).createOperator.id
  const tokens = await apiLogin(username, pass)
  const refused = await gql(tokens.accessToken, SALES, { from: midnight(today), to: midnight(nextDay(today)), bucket: 'DAY', by: 'CHANNEL' })
  assert.equal(refused.errors?.[0]?.extensions?.code, 'FORBIDDEN')

  const p = await page(b, { tokens })
  await p.goto(`${BASE}/dashboard`)
  await p.waitForSelector('[data-menu=reports]')
  await p.click('[data-menu=reports]')
  await ready(p, 'readings')
  assert.equal(await p.locator('#tab-sales').count(), 0, 'no sales tab')
  assert.ok(await p.locator('#tab-arrears').count())
  // Asked for by its address, the sales tab is not offered either.
  await p.goto(`${BASE}/reports?tab=sales`)
  await ready(p, 'readings')
  assert.equal(await p.locator('[data-report=sales]').count(), 0)
  await p.close()
})
