// Post-paid bills. The demo tenant has no post-paid meter, so the test sets one up through the
// API: a post-paid meter on a new account with a property fee, sharing a simulated demo meter's
// energy (a shared-area group, 60 of 100 m²) — the bill's lines come from the simulator's
// readings of that meter. A second post-paid account shares a meter that has no readings: the
// run refuses to bill it, and the screen lists why with links to fix it. Then from the
// screens: the bill run, every line and the total against `bill(id)`, issue, re-issue (the old
// version kept), mark paid, the print view; a refusal (paying a superseded version) changes
// nothing. The accounts are closed and the meters and customers retired at the end (groups and
// bills cannot be deleted: unique names per run).
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, apiLogin, browser, gql, page, q, shot, until } from './lib.mjs'

const stamp = Date.now().toString(36)
const digits = String(Date.now()).slice(-9)
let b
let admin
let T
let period
const made = { customers: [], meters: [], accounts: [] }
let acc1 // billed: shares a demo meter
let acc2 // refused: shares a meter without readings
let meter3 // acc2's own meter (a fix-it link)

const BILL = `query($id: ID!) { bill(id: $id) { id accountId period version state total issuedAt paidAt lines { lineNo kind meterId description quantity unitPrice amount } } }`
const VERSIONS = `query($p: String!, $a: ID!) { bills(period: $p, accountId: $a) { id version state total } }`
const confirmBox = (p) => p.click('.el-message-box__btns .el-button--primary')
const money = (s) => {
  const neg = s.startsWith('-')
  const [i, f = ''] = s.replace('-', '').split('.')
  return (neg ? '-' : '') + i.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + '.' + (f + '00').slice(0, 2)
}
const text = async (p, sel) => (await p.innerText(sel)).trim()
/** Waits for the toasts to go, so screenshots show the screen. */
const calm = async (p) => {
  await p.waitForSelector('.el-message', { state: 'detached', timeout: 8000 }).catch(() => undefined)
  // The demo's live alarm toasts are not this screen's.
  await p.evaluate(() => document.querySelectorAll('.el-notification').forEach((n) => n.remove()))
}

/** The billing period ("YYYY-MM") now in the tenant's time zone. */
function currentPeriod(tz) {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit' }).formatToParts(new Date())
  return `${parts.find((x) => x.type === 'year').value}-${parts.find((x) => x.type === 'month').value}`
}

async function postpaidAccount(name, propertyId, areaId, fee) {
  const cust = (await q(T, `mutation($n: String!) { createCustomer(input: { name: $n, phone: "13900000000", shopNo: "PP" }) { id } }`, { n: name })).createCustomer
  made.customers.push(cust.id)
  const address = `93${digits}${made.meters.length}`
  const meter = (
    await q(T, `mutation($i: RegisterMeterInput!) { registerMeter(input: $i) { meter { id address } } }`, {
      i: { propertyId, areaId, customerId: cust.id, address, phases: 1, linkType: 'FOUR_G', billingMode: 'POST_PAID', shopNo: `PP-${stamp}` },
    })
  ).registerMeter.meter
  made.meters.push(meter.id)
  const account = (await q(T, `mutation($i: OpenAccountInput!) { openAccount(input: $i) { account { id number } } }`, { i: { customerId: cust.id, meterIds: [meter.id], propertyFee: fee } }))
    .openAccount.account
  made.accounts.push(account.id)
  return { ...account, meter }
}

before(async () => {
  b = await browser()
  admin = await apiLogin()
  T = admin.accessToken
  const base = await q(T, `{ tenant { timeZone } properties { id retiredAt } areas { id propertyId retiredAt } meters(filter: {}, pageSize: 5) { items { id address accountId propertyId } } }`)
  period = currentPeriod(base.tenant.timeZone)
  // A simulated demo meter (readings every few seconds) as the common meter.
  const common = base.meters.items.find((m) => m.accountId)
  const other = base.meters.items.find((m) => m.accountId && m.id !== common.id)
  const area = base.areas.find((a) => a.propertyId === common.propertyId && !a.retiredAt)
  acc1 = await postpaidAccount(`E2E 后付费 ${stamp}`, common.propertyId, area.id, '88.50')
  await q(T, `mutation($i: CreateAllocationGroupInput!) { createAllocationGroup(input: $i) { id } }`, {
    i: { name: `E2E bill share ${stamp}`, meterId: common.id, method: 'AREA', members: [{ accountId: acc1.id, weight: '60' }, { accountId: other.accountId, weight: '40' }] },
  })
  // A common meter that never reported: its member cannot be billed.
  const silent = (
    await q(T, `mutation($i: RegisterMeterInput!) { registerMeter(input: $i) { meter { id address } } }`, {
      i: { propertyId: common.propertyId, address: `94${digits}0`, phases: 1, linkType: 'FOUR_G', shopNo: `PP-${stamp}` },
    })
  ).registerMeter.meter
  made.meters.push(silent.id)
  acc2 = await postpaidAccount(`E2E 缺读数 ${stamp}`, common.propertyId, area.id, '10')
  meter3 = acc2.meter
  await q(T, `mutation($i: CreateAllocationGroupInput!) { createAllocationGroup(input: $i) { id } }`, {
    i: { name: `E2E silent share ${stamp}`, meterId: silent.id, method: 'SHARES', members: [{ accountId: acc2.id, weight: '1' }] },
  })
})

after(async () => {
  // Closing the accounts releases their meters: later runs bill nothing of this test.
  for (const id of made.accounts) await gql(T, `mutation($id: ID!) { closeAccount(id: $id, note: "e2e") { receiptNo } }`, { id })
  for (const id of made.meters) await gql(T, `mutation($id: ID!) { retireMeter(input: { id: $id }) { id } }`, { id })
  for (const id of made.customers) await gql(T, `mutation($id: ID!) { retireCustomer(input: { id: $id }) { id } }`, { id })
  await b?.close()
})

/** Sets an Element Plus month picker by typing. */
async function setMonth(p, test, value) {
  const input = p.locator(`input[data-test="${test}"], [data-test="${test}"] input`).first()
  await input.click()
  await input.fill(value)
  await input.press('Enter')
  await until(async () => (await input.inputValue()) === value, { timeout: 5000, every: 200, what: `${test} = ${value}` })
}

/** Every line on the detail screen against the API's bill. */
async function compareLines(p, bill) {
  await p.waitForSelector(`[data-test=bill-version] >> text="v${bill.version}"`)
  const rows = p.locator('[data-test=bill-lines] .el-table__body-wrapper .el-table__row')
  await until(async () => (await rows.count()) === bill.lines.length, { timeout: 10_000, every: 300, what: 'bill lines' })
  for (const [i, l] of bill.lines.entries()) {
    const row = rows.nth(i)
    assert.equal(await row.locator('[data-line]').innerText(), String(l.lineNo))
    assert.equal(await row.locator('[data-test=line-kind]').getAttribute('data-kind'), l.kind)
    assert.equal((await row.locator('[data-test=line-quantity]').innerText()).trim(), l.quantity)
    assert.equal((await row.locator('[data-test=line-price]').innerText()).trim(), l.unitPrice || '—')
    assert.equal((await row.locator('[data-test=line-amount]').innerText()).trim(), money(l.amount))
    assert.equal((await row.locator('[data-test=line-description]').innerText()).trim(), l.description)
  }
  assert.equal(await text(p, '[data-test=detail-total]'), money(bill.total))
}

let billId

test('the bill run from the screen, with the accounts it refused and where to fix them', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/bills`)
  await p.waitForSelector('[data-test=bill-table]')
  await p.click('[data-test=run-bills]')
  await setMonth(p, 'run-period', period)
  await p.click('[data-test=run-confirm]')
  await p.waitForSelector('[data-test=run-result]')

  const bills = (await q(T, VERSIONS, { p: period, a: acc1.id })).bills
  assert.equal(bills.length, 1, 'one bill for the post-paid account')
  billId = bills[0].id
  assert.equal((await q(T, VERSIONS, { p: period, a: acc2.id })).bills.length, 0, 'none for the refused account')
  // The refusal as the server words it (the run recomputes refusals; it creates nothing again).
  const again = (await q(T, `mutation($p: String!) { runBills(period: $p) { created skipped { accountId reason } } }`, { p: period })).runBills
  assert.equal(again.created, 0)
  const reason = again.skipped.find((s) => s.accountId === acc2.id)?.reason
  assert.ok(reason, 'the server refuses the account sharing a silent meter')
  const row = p.locator('[data-test=run-skipped] .el-table__row', { hasText: acc2.number })
  await row.waitFor()
  assert.equal((await row.locator('[data-test=skip-reason]').innerText()).trim(), reason)
  assert.equal(await row.locator('[data-test=fix-meter]').getAttribute('href'), `/meters/${meter3.id}`)
  assert.equal(await row.locator('[data-test=fix-meter]').innerText(), meter3.address)
  assert.equal(await row.locator('[data-test=fix-tariffs]').getAttribute('href'), '/tariffs')
  // The list shows the period's first page as the API gives it.
  const page1 = (await q(T, `query($p: String) { bills(period: $p, page: 1, pageSize: 20) { id total state } }`, { p: period })).bills
  await p.waitForSelector(`[data-bill="${page1[0].id}"]`)
  const shown = p.locator('[data-test=bill-table] .el-table__body-wrapper .el-table__row')
  assert.equal(await shown.count(), page1.length)
  for (const [i, x] of page1.entries()) assert.equal((await shown.nth(i).locator('[data-test=bill-total]').innerText()).trim(), money(x.total))
  await calm(p)
  await shot(p, 'bills')

  // The server's account search narrows the list to our account.
  await p.click('[data-test=bill-account]')
  await p.keyboard.type(acc1.number)
  await p.click(`.el-select-dropdown__item:visible[data-account-option="${acc1.number}"]`)
  await p.click('[data-test=bill-search]')
  await until(async () => (await shown.count()) === 1 && (await p.locator(`[data-bill="${billId}"]`).count()) === 1, { timeout: 10_000, every: 300, what: 'the account filter' })
  assert.equal((await shown.first().locator('[data-test=bill-total]').innerText()).trim(), money(bills[0].total))
  assert.equal((await shown.first().locator('[data-test=bill-state-tag]').innerText()).trim(), '草稿')
  await p.close()
})

test('a bill against bill(id): issue, re-issue with the old version kept, mark paid, print', async () => {
  assert.ok(billId)
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/bills/${billId}`)
  let bill = (await q(T, BILL, { id: billId })).bill
  assert.ok(bill.lines.some((l) => l.kind === 'SHARED_AREA'), 'a shared-area line from the demo meter')
  assert.ok(bill.lines.some((l) => l.kind === 'PROPERTY_FEE' && l.amount === '88.50'), 'the property fee')
  await compareLines(p, bill)
  assert.equal(await text(p, '[data-test=bill-account-number]'), acc1.number)

  // Issue (confirmed).
  await p.click('[data-test=issue-bill]')
  await confirmBox(p)
  await p.waitForSelector('[data-test=bill-state] >> text="已出账"')
  assert.equal((await q(T, BILL, { id: billId })).bill.state, 'ISSUED')

  // Re-issue: a new version; the old one superseded and listed.
  await p.click('[data-test=reissue-bill]')
  await confirmBox(p)
  await p.waitForURL((u) => !u.pathname.endsWith(billId))
  const versions = (await q(T, VERSIONS, { p: period, a: acc1.id })).bills
  assert.deepEqual(versions.map((v) => [v.version, v.state]), [[2, 'DRAFT'], [1, 'SUPERSEDED']])
  const v2 = versions[0].id
  assert.ok(p.url().endsWith(`/bills/${v2}`))
  bill = (await q(T, BILL, { id: v2 })).bill
  await compareLines(p, bill)
  await p.waitForSelector('[data-version-state="1"] >> text="已作废"')
  assert.equal(await text(p, '[data-version-total="1"]'), money(versions[1].total))

  // A refusal changes nothing: the superseded version cannot be paid (same token).
  const refused = await gql(T, `mutation($id: ID!) { markBillPaid(id: $id) { id } }`, { id: billId })
  assert.equal(refused.errors?.[0]?.extensions?.code, 'CONFLICT')
  const old = (await q(T, BILL, { id: billId })).bill
  assert.equal(old.state, 'SUPERSEDED')
  assert.equal(old.paidAt, null)

  // Issue v2, then mark it paid through the dialog (its total as the amount).
  await p.click('[data-test=issue-bill]')
  await confirmBox(p)
  await p.waitForSelector('[data-test=bill-state] >> text="已出账"')
  await p.click('[data-test=pay-bill]')
  assert.equal(await text(p, '[data-test=pay-amount]'), money(bill.total))
  await p.click('[data-test=pay-confirm]')
  await p.waitForSelector('[data-test=bill-state] >> text="已缴费"')
  const paid = (await q(T, BILL, { id: v2 })).bill
  assert.equal(paid.state, 'PAID')
  assert.ok(paid.paidAt)
  // Nothing more is offered on a paid bill.
  for (const a of ['issue-bill', 'reissue-bill', 'pay-bill']) assert.equal(await p.locator(`[data-test=${a}]`).count(), 0, a)
  await calm(p)
  await shot(p, 'bill-detail')

  // The superseded version: history only, nothing offered.
  await p.click('[data-version="1"]')
  await p.waitForSelector('[data-test=bill-version] >> text="v1"')
  for (const a of ['issue-bill', 'reissue-bill', 'pay-bill']) assert.equal(await p.locator(`[data-test=${a}]`).count(), 0, a)

  // The print view of the paid version, in Chinese and in English.
  await p.goto(`${BASE}/bills/${v2}`)
  await p.click('[data-test=print-bill]')
  await p.waitForSelector('[data-test=bill-paper]')
  await p.waitForSelector(`[data-test=print-account] >> text="${acc1.number}"`)
  assert.equal(await text(p, '[data-test=print-total]'), money(paid.total))
  const amounts = await p.locator('[data-test=print-line-amount]').allInnerTexts()
  assert.deepEqual(amounts.map((x) => x.trim()), paid.lines.map((l) => money(l.amount)))
  assert.equal(await text(p, '[data-test=print-state]'), '已缴费')
  assert.equal(await p.locator('[data-test=print-stamp]').count(), 0, 'no stamp on a paid bill')
  await shot(p, 'bill-print')
  await p.click('[data-test=print-lang] >> text="English"')
  await p.waitForSelector('[data-test=bill-paper] h1 >> text=/Electricity bill/')
  await shot(p, 'bill-print', 'en-US')
  // The superseded version prints with its stamp.
  await p.goto(`${BASE}/bills/${billId}/print`)
  await p.waitForSelector('[data-test=print-stamp] >> text="Superseded"')
  await p.close()
})

test('the bills screen in English', async () => {
  const p = await page(b, { lang: 'en-US', tokens: admin })
  await p.goto(`${BASE}/bills?period=${period}`)
  const page1 = (await q(T, `query($p: String) { bills(period: $p, page: 1, pageSize: 20) { id state } }`, { p: period })).bills
  await p.waitForSelector(`[data-bill="${page1[0].id}"]`)
  const states = await p.locator('[data-test=bill-table] [data-test=bill-state-tag]').allInnerTexts()
  const label = { DRAFT: 'Draft', ISSUED: 'Issued', PAID: 'Paid', SUPERSEDED: 'Superseded' }
  assert.deepEqual(states.map((s) => s.trim()), page1.map((x) => label[x.state]))
  await shot(p, 'bills', 'en-US')
  await p.close()
})
