// Payees and payments: a WeChat sub-merchant payee created for a property (a bad merchant number
// refused under its field, what was typed kept, nothing created), its Alipay app keys entered
// once (a bad key refused; after saving the form is empty and the API never gives the secret
// back); the takings summary, a reconciliation run and the payment differences against the
// API's answers to the same token. Payees cannot be retired (NOTES-API.md): each run adds one
// with a unique name.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { BASE, apiLogin, browser, page, q, shot, until } from './lib.mjs'

const stamp = Date.now().toString(36)
const payeeName = `E2E Payee ${stamp}`
const mchid = `19${String(Date.now()).slice(-8)}`
const appId = `2021${String(Date.now()).slice(-12)}`
const sellerId = `2088${String(Date.now()).slice(-12)}`
const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
})
let b
let admin
let property
let tz

const fill = (p, test, value) => p.fill(`input[data-test="${test}"], textarea[data-test="${test}"], [data-test="${test}"] input, [data-test="${test}"] textarea`, value)
const val = (p, test) => p.inputValue(`input[data-test="${test}"], textarea[data-test="${test}"], [data-test="${test}"] input, [data-test="${test}"] textarea`)
// Live alarm toasts of the demo's simulated meters would cover the screenshots.
const hideToasts = (p) => p.addStyleTag({ content: '.el-notification, .el-message { display: none !important; }' })
const PAYEES = `{ payees { id name mode subMchid propertyId areaId createdAt credentials { channel appId merchantId serial verifyKeyIds updatedAt } } }`
const ourPayee = async () => (await q(admin.accessToken, PAYEES)).payees.find((x) => x.name === payeeName)

/** "YYYY-MM-DD" of an instant in `zone`. */
function localDate(d, zone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d)
}
/** The UTC instant of local midnight of `date` in `zone`. */
function midnight(date, zone) {
  const [y, m, d] = date.split('-').map(Number)
  const guess = Date.UTC(y, m - 1, d)
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(guess))
  const get = (t) => Number(parts.find((p) => p.type === t).value)
  const offset = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second')) - guess
  return new Date(guess - offset)
}

before(async () => {
  b = await browser()
  admin = await apiLogin()
  const r = await q(admin.accessToken, `{ tenant { timeZone } properties { id name retiredAt } }`)
  tz = r.tenant.timeZone
  property = r.properties.filter((x) => !x.retiredAt).sort((a, c) => a.name.localeCompare(c.name))[0]
  assert.ok(property, 'the demo has a property')
})
after(async () => {
  await b?.close()
})

test('a sub-merchant payee for a property; Alipay keys entered once and never given back', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/payees`)
  await p.waitForSelector('[data-test=payee-table]')
  const before = (await q(admin.accessToken, PAYEES)).payees.length

  await p.click('[data-test=new-payee]')
  await fill(p, 'payee-name', payeeName)
  await fill(p, 'payee-mchid', '12ab')
  await p.click('[data-test=payee-property]')
  await p.click(`.el-select-dropdown__item:visible >> text="${property.name}"`)
  await p.click('[data-test=save-payee]')
  await p.waitForSelector('[data-test=payee-dialog] .el-form-item__error')
  assert.match(await p.innerText('[data-test=payee-dialog] .el-form-item.is-error'), /8 to 16 digits/)
  assert.equal(await val(p, 'payee-name'), payeeName, 'what was typed stays')
  assert.equal((await q(admin.accessToken, PAYEES)).payees.length, before, 'nothing created')

  await fill(p, 'payee-mchid', mchid)
  await p.click('[data-test=save-payee]')
  await p.waitForSelector(`[data-test=payee-table] [data-payee="${payeeName}"]`)
  const payee = await ourPayee()
  assert.ok(payee)
  assert.equal(payee.mode, 'PARTNER')
  assert.equal(payee.subMchid, mchid)
  assert.equal(payee.propertyId, property.id)
  const row = `[data-test=payee-table] .el-table__row:has([data-payee="${payeeName}"])`
  assert.match(await p.innerText(row), new RegExp(property.name))
  assert.equal(await p.locator(`${row} [data-test=wechat-keys]`).count(), 0, 'a sub-merchant has no WeChat keys of its own')

  // The Alipay app: a bad private key is refused under its field; the rest stays.
  await p.click(`${row} [data-test=alipay-keys]`)
  await fill(p, 'ali-appid', appId)
  await fill(p, 'ali-seller', sellerId)
  await fill(p, 'ali-private', 'not a key')
  await fill(p, 'ali-public', publicKey)
  await p.click('[data-test=save-alipay]')
  await p.waitForSelector('[data-test=alipay-dialog] .el-form-item__error')
  assert.equal(await val(p, 'ali-appid'), appId)
  assert.equal((await ourPayee()).credentials.length, 0, 'nothing stored')

  await fill(p, 'ali-private', privateKey)
  await p.click('[data-test=save-alipay]')
  await p.waitForSelector('[data-test=alipay-dialog]', { state: 'hidden' })
  await p.waitForSelector(`${row} [data-cred=ALIPAY]`)
  const stored = await ourPayee()
  const ali = stored.credentials.find((c) => c.channel === 'ALIPAY')
  assert.equal(ali.appId, appId)
  assert.equal(ali.merchantId, sellerId)
  // The secret never comes back: not in the API's answer, not on the screen.
  const answer = JSON.stringify(await q(admin.accessToken, PAYEES))
  const body = privateKey.split('\n')[1]
  assert.ok(!answer.includes('PRIVATE KEY') && !answer.includes(body), 'the API does not return the private key')
  assert.ok(!(await p.content()).includes(body), 'the page does not hold the private key')
  assert.match(await p.innerText(`${row} [data-cred-ids=ALIPAY]`), new RegExp(appId))
  assert.match(await p.innerText(`${row} [data-cred=ALIPAY]`), new RegExp(`设置于 ${localDate(new Date(ali.updatedAt), tz)}`), '"set on" the API\'s date')
  // Opened again, the form is empty of secrets; the ids the API gives are filled in.
  await p.click(`${row} [data-test=alipay-keys]`)
  assert.equal(await val(p, 'ali-private'), '')
  assert.equal(await val(p, 'ali-public'), '')
  assert.equal(await val(p, 'ali-appid'), appId)
  await p.click('[data-test=alipay-dialog] .el-dialog__headerbtn')
  await p.waitForSelector('[data-test=alipay-dialog]', { state: 'hidden' })
  await hideToasts(p)
  await shot(p, 'payees')
  await p.close()
})

test('takings, a reconciliation run and payment differences match the API', async () => {
  const payee = await ourPayee()
  assert.ok(payee)
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/payees`)
  await p.click('.el-tabs__item >> text=收款汇总')
  await p.waitForSelector('[data-test=summary-table] [data-summary]')
  // The screen's default period: this month so far in the tenant's time zone.
  const today = localDate(new Date(), tz)
  const from = midnight(`${today.slice(0, 8)}01`, tz)
  const to = new Date(midnight(today, tz).getTime() + 86_400_000 * 1.5)
  const api = (await q(admin.accessToken, `query($f: DateTime!, $t: DateTime!) { paymentSummary(from: $f, to: $t) { payeeId payments paid refunded net byChannel { channel payments paid } } }`, { f: from.toISOString(), t: midnight(localDate(to, tz), tz).toISOString() })).paymentSummary
  const money = (s) => Number(s).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
  const shown = await p.$$eval('[data-test=summary-table] > .el-table__inner-wrapper > .el-table__body-wrapper tr.el-table__row', (rows) =>
    rows.map((r) => ({ id: r.querySelector('[data-summary]')?.getAttribute('data-summary'), payments: r.querySelector('[data-col=payments]')?.textContent, paid: r.querySelector('[data-col=paid]')?.textContent, net: r.querySelector('[data-col=net]')?.textContent })).filter((x) => x.id),
  )
  assert.equal(shown.length, api.length, 'one row per payee')
  for (const s of api) {
    const r = shown.find((x) => x.id === s.payeeId)
    assert.ok(r, `payee ${s.payeeId} shown`)
    assert.equal(r.payments, String(s.payments))
    assert.equal(r.paid, money(s.paid))
    assert.equal(r.net, money(s.net))
  }
  assert.ok(shown.some((x) => x.id === payee.id), 'the new payee is in the summary')

  // A reconciliation of yesterday, run from the screen. The new payee's Alipay app points at
  // the real Alipay, which a test server cannot reach: the server's refusal is shown in the
  // dialog and nothing is stored. The demo's own payee (seeded with a local channel) works.
  const demo = (await q(admin.accessToken, PAYEES)).payees.find((x) => !x.name.startsWith('E2E '))
  assert.ok(demo, 'the demo has its own payee')
  await p.click('.el-tabs__item >> text=对账记录')
  await p.click('[data-test=run-reconcile]')
  await p.click('[data-test=run-payee]')
  await p.click(`.el-select-dropdown__item:visible >> text="${payeeName}"`)
  await p.click('[data-test=save-run]')
  await p.waitForSelector('[data-test=run-dialog] .el-alert--error')
  assert.match(await p.innerText('[data-test=run-dialog] .el-alert--error'), /could not be fetched/)
  const none = (await q(admin.accessToken, `query($p: ID) { reconciliations(payeeId: $p) { date } }`, { p: payee.id })).reconciliations
  assert.equal(none.length, 0, 'a refused run stores nothing')
  await p.click('[data-test=run-payee]')
  await p.click(`.el-select-dropdown__item:visible >> text="${demo.name}"`)
  const started = Date.now()
  await p.click('[data-test=save-run]')
  await p.waitForSelector('[data-test=run-dialog]', { state: 'hidden' })
  const recs = await until(async () => {
    const r = (await q(admin.accessToken, `query($p: ID) { reconciliations(payeeId: $p) { payeeId date ranAt billRows matched discrepancies { kind } } }`, { p: demo.id })).reconciliations
    return r.some((x) => new Date(x.ranAt).getTime() >= started - 5000) && r
  }, { timeout: 10_000, every: 500, what: 'the reconciliation stored' })
  const rec = recs.find((x) => new Date(x.ranAt).getTime() >= started - 5000)
  const key = `${rec.payeeId}|${rec.date}`
  await p.waitForSelector(`[data-test=rec-table] [data-rec="${key}"]`)
  const recRow = `[data-test=rec-table] .el-table__row:has([data-rec="${key}"])`
  assert.equal(await p.innerText(`${recRow} [data-col=billRows]`), String(rec.billRows))
  assert.equal(await p.innerText(`${recRow} [data-col=matched]`), String(rec.matched))
  assert.equal(await p.innerText(`${recRow} [data-col=discrepancies]`), String(rec.discrepancies.length))
  await p.click(`${recRow} .el-table__expand-icon`)
  await hideToasts(p)
  await shot(p, 'reconciliation')

  // Payment differences: the open ones, as the API lists them.
  await p.click('.el-tabs__item >> text=支付差异')
  const diffs = (await q(admin.accessToken, `{ paymentDifferences(openOnly: true) { id } }`)).paymentDifferences
  await p.waitForTimeout(800)
  assert.equal(await p.locator('[data-test=diff-table] .el-table__body-wrapper tr.el-table__row').count(), diffs.length)

  // An account's recharge orders, found by its number, as the API lists them.
  const account = (await q(admin.accessToken, `{ accounts(page: 1, pageSize: 1) { items { id number } } }`)).accounts.items[0]
  const orders = (await q(admin.accessToken, `query($a: ID!) { rechargeOrders(accountId: $a) { outTradeNo } }`, { a: account.id })).rechargeOrders
  await p.click('.el-tabs__item >> text=充值订单与退款')
  await p.click('[data-test=order-account]')
  await p.keyboard.type(account.number)
  await p.click(`.el-select-dropdown__item:visible >> text=/^${account.number}/`)
  await p.waitForFunction(() => !document.querySelector('[data-test=order-table] .el-loading-mask'))
  await p.waitForTimeout(500)
  const shownOrders = await p.$$eval('[data-test=order-table] .el-table__body-wrapper tr.el-table__row .mono', (els) => els.map((e) => e.textContent))
  assert.deepEqual(shownOrders, orders.map((o) => o.outTradeNo))
  if (orders.length === 0) assert.match(await p.innerText('[data-test=order-table]'), /没有充值订单/)
  await p.close()
})

test('the payees screen in English', async () => {
  const p = await page(b, { lang: 'en-US', tokens: admin })
  await p.goto(`${BASE}/payees`)
  await p.waitForSelector(`[data-test=payee-table] [data-payee="${payeeName}"]`)
  assert.match(await p.innerText('.el-tabs__nav'), /Payees.*Takings.*Reconciliation/s)
  await hideToasts(p)
  await shot(p, 'payees', 'en-US')
  await p.close()
})
