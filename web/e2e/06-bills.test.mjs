// Post-paid bills. The demo tenant has no post-paid meter, so the test sets one up through the
// API in a property of its own (with its own service fee): a post-paid meter on a new account
// with a property fee, sharing a simulated demo meter's energy (a shared-area group, 60 of
// 100 m²) — the bill's lines come from the simulator's readings of that meter, plus the
// service-fee line. A second post-paid account shares a meter that has no readings: the run
// refuses to bill it, and the screen lists why with links to fix it. Then from the screens:
// the bill run for that property, every line and the total against `bill(id)`, issue,
// re-issue (the old version kept), the payment — a wrong amount refused under its field with
// nothing changed, then amount, channel and reference, the receipt and the two ledger entries
// against the API — and the print view; a refusal (paying a superseded version) changes
// nothing. An operator limited to that property runs its bills (the property required). The
// accounts are closed, the meters and customers retired, the groups retired and the property's
// fee cleared and the property retired at the end (bills cannot be deleted: unique names).
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, apiLogin, browser, gql, page, q, shot, uiLogin, until } from './lib.mjs'

const stamp = Date.now().toString(36)
const digits = String(Date.now()).slice(-9)
const propertyName = `E2E Bills ${stamp}`
const scopedUser = `e2e-bills-${stamp}`
const scopedPass = `Bills-${stamp}-Pw9!x`
let b
let admin
let T
let period
let property // the test's own property (its service fee, its bill run)
let area
let scopedId
const made = { customers: [], meters: [], accounts: [], groups: [] }
let acc1 // billed: shares a demo meter
let acc2 // refused: shares a meter without readings
let meter3 // acc2's own meter (a fix-it link)

const BILL = `query($id: ID!) { bill(id: $id) { id accountId period version state total issuedAt paidAt lines { lineNo kind meterId description quantity unitPrice amount } } }`
const PAYMENTS = `query($a: ID!) { ledgerEntries(filter: { accountId: $a }, first: 50) { items { entry { id kind amount receiptNo note detail } } } }`
const payments = async (accountId) =>
  (await q(T, PAYMENTS, { a: accountId })).ledgerEntries.items.map((x) => x.entry).filter((e) => e.kind === 'BILL_PAYMENT' || e.kind === 'BILL_SETTLEMENT')
const fill = (p, test, value) => p.fill(`input[data-test="${test}"], [data-test="${test}"] input`, value)
const val = (p, test) => p.inputValue(`input[data-test="${test}"], [data-test="${test}"] input`)
const VERSIONS = `query($p: String!, $a: ID!) { bills(period: $p, accountId: $a) { id version state total } }`
const confirmBox = (p) => p.click('.el-message-box__btns .el-button--primary')
const money = (s) => {
  const neg = s.startsWith('-')
  const [i, f = ''] = s.replace('-', '').split('.')
  return (neg ? '-' : '') + i.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + '.' + (f + '00').slice(0, 2)
}
const text = async (p, sel) => (await p.innerText(sel)).trim()
/** Yuan string → fen (BigInt), and back. */
const fen = (s) => {
  const neg = s.startsWith('-')
  const [i, f = ''] = s.replace('-', '').split('.')
  const v = BigInt(i) * 100n + BigInt((f + '00').slice(0, 2))
  return neg ? -v : v
}
const yuan = (f) => `${f < 0n ? '-' : ''}${(f < 0n ? -f : f) / 100n}.${String((f < 0n ? -f : f) % 100n).padStart(2, '0')}`
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
  const base = await q(T, `{ tenant { timeZone } properties { id name retiredAt } meters(filter: {}, pageSize: 5) { items { id address accountId propertyId } } }`)
  period = currentPeriod(base.tenant.timeZone)
  // What an interrupted run left behind: its property (with its own fee) retired.
  for (const old of base.properties.filter((x) => /^E2E Bills /.test(x.name) && !x.retiredAt)) {
    await gql(T, `mutation($p: ID!) { setServiceFee(input: { propertyId: $p, clear: true }) { serviceFeePercent } }`, { p: old.id })
    await gql(T, `mutation($id: ID!) { retireProperty(input: { id: $id }) { id } }`, { id: old.id })
  }
  property = (await q(T, `mutation($n: String!) { createProperty(input: { name: $n, address: "E2E" }) { id name } }`, { n: propertyName })).createProperty
  area = (await q(T, `mutation($p: ID!) { createArea(input: { propertyId: $p, name: "E2E 区", floorArea: "100" }) { id } }`, { p: property.id })).createArea
  // Its own service fee: the bills get a SERVICE_FEE line (1.5% of the lines + 0.50).
  await q(T, `mutation($p: ID!) { setServiceFee(input: { propertyId: $p, percent: "1.5", fixed: "0.50" }) { serviceFeePercent } }`, { p: property.id })
  // A simulated demo meter (readings every few seconds) as the common meter.
  const common = base.meters.items.find((m) => m.accountId)
  const other = base.meters.items.find((m) => m.accountId && m.id !== common.id)
  acc1 = await postpaidAccount(`E2E 后付费 ${stamp}`, property.id, area.id, '88.50')
  made.groups.push(
    (
      await q(T, `mutation($i: CreateAllocationGroupInput!) { createAllocationGroup(input: $i) { id } }`, {
        i: { name: `E2E bill share ${stamp}`, meterId: common.id, method: 'AREA', members: [{ accountId: acc1.id, weight: '60' }, { accountId: other.accountId, weight: '40' }] },
      })
    ).createAllocationGroup.id,
  )
  // A common meter that never reported: its member cannot be billed.
  const silent = (
    await q(T, `mutation($i: RegisterMeterInput!) { registerMeter(input: $i) { meter { id address } } }`, {
      i: { propertyId: property.id, address: `94${digits}0`, phases: 1, linkType: 'FOUR_G', shopNo: `PP-${stamp}` },
    })
  ).registerMeter.meter
  made.meters.push(silent.id)
  acc2 = await postpaidAccount(`E2E 缺读数 ${stamp}`, property.id, area.id, '10')
  meter3 = acc2.meter
  made.groups.push(
    (
      await q(T, `mutation($i: CreateAllocationGroupInput!) { createAllocationGroup(input: $i) { id } }`, {
        i: { name: `E2E silent share ${stamp}`, meterId: silent.id, method: 'SHARES', members: [{ accountId: acc2.id, weight: '1' }] },
      })
    ).createAllocationGroup.id,
  )
})

after(async () => {
  // Closing the accounts releases their meters: later runs bill nothing of this test.
  for (const id of made.accounts) await gql(T, `mutation($id: ID!) { closeAccount(id: $id, note: "e2e") { receiptNo } }`, { id })
  for (const id of made.meters) await gql(T, `mutation($id: ID!) { retireMeter(input: { id: $id }) { id } }`, { id })
  for (const id of made.customers) await gql(T, `mutation($id: ID!) { retireCustomer(input: { id: $id }) { id } }`, { id })
  for (const id of made.groups) await gql(T, `mutation($id: ID!) { retireAllocationGroup(id: $id) { id } }`, { id })
  if (scopedId) await gql(T, `mutation($id: ID!) { setOperatorActive(input: { id: $id, active: false }) { id } }`, { id: scopedId })
  if (property) {
    await gql(T, `mutation($p: ID!) { setServiceFee(input: { propertyId: $p, clear: true }) { serviceFeePercent } }`, { p: property.id })
    if (area) await gql(T, `mutation($id: ID!) { retireArea(input: { id: $id }) { id } }`, { id: area.id })
    await gql(T, `mutation($id: ID!) { retireProperty(input: { id: $id }) { id } }`, { id: property.id })
  }
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

test('the bill run from the screen for one property, with the accounts it refused and where to fix them', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/bills`)
  await p.waitForSelector('[data-test=bill-table]')
  await p.click('[data-test=run-bills]')
  await setMonth(p, 'run-period', period)
  // An unscoped operator may run all properties or one: ours.
  await p.click('[data-test=run-property]')
  await p.waitForSelector('.el-select-dropdown__item:visible[data-property-option=""]')
  await p.click(`.el-select-dropdown__item:visible[data-property-option="${propertyName}"]`)
  await p.waitForSelector(`[data-test=run-scope-hint] >> text=/${propertyName}/`)
  await calm(p)
  await shot(p, 'bills-run')
  await p.click('[data-test=run-confirm]')
  await p.waitForSelector('[data-test=run-result]')
  assert.equal(await text(p, '[data-test=run-scope]'), propertyName)

  const bills = (await q(T, VERSIONS, { p: period, a: acc1.id })).bills
  assert.equal(bills.length, 1, 'one bill for the post-paid account')
  billId = bills[0].id
  assert.equal((await q(T, VERSIONS, { p: period, a: acc2.id })).bills.length, 0, 'none for the refused account')
  // The refusal as the server words it (the run recomputes refusals; it creates nothing again).
  const again = (await q(T, `mutation($p: String!, $prop: ID) { runBills(period: $p, propertyId: $prop) { created skipped { accountId reason } } }`, { p: period, prop: property.id })).runBills
  assert.equal(again.created, 0)
  const reason = again.skipped.find((s) => s.accountId === acc2.id)?.reason
  assert.ok(reason, 'the server refuses the account sharing a silent meter')
  const row = p.locator('[data-test=run-skipped] .el-table__row', { hasText: acc2.number })
  await row.waitFor()
  assert.equal(await p.locator('[data-test=run-skipped] .el-table__row').count(), again.skipped.length, 'the refusals of that property only')
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

test('a bill against bill(id): issue, re-issue with the old version kept, the payment with its receipt and entries, print', async () => {
  assert.ok(billId)
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/bills/${billId}`)
  let bill = (await q(T, BILL, { id: billId })).bill
  assert.ok(bill.lines.some((l) => l.kind === 'SHARED_AREA'), 'a shared-area line from the demo meter')
  assert.ok(bill.lines.some((l) => l.kind === 'PROPERTY_FEE' && l.amount === '88.50'), 'the property fee')
  // The property's own service fee: 1.5% of the other lines (to the fen, half away) + 0.50.
  const fee = bill.lines.find((l) => l.kind === 'SERVICE_FEE')
  assert.ok(fee, 'a service-fee line')
  const subtotal = bill.lines.filter((l) => l.kind !== 'SERVICE_FEE').reduce((a, l) => a + fen(l.amount), 0n)
  assert.equal(fen(fee.amount), (subtotal * 15n + 500n) / 1000n + 50n)
  await compareLines(p, bill)
  assert.equal(await text(p, '[data-test=bill-account-number]'), acc1.number)
  assert.equal(await text(p, `[data-test=bill-lines] [data-kind=SERVICE_FEE]`), '服务费')
  await p.waitForSelector('[data-subtotal=SERVICE_FEE] >> text=/服务费/')

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
  const refused = await gql(T, `mutation($id: ID!) { markBillPaid(id: $id) { bill { id } } }`, { id: billId })
  assert.equal(refused.errors?.[0]?.extensions?.code, 'CONFLICT')
  const old = (await q(T, BILL, { id: billId })).bill
  assert.equal(old.state, 'SUPERSEDED')
  assert.equal(old.paidAt, null)
  assert.deepEqual(await payments(acc1.id), [], 'no payment in the ledger')

  // Issue v2, then the payment: the dialog starts from the bill's total.
  await p.click('[data-test=issue-bill]')
  await confirmBox(p)
  await p.waitForSelector('[data-test=bill-state] >> text="已出账"')
  await p.click('[data-test=pay-bill]')
  assert.equal(await text(p, '[data-test=pay-total]'), money(bill.total))
  assert.equal(await val(p, 'pay-amount'), bill.total, 'the amount is prefilled with the total')
  // Another amount: the server's message under the amount; what was typed stays; nothing changed.
  const reference = `E2E-TR-${stamp}`
  await fill(p, 'pay-amount', yuan(fen(bill.total) + 1n))
  await p.click('[data-test=pay-channel] [data-channel=TRANSFER]')
  await fill(p, 'pay-reference', reference)
  await p.click('[data-test=pay-confirm]')
  const amountItem = p.locator('[data-test=pay-dialog] .el-form-item.is-error', { has: p.locator('[data-test=pay-amount]') })
  await amountItem.locator('.el-form-item__error >> text=/total/').waitFor()
  assert.equal(await val(p, 'pay-reference'), reference, 'what was typed stays')
  assert.equal(await val(p, 'pay-amount'), yuan(fen(bill.total) + 1n))
  const unpaid = (await q(T, BILL, { id: v2 })).bill
  assert.equal(unpaid.state, 'ISSUED')
  assert.equal(unpaid.paidAt, null)
  assert.deepEqual(await payments(acc1.id), [], 'refused: no ledger entry')
  await calm(p)
  await shot(p, 'bill-pay-refused')

  // The total, by transfer with its reference: the receipt and the two entries.
  await fill(p, 'pay-amount', bill.total)
  await p.click('[data-test=pay-confirm]')
  await p.waitForSelector('[data-test=pay-done]')
  const paid = (await q(T, BILL, { id: v2 })).bill
  assert.equal(paid.state, 'PAID')
  assert.ok(paid.paidAt)
  const entries = await payments(acc1.id)
  const received = entries.find((e) => e.kind === 'BILL_PAYMENT')
  const settled = entries.find((e) => e.kind === 'BILL_SETTLEMENT')
  assert.equal(entries.length, 2, 'one payment and one settlement')
  assert.equal(received.amount, bill.total)
  assert.equal(settled.amount, yuan(-fen(bill.total)))
  assert.ok(received.receiptNo, 'the payment has a receipt')
  assert.match(received.detail, new RegExp(`TRANSFER ${reference}`), 'the channel and reference are kept')
  assert.equal(await text(p, '[data-test=pay-receipt]'), String(received.receiptNo))
  assert.equal(await p.getAttribute('[data-test=pay-receipt]', 'href'), `/receipt/${received.receiptNo}`)
  assert.deepEqual(
    (await p.$$eval('[data-test=pay-entries] [data-entry-kind]', (els) => els.map((e) => e.getAttribute('data-entry-kind')))).sort(),
    ['BILL_PAYMENT', 'BILL_SETTLEMENT'],
  )
  assert.equal(await text(p, '[data-test=pay-entries] [data-entry-amount=BILL_PAYMENT]'), money(received.amount))
  assert.equal(await text(p, '[data-test=pay-entries] [data-entry-amount=BILL_SETTLEMENT]'), money(settled.amount))
  assert.equal(await text(p, '[data-test=pay-entries] [data-entry-kind=BILL_PAYMENT]'), '账单缴费')
  assert.equal(await text(p, '[data-test=pay-entries] [data-entry-kind=BILL_SETTLEMENT]'), '账单结清')
  await calm(p)
  await shot(p, 'bill-paid')
  await p.click('[data-test=pay-close]')
  await p.waitForSelector('[data-test=bill-state] >> text="已缴费"')
  // Paid once: a second payment is refused and records nothing.
  const twice = await gql(T, `mutation($id: ID!) { markBillPaid(id: $id) { bill { id } } }`, { id: v2 })
  assert.equal(twice.errors?.[0]?.extensions?.code, 'CONFLICT')
  assert.equal((await payments(acc1.id)).length, 2)
  // Nothing more is offered on a paid bill.
  for (const a of ['issue-bill', 'reissue-bill', 'pay-bill']) assert.equal(await p.locator(`[data-test=${a}]`).count(), 0, a)
  await calm(p)
  await shot(p, 'bill-detail')

  // The receipt the payment printed.
  await p.goto(`${BASE}/receipt/${received.receiptNo}`)
  await p.waitForSelector(`[data-test=receipt-number] >> text="${String(received.receiptNo).padStart(8, '0')}"`)

  // The superseded version: history only, nothing offered.
  await p.goto(`${BASE}/bills/${billId}`)
  await p.waitForSelector('[data-test=bill-version] >> text="v1"')
  for (const a of ['issue-bill', 'reissue-bill', 'pay-bill']) assert.equal(await p.locator(`[data-test=${a}]`).count(), 0, a)

  // The print view of the paid version, in Chinese and in English, service fee included.
  await p.goto(`${BASE}/bills/${v2}`)
  await p.click('[data-test=print-bill]')
  await p.waitForSelector('[data-test=bill-paper]')
  await p.waitForSelector(`[data-test=print-account] >> text="${acc1.number}"`)
  assert.equal(await text(p, '[data-test=print-total]'), money(paid.total))
  const amounts = await p.locator('[data-test=print-line-amount]').allInnerTexts()
  assert.deepEqual(amounts.map((x) => x.trim()), paid.lines.map((l) => money(l.amount)))
  assert.equal(await text(p, '[data-print-kind=SERVICE_FEE]'), '服务费')
  assert.equal(await text(p, '[data-test=print-state]'), '已缴费')
  assert.equal(await p.locator('[data-test=print-stamp]').count(), 0, 'no stamp on a paid bill')
  await shot(p, 'bill-print')
  await p.click('[data-test=print-lang] >> text="English"')
  await p.waitForSelector('[data-test=bill-paper] h1 >> text=/Electricity bill/')
  assert.equal(await text(p, '[data-print-kind=SERVICE_FEE]'), 'Service fee')
  await shot(p, 'bill-print', 'en-US')
  // The superseded version prints with its stamp.
  await p.goto(`${BASE}/bills/${billId}/print`)
  await p.waitForSelector('[data-test=print-stamp] >> text="Superseded"')
  await p.close()
})

test('an operator limited to the property runs its bills: the property required, no whole-tenant run', async () => {
  const finance = (await q(T, `{ roles { id name permissions } }`)).roles.find((r) => r.name === 'finance' && r.permissions.includes('REPORTS'))
  assert.ok(finance, 'the built-in finance role holds REPORTS')
  scopedId = (
    await q(T, `mutation($i: CreateOperatorInput!) { createOperator(input: $i) { id } }`, {
      i: { username: scopedUser, displayName: 'E2E bills', password: scopedPass, roleId: finance.id, propertyIds: [property.id] },
    })
  ).createOperator.id
  const p = await page(b)
  await uiLogin(p, { username: scopedUser, pass: scopedPass })
  await p.waitForSelector('[data-menu=bills]')
  const token = await p.evaluate(() => JSON.parse(localStorage.getItem('voltledger.tokens') ?? '{}').accessToken)
  // The API: a run naming no property is the tenant's, refused to them; theirs is run.
  const whole = await gql(token, `mutation($p: String!) { runBills(period: $p) { created } }`, { p: period })
  assert.ok(whole.errors?.length, 'a whole-tenant run is refused to a scoped operator')
  await p.goto(`${BASE}/bills`)
  await p.click('[data-test=run-bills]')
  await setMonth(p, 'run-period', period)
  // Their property is chosen; "all properties" is not offered.
  await p.waitForSelector(`[data-test=run-scope-hint] >> text=/${propertyName}/`)
  await p.click('[data-test=run-property]')
  await p.waitForSelector(`.el-select-dropdown__item:visible[data-property-option="${propertyName}"]`)
  assert.equal(await p.locator('.el-select-dropdown__item:visible[data-property-option=""]').count(), 0, 'no whole-tenant run offered')
  await p.keyboard.press('Escape')
  await p.click('[data-test=run-confirm]')
  await p.waitForSelector('[data-test=run-result]')
  assert.equal(await text(p, '[data-test=run-scope]'), propertyName)
  assert.equal(await text(p, '[data-test=run-created]'), '新生成 0 张')
  await p.locator('[data-test=run-skipped] .el-table__row', { hasText: acc2.number }).waitFor()
  // Their list holds their property's bills only: ours, as the API gives them to them.
  const theirs = (await q(token, `query($p: String) { bills(period: $p, page: 1, pageSize: 100) { id accountId } }`, { p: period })).bills
  assert.ok(theirs.length >= 1 && theirs.every((x) => x.accountId === acc1.id), 'only the property\'s bills')
  await calm(p)
  await shot(p, 'bills-scoped')
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
