// The customers' mobile pages (/m/) on a 360-px phone against the real server and its stand-ins:
// (a) in WeChat's browser — OAuth through the WeChat stand-in, a wrong and a right binding code,
//     home = myAccounts = account(id), a tripped account recharged by WeChat Pay (the JSAPI
//     bridge pays through the WeChat Pay stand-in) with a double tap making one order, credited
//     once, the power back on; history and its e-receipt; usage; a post-paid bill paid online;
//     a cancelled payment in words; English; sign-out;
// (b) another phone browser — a wrong binding code with the server's message, the code login,
//     Alipay's wap cashier (the stand-in's page) and back, the order PAID and credited once;
// (c) a dead network in words.
// Screenshots of every page go to docs/customer/h5-<page>.<zh|en>.png.
//
// Setup as the operator: the friendly hours lifted (restored afterwards) and a demo account's
// balance refunded to zero so the platform trips its simulated meter; a second account of that
// customer on a post-paid meter that never reports, with its own tariff and a price change next
// week (the notice), the month's bill run and issued; a service fee on the demo property when
// it has none (cleared afterwards). Everything made is closed or retired at the end.
import { test, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BASE, TENANT, apiLogin, browser, gql, q, until } from './lib.mjs'
import { standIns } from '../miniprogram/harness/server.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const SHOTS = resolve(here, '../../docs/customer')
const WECHAT_UA =
  'Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64'
const PHONE_UA = 'Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36'
const TOKENS = 'voltledger.m.voltledger.tokens'

const stamp = Date.now().toString(36)
const digits = String(Date.now()).slice(-8)
let T // operator token
let b
let pay // the WeChat Pay stand-in
let wechat // the WeChat stand-in
let propertyId
let savedHours = null
let feeWasSet = false
let tripped // { id, number } a demo account with its power cut
let other // { id, number } a demo account for the Alipay phone
let third // { id, number } another customer's account that phone binds next
let postpaid // { id, number }
let bill
let tariffId
let meterId
const made = { customers: [], meters: [], accounts: [] }
let lastPage = null

// What the phone showed when a step failed (not a documentation screenshot).
afterEach(async (t) => {
  if (!lastPage || lastPage.isClosed()) return
  await lastPage.screenshot({ path: join(process.env.VOLTLEDGER_E2E_FAILSHOTS ?? '/tmp', `h5-last-${t.name.slice(0, 3).replace(/\W/g, '')}.png`) }).catch(() => undefined)
})

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
/** Fen from a decimal string (the API's money), exactly. */
const fen = (s) => {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?/.exec(String(s))
  const v = Number(m[2]) * 100 + Number(((m[3] ?? '') + '00').slice(0, 2))
  return m[1] ? -v : v
}
/** As the pages show money: "1,234.50". */
const yuan = (f) => {
  const neg = f < 0
  const a = Math.abs(f)
  return `${neg ? '-' : ''}${String(Math.floor(a / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${String(a % 100).padStart(2, '0')}`
}
/** The exact sum of decimal strings, rounded half up to two places and grouped ("1,234.57"). */
function round2(values) {
  const SCALE = 8
  const units = values.reduce((s, v) => {
    const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(v)
    const u = BigInt(m[2] + ((m[3] ?? '') + '0'.repeat(SCALE)).slice(0, SCALE))
    return s + (m[1] ? -u : u)
  }, 0n)
  const neg = units < 0n
  const abs = neg ? -units : units
  const step = 10n ** BigInt(SCALE - 2)
  const cents = (abs + step / 2n) / step
  const int = String(cents / 100n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${neg && cents > 0n ? '-' : ''}${int}.${String(cents % 100n).padStart(2, '0')}`
}

async function shot(p, name, lang = 'zh') {
  mkdirSync(SHOTS, { recursive: true })
  // A toast ("绑定成功") fades on its own: the page without it.
  await p.waitForSelector('.van-toast', { state: 'hidden', timeout: 5000 }).catch(() => undefined)
  await p.waitForTimeout(500)
  await p.screenshot({ path: join(SHOTS, `h5-${name}.${lang}.png`) })
}

/**
 * A phone: 360×740 at 2×, touch. In WeChat's browser (`wechat`) the page gets a
 * `WeixinJSBridge` whose getBrandWCPayRequest plays WeChat's client: it pays the order through
 * the WeChat Pay stand-in (the order found by the prepay id the server gave with it) and answers
 * ok — or cancel, when told.
 */
async function phone({ wechat: inWeChat = false } = {}) {
  const ctx = await b.newContext({
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    userAgent: inWeChat ? WECHAT_UA : PHONE_UA,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  })
  const log = { orders: new Map(), created: [], bridge: [], answers: [], behaviour: 'ok' }
  ctx.on('request', (r) => {
    if (r.url().endsWith('/graphql') && r.method() === 'POST') {
      const body = r.postData() ?? ''
      if (/createRechargeOrder|createBillOrder/.test(body)) log.created.push(JSON.parse(body))
    }
  })
  ctx.on('response', async (r) => {
    if (!r.url().endsWith('/graphql')) return
    let body
    try {
      body = await r.json()
    } catch {
      return
    }
    log.answers.push({ query: JSON.parse(r.request().postData() ?? '{}').query ?? '', body })
    for (const k of ['createRechargeOrder', 'createBillOrder']) {
      const o = body?.data?.[k]
      if (o?.payment) log.orders.set(o.payment.package, o.outTradeNo)
    }
  })
  if (inWeChat) {
    await ctx.exposeBinding('__standinPay', async (_source, params) => {
      log.bridge.push(params)
      const problems = []
      for (const k of ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign']) if (typeof params[k] !== 'string' || !params[k]) problems.push(`${k} missing`)
      if (!/^prepay_id=\S+$/.test(params.package ?? '')) problems.push(`package ${params.package}`)
      if (params.signType !== 'RSA') problems.push(`signType ${params.signType}`)
      if (Buffer.from(params.paySign ?? '', 'base64').length !== 256) problems.push('paySign is not RSA-2048')
      if (Math.abs(Number(params.timeStamp) - Date.now() / 1000) > 300) problems.push('timeStamp not now')
      if (problems.length) return `get_brand_wcpay_request:fail ${problems.join('; ')}`
      if (log.behaviour === 'cancel') return 'get_brand_wcpay_request:cancel'
      // The order's answer may still be on its way to this listener: wait for it a little.
      let outTradeNo
      for (let i = 0; i < 50 && !(outTradeNo = log.orders.get(params.package)); i++) await sleep(100)
      if (!outTradeNo) return 'get_brand_wcpay_request:fail no such prepay_id'
      const r = await fetch(`${pay}/standin/pay?out_trade_no=${encodeURIComponent(outTradeNo)}`, { method: 'POST' })
      return r.ok ? 'get_brand_wcpay_request:ok' : `get_brand_wcpay_request:fail ${r.status}`
    })
    await ctx.addInitScript(() => {
      window.WeixinJSBridge = {
        invoke(api, params, cb) {
          if (api !== 'getBrandWCPayRequest') return cb({ err_msg: `${api}:fail` })
          window.__standinPay(params).then((msg) => cb({ err_msg: msg }))
        },
      }
    })
  }
  const p = await ctx.newPage()
  p.on('pageerror', (e) => console.error('page error:', e.message))
  lastPage = p
  return { p, ctx, log }
}

/** The customer's access token, as the page keeps it. */
const tokenOf = async (p) => p.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? '{}').accessToken, TOKENS)
const asCustomer = async (p, query, variables) => {
  const r = await gql(await tokenOf(p), query, variables)
  if (r.errors?.length) throw new Error(JSON.stringify(r.errors))
  return r.data
}
const text = async (p, sel) => (await p.locator(sel).first().innerText()).trim()
const waitText = (p, sel, want, what, timeout = 30_000) =>
  until(async () => {
    const loc = p.locator(sel).first()
    if (!(await loc.count())) return false
    const t = (await loc.innerText()).trim()
    return (typeof want === 'function' ? want(t) : t === want) && t
  }, { timeout, every: 300, what })
const orders = async (accountId) => (await q(T, `query($a: ID!) { rechargeOrders(accountId: $a) { id outTradeNo state amount channel transactionId } }`, { a: accountId })).rechargeOrders
const ledger = async (accountId) =>
  (await q(T, `query($id: ID!) { account(id: $id) { balance relay ledger(first: 100) { items { kind amount externalRef receiptNo } } meters { live { relayOpen } } } }`, { id: accountId })).account
const issueCode = async (accountId) => (await q(T, `mutation($a: ID!) { issueBindingCode(accountId: $a) }`, { a: accountId })).issueBindingCode

before(async () => {
  const si = standIns()
  pay = si.pay
  wechat = si.wechat
  T = (await apiLogin()).accessToken
  b = await browser()
  const base = await q(T, `{ tenant { timeZone } properties { id retiredAt } friendlyHours { name weekdays date start end } }`)
  propertyId = base.properties.find((p) => !p.retiredAt).id
  savedHours = base.friendlyHours.map(({ name, weekdays, date, start, end }) => ({ name, weekdays, date, start, end }))
  const period = new Intl.DateTimeFormat('en-CA', { timeZone: base.tenant.timeZone, year: 'numeric', month: '2-digit' }).format(new Date()).slice(0, 7)

  // A service fee, so that the fee shown before paying means something.
  const accs = (await q(T, `{ accounts(pageSize: 300) { items { id number customerId state balance meters { billingMode linkState propertyId live { readAt } } } } }`)).accounts.items
  // A meter whose reported time is right: a meter whose clock disagrees with the tenant's zone
  // does not obey a sealed trip, whose deadline is local time (docs/CONTROL.md, "Local time and
  // a change of the tenant's time zone"); such meters are not the test's.
  const clockRight = (m) => m.live?.readAt && Math.abs(Date.parse(m.live.readAt) - Date.now()) < 120_000
  const online = accs.filter(
    (a) =>
      a.state === 'OPEN' &&
      a.meters.length === 1 &&
      a.meters[0].billingMode === 'PLATFORM_PREPAID' &&
      a.meters[0].linkState === 'ONLINE' &&
      a.meters[0].propertyId === propertyId &&
      clockRight(a.meters[0]),
  )
  assert.ok(online.length >= 4, 'online prepaid demo accounts')
  tripped = online[online.length - 1]
  other = online[online.length - 2]
  third = online[online.length - 3]
  if ((await q(T, `query($a: ID!) { rechargeFee(accountId: $a, amount: "100.00") }`, { a: tripped.id })).rechargeFee === '0.00') {
    await q(T, `mutation($p: ID!) { setServiceFee(input: { propertyId: $p, percent: "1.5", fixed: "0.30" }) { serviceFeePercent } }`, { p: propertyId })
    feeWasSet = true
  }

  // The power cut: no friendly hours, the balance refunded to nothing; the platform trips the
  // simulated meter, which then reports its relay open.
  await q(T, `mutation { setFriendlyHours(windows: []) { name } }`)
  // The meter keeps settling meanwhile: a refund of a balance read a moment ago may be refused.
  for (let i = 0; i < 10; i++) {
    const now = (await ledger(tripped.id)).balance
    if (fen(now) <= 0) break
    const r = await gql(T, `mutation($i: RefundInput!) { refund(input: $i) { receiptNo } }`, { i: { accountId: tripped.id, amount: now, note: 'h5 e2e: power cut' } })
    if (!r.errors) break
    assert.equal(r.errors[0].extensions?.code, 'CONFLICT', JSON.stringify(r.errors))
  }
  await until(async () => (await ledger(tripped.id)).meters[0].live.relayOpen === true, { timeout: 90_000, what: 'the demo meter tripped' })

  // A second account of the same customer, post-paid (a meter that never reports) with an
  // issued bill, and a tariff whose price changes next week.
  const cust = { id: tripped.customerId }
  const meter = (
    await q(T, `mutation($i: RegisterMeterInput!) { registerMeter(input: $i) { meter { id } } }`, {
      i: { propertyId, customerId: cust.id, address: `97${digits}02`, phases: 1, linkType: 'FOUR_G', billingMode: 'POST_PAID', shopNo: `H5-${stamp}` },
    })
  ).registerMeter.meter
  meterId = meter.id
  made.meters.push(meter.id)
  const tariff = (
    await q(T, `mutation($i: CreateTariffInput!) { createTariff(input: $i) { id } }`, {
      i: { name: `H5 测试电价 ${stamp}`, tariff: { prices: [{ rate: 'FLAT', price: '0.6800' }] } },
    })
  ).createTariff
  tariffId = tariff.id
  const nextWeek = new Date(Date.now() + 7 * 86400_000)
  nextWeek.setUTCHours(16, 0, 0, 0) // a local midnight in Asia/Shanghai
  await q(T, `mutation($i: AddTariffVersionInput!) { addTariffVersion(input: $i) { id } }`, {
    i: { tariffId, effectiveFrom: nextWeek.toISOString(), tariff: { prices: [{ rate: 'FLAT', price: '0.7200' }] } },
  })
  await q(T, `mutation($t: ID!, $m: ID!) { assignTariff(input: { tariffId: $t, meterId: $m }) }`, { t: tariffId, m: meter.id })
  postpaid = (await q(T, `mutation($i: OpenAccountInput!) { openAccount(input: $i) { account { id number } } }`, { i: { customerId: cust.id, meterIds: [meter.id], propertyFee: '35.50' } }))
    .openAccount.account
  made.accounts.push(postpaid.id)
  await q(T, `mutation($p: String!, $pr: ID) { runBills(period: $p, propertyId: $pr) { created } }`, { p: period, pr: propertyId })
  const drafts = (await q(T, `query($p: String!, $a: ID!) { bills(period: $p, accountId: $a) { id state } }`, { p: period, a: postpaid.id })).bills
  assert.equal(drafts.length, 1, 'the run made the post-paid account its bill')
  bill = (await q(T, `mutation($id: ID!) { issueBill(id: $id) { id period total state } }`, { id: drafts[0].id })).issueBill
})

after(async () => {
  if (T) {
    if (savedHours) await gql(T, `mutation($w: [FriendlyWindowInput!]!) { setFriendlyHours(windows: $w) { name } }`, { w: savedHours })
    if (feeWasSet) await gql(T, `mutation($p: ID!) { setServiceFee(input: { propertyId: $p, clear: true }) { serviceFeePercent } }`, { p: propertyId })
    for (const id of made.accounts) await gql(T, `mutation($id: ID!) { closeAccount(id: $id, note: "h5 test") { receiptNo } }`, { id })
    if (meterId) await gql(T, `mutation($m: ID!) { assignTariff(input: { tariffId: null, meterId: $m }) }`, { m: meterId })
    for (const id of made.meters) await gql(T, `mutation($id: ID!) { retireMeter(input: { id: $id }) { id } }`, { id })
    for (const id of made.customers) await gql(T, `mutation($id: ID!) { retireCustomer(input: { id: $id }) { id } }`, { id })
    if (tariffId) await gql(T, `mutation($id: ID!) { retireTariff(id: $id) { id } }`, { id: tariffId })
  }
  await b?.close()
})

test('(a) in WeChat: OAuth, bind, a tripped account recharged by WeChat Pay (one order, credited once, power back), history, usage, a bill paid, English, sign-out', async () => {
  const { p, ctx, log } = await phone({ wechat: true })

  // OAuth: the page goes to WeChat (the stand-in's allow page) by itself and comes back signed in.
  await p.goto(`${BASE}/m/?tenant=${TENANT}`)
  await p.waitForURL((u) => u.href.startsWith(wechat) && u.pathname === '/connect/oauth2/authorize', { timeout: 15_000 })
  const authorize = new URL(p.url())
  assert.equal(authorize.searchParams.get('scope'), 'snsapi_base')
  assert.equal(authorize.searchParams.get('response_type'), 'code')
  assert.equal(authorize.searchParams.get('redirect_uri'), `${BASE}/m/login?tenant=${TENANT}`)
  assert.match(authorize.searchParams.get('state') ?? '', /^[0-9a-f]{32}$/)
  await p.fill('#openid', `o-oa-h5-${stamp}`)
  await p.click('#allow')
  await p.waitForURL(`${BASE}/m/bind`, { timeout: 15_000 })
  assert.equal((await asCustomer(p, `{ myAccounts { id } }`)).myAccounts.length, 0, 'a new official-account customer has nothing bound')
  await shot(p, 'bind')

  // A returned state that is not ours is refused (no session from a crafted link).
  {
    const crafted = await ctx.newPage()
    await crafted.goto(`${BASE}/m/login?tenant=${TENANT}&code=stolen&state=0123456789abcdef0123456789abcdef`)
    await waitText(crafted, '[data-test=error-title]', '微信授权已失效，或不是从本页面发起的，请重新登录。', 'the bad state refused')
    await crafted.close()
  }

  // Bind: a wrong code shows the server's message; the right one binds the tripped account.
  const code = await issueCode(tripped.id)
  const wrong = code.slice(0, 7) + (code[7] === '2' ? '3' : '2')
  await p.fill('[data-test=bind-number] input', tripped.number)
  await p.fill('[data-test=bind-code] input', wrong)
  await p.click('[data-test=bind-submit]')
  await p.waitForSelector('[data-test=error]')
  const refusal = log.answers.filter((a) => a.query.includes('bindAccount')).pop().body.errors[0]
  assert.equal(await text(p, '[data-test=error-detail]'), refusal.message, "the server's own message")
  assert.match(await text(p, '[data-test=error-title]'), /户号或绑定码不正确/)
  await shot(p, 'bind-error')
  await p.fill('[data-test=bind-code] input', `${code.slice(0, 4)} ${code.slice(4)}`.toLowerCase())
  await p.click('[data-test=bind-submit]')
  await p.waitForURL(`${BASE}/m/`, { timeout: 15_000 })

  // Home = myAccounts = account(id): both accounts of the customer (a switcher), the bound one
  // shown: the balance, power off in words, the meter's relay, the property's contact.
  await p.waitForSelector('[data-test=balance]')
  const mine = (await asCustomer(p, `{ myAccounts { id balance relay balanceState } }`)).myAccounts
  assert.ok(mine.some((a) => a.id === tripped.id) && mine.some((a) => a.id === postpaid.id), 'the customer\'s accounts')
  await p.waitForSelector('[data-test=account-switcher]')
  assert.equal(await text(p, '[data-test=account-number]'), `户号 ${tripped.number}`, 'the account just bound is shown')
  const server = await ledger(tripped.id)
  assert.equal(mine.find((a) => a.id === tripped.id).balance, server.balance)
  assert.equal(await text(p, '[data-test=balance]'), yuan(fen(server.balance)))
  assert.equal(await text(p, '[data-test=state]'), '已停电')
  assert.equal(await text(p, '[data-test=meter-power]'), '已断电')
  assert.ok(await p.locator('[data-test=contact-tel]').count(), 'the property contact with a tel: link')
  assert.match((await p.getAttribute('[data-test=contact-tel]', 'href')) ?? '', /^tel:[\d+]+$/)
  const notice = await until(async () => {
    for (const n of await p.locator('[data-test^=price-notice]').allInnerTexts()) if (n.includes('0.72')) return n.trim()
    return false
  }, { timeout: 20_000, every: 300, what: 'the price notice' })
  assert.match(notice, new RegExp(`电价调整：H5 测试电价 ${stamp} 自 \\d{4}-\\d\\d-\\d\\d 起执行，平段 0.68 → 0.72 元/千瓦时。`))
  await shot(p, 'home-tripped')

  // Touch targets: every button and link on the page at least 44 px high; nothing wider than the phone.
  const small = await p.evaluate(() =>
    [...document.querySelectorAll('button, a, .van-cell--clickable, .van-tabbar-item')]
      .filter((e) => e.offsetParent !== null)
      .map((e) => [e.textContent?.trim().slice(0, 20), Math.round(e.getBoundingClientRect().height)])
      .filter(([, h]) => h < 44),
  )
  assert.deepEqual(small, [], 'touch targets under 44 px')
  const wide = await p.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(wide <= 360, `no sideways scrolling at 360 px (${wide})`)

  // The switcher: the post-paid account, billed monthly; then back.
  await p.click('[data-test=account-switcher]')
  await p.waitForSelector('.van-action-sheet__item')
  await shot(p, 'accounts')
  await p.locator('.van-action-sheet__item', { hasText: postpaid.number }).click()
  await waitText(p, '[data-test=account-number]', `户号 ${postpaid.number}`, 'the post-paid account chosen')
  assert.equal(await text(p, '[data-test=state]'), '月结账户')
  assert.equal(await text(p, '[data-test=due]'), yuan(fen(bill.total)), 'the issued bill to pay')
  assert.equal(await p.locator('[data-test=go-recharge]').count(), 0, 'no recharge for a post-paid account')
  await shot(p, 'home-postpaid')
  await p.click('[data-test=account-switcher]')
  await p.locator('.van-action-sheet__item', { hasText: tripped.number }).click()
  await waitText(p, '[data-test=account-number]', `户号 ${tripped.number}`, 'the tripped account again')

  // Recharge: the fee before paying is the server's; a cancelled payment is said and pays nothing.
  await p.click('[data-test=go-recharge]')
  await p.waitForURL(/\/m\/recharge/)
  await p.waitForSelector('[data-test=pay]')
  await p.click('[data-test=custom-amount] input')
  await p.keyboard.type('0.5')
  await waitText(p, '.van-field__error-message', '最少充值 1.00 元', 'the minimum')
  await p.fill('[data-test=custom-amount] input', '')
  const amount = '50.00'
  await p.click('[data-test=preset-1]')
  const fee = (await q(T, `query($a: ID!) { rechargeFee(accountId: $a, amount: "50.00") }`, { a: tripped.id })).rechargeFee
  assert.notEqual(fee, '0.00')
  const credit = fen(amount) - fen(fee)
  await waitText(p, '[data-test=fee]', `服务费 ¥${yuan(fen(fee))}，实际到账 ¥${yuan(credit)}`, 'the fee')
  assert.equal(await text(p, '[data-test=pay]'), '微信支付 ¥50.00')
  assert.equal(await text(p, '[data-test=channel]'), '微信支付')
  await shot(p, 'recharge')

  const before = await orders(tripped.id)
  log.behaviour = 'cancel'
  await p.click('[data-test=pay]')
  await waitText(p, '[data-test=error-title]', '您已取消支付，未扣款。', 'the cancellation')
  assert.equal(await text(p, '[data-test=error-detail]'), 'get_brand_wcpay_request:cancel')
  await shot(p, 'recharge-cancelled')
  log.behaviour = 'ok'
  assert.equal((await orders(tripped.id)).filter((o) => o.state === 'PAID').length, before.filter((o) => o.state === 'PAID').length)

  // The double tap: one order, one payment.
  const created = log.created.length
  const bridged = log.bridge.length
  const ordersBefore = (await orders(tripped.id)).length
  await p.locator('[data-test=pay]').evaluate((el) => {
    el.click()
    el.click()
  })
  await p.waitForURL(/\/m\/pay\/return\?out_trade_no=/, { timeout: 30_000 })
  assert.equal(log.created.length - created, 1, 'one createRechargeOrder for two taps')
  assert.equal(log.bridge.length - bridged, 1, 'one getBrandWCPayRequest')
  const outTradeNo = new URL(p.url()).searchParams.get('out_trade_no')
  const done = await waitText(p, '[data-test=result-done]', (t) => t.startsWith('充值成功'), 'the credit', 60_000)
  const after = await orders(tripped.id)
  assert.equal(after.length - ordersBefore, 1, 'the server has one more order')
  const order = after.find((o) => o.outTradeNo === outTradeNo)
  assert.equal(order.state, 'PAID')
  assert.equal(order.amount, amount)
  const acc = await ledger(tripped.id)
  const entries = acc.ledger.items.filter((e) => e.externalRef === order.transactionId)
  assert.equal(entries.length, 1, 'credited once: one entry with the transaction id')
  assert.equal(entries[0].kind, 'RECHARGE_WECHAT')
  assert.equal(entries[0].amount, amount)
  const receiptNo = entries[0].receiptNo
  const creditedNow = acc.ledger.items.filter((e) => e.receiptNo === receiptNo).reduce((s, e) => s + fen(e.amount), 0)
  assert.equal(creditedNow, credit, 'the recharge less the fee')
  assert.ok(done.startsWith(`充值成功，到账 ¥${yuan(credit)}，当前余额 ¥`), done)

  // The power comes back: the platform closes the relay and the meter reports it closed.
  await waitText(p, '[data-test=power-closed]', '已恢复供电', 'the power back on', 120_000)
  const closed = await ledger(tripped.id)
  assert.equal(closed.relay, 'CLOSED')
  assert.equal(closed.meters[0].live.relayOpen, false)
  await shot(p, 'pay-result')

  // History and the e-receipt.
  await p.click('[data-test=result-receipt]')
  await p.waitForURL(`${BASE}/m/receipts/${receiptNo}`)
  const receipt = (await q(T, `query($n: Int!) { receipt(number: $n) { total entries { kind amount } } }`, { n: receiptNo })).receipt
  await waitText(p, '[data-test=receipt-total]', `¥${yuan(fen(receipt.total))}`, 'the receipt total')
  assert.equal(await p.locator('[data-test=receipt-entries] .van-cell').count(), receipt.entries.length + 1)
  await p.waitForSelector('[data-test=receipt-frame]')
  assert.equal(await p.getAttribute('[data-test=receipt-frame]', 'sandbox'), '')
  await shot(p, 'receipt')
  await p.goto(`${BASE}/m/history`)
  await p.waitForSelector(`[data-receipt="${receiptNo}"]`)
  assert.match(await text(p, `[data-receipt="${receiptNo}"]`), /微信充值[\s\S]*\+50\.00/)
  await shot(p, 'history')

  // Home after: the balance the API has, power on in words.
  await p.goto(`${BASE}/m/`)
  await p.waitForSelector('[data-test=balance]')
  await until(async () => (await text(p, '[data-test=meter-power]')) === '供电中', { timeout: 20_000, every: 500, what: 'power on at home' })
  await shot(p, 'home')
  const home = (await asCustomer(p, `{ myAccounts { id balance } }`)).myAccounts.find((a) => a.id === tripped.id)
  const shown = await text(p, '[data-test=balance]')
  // The meter runs again: the balance may move between the two reads by one settlement.
  assert.ok(Math.abs(fen(shown.replace(/,/g, '')) - fen(home.balance)) <= 50, `home ${shown} vs myAccounts ${home.balance}`)

  // Usage: the chart and the totals of the server's points.
  await p.click('[data-test=tab-usage]')
  await p.waitForURL(`${BASE}/m/usage`)
  await p.waitForSelector('[data-test=usage-chart] canvas')
  const usage = log.answers.filter((a) => a.query.includes('myUsage')).pop().body.data.myUsage
  assert.ok(usage.length >= 28, `a point per day (${usage.length})`)
  const totalText = await text(p, '[data-test=usage-total]')
  const expected = `合计 ${round2(usage.map((u) => u.energy))} 千瓦时，电费 ${round2(usage.map((u) => u.cost))} 元`
  assert.equal(totalText, expected)
  await shot(p, 'usage')
  await p.click('.van-tab:nth-child(2)')
  await until(async () => log.answers.filter((a) => a.query.includes('bucket: MONTH')).length > 0, { timeout: 10_000, every: 300, what: 'the months' })
  await p.waitForTimeout(800)
  await shot(p, 'usage-month')

  // The bill: lines as myBills, paid by WeChat Pay (double tap: one order), PAID on the server.
  await p.click('[data-test=tab-bills]')
  await p.waitForURL(`${BASE}/m/bills`)
  await p.waitForSelector(`[data-test="bill-${bill.id}"]`)
  assert.match(await text(p, `[data-test="bill-${bill.id}"]`), /待缴费/)
  await shot(p, 'bills')
  await p.click(`[data-test="bill-${bill.id}"]`)
  await p.waitForSelector('[data-test=bill-pay]')
  const lines = (await asCustomer(p, `{ myBills { id lines { lineNo kind description amount } } }`)).myBills.find((x) => x.id === bill.id).lines
  for (const l of lines) assert.match(await text(p, `[data-test="line-${l.lineNo}"]`), new RegExp(yuan(fen(l.amount)).replace('.', '\\.')))
  assert.ok(lines.some((l) => l.kind === 'PROPERTY_FEE' && l.amount === '35.50'))
  assert.equal(await text(p, '[data-test=bill-total]'), `¥${yuan(fen(bill.total))}`)
  assert.equal(await text(p, '[data-test=bill-pay]'), `微信支付 ¥${yuan(fen(bill.total))}`)
  await shot(p, 'bill')
  const billOrders = log.created.length
  await p.locator('[data-test=bill-pay]').evaluate((el) => {
    el.click()
    el.click()
  })
  await waitText(p, '[data-test=result-done]', '缴费成功', 'the bill paid', 60_000)
  assert.equal(log.created.length - billOrders, 1, 'one createBillOrder for two taps')
  assert.equal((await q(T, `query($id: ID!) { bill(id: $id) { state } }`, { id: bill.id })).bill.state, 'PAID')
  await shot(p, 'bill-result')
  await p.click('[data-test=result-bill]')
  await waitText(p, '[data-test=bill-state]', '已缴清', 'PAID on the bill page')
  assert.equal(await p.locator('[data-test=bill-pay]').count(), 0, 'nothing left to pay')
  assert.match(await text(p, '[data-test=bill-paid-at]'), /^缴费时间 \d{4}-\d\d-\d\d \d\d:\d\d$/)
  await shot(p, 'bill-paid')

  // Me, then English from the language switch.
  await p.goto(`${BASE}/m/me`)
  await p.waitForSelector('[data-test=sign-out]')
  await shot(p, 'me')
  await p.click('[data-test=lang-en]')
  await waitText(p, '[data-test=sign-out]', 'Sign out', 'English')
  await shot(p, 'me', 'en')
  await p.goto(`${BASE}/m/`)
  await waitText(p, '[data-test=state]', (t) => /Normal|Balance|Billed monthly|Power/.test(t), 'home in English')
  await shot(p, 'home', 'en')
  await p.goto(`${BASE}/m/recharge?account=${tripped.id}`)
  await p.click('[data-test=preset-0]')
  await waitText(p, '[data-test=fee]', (t) => t.startsWith('Service fee'), 'the fee in English')
  await shot(p, 'recharge', 'en')
  await p.goto(`${BASE}/m/bills/${bill.id}`)
  await waitText(p, '[data-test=bill-state]', 'Paid', 'the bill in English')
  await shot(p, 'bill', 'en')
  await p.goto(`${BASE}/m/usage`)
  await p.waitForSelector('[data-test=usage-chart] canvas')
  await shot(p, 'usage', 'en')
  await p.goto(`${BASE}/m/me`)
  await p.click('[data-test=lang-zh]')
  await waitText(p, '[data-test=sign-out]', '退出登录', 'Chinese again')

  // Sign out: the server ends the session; no automatic WeChat sign-in right after.
  const old = await tokenOf(p)
  await p.click('[data-test=sign-out]')
  await p.click('.van-dialog__confirm')
  await p.waitForURL(/\/m\/login/)
  await p.waitForSelector('[data-test=oauth-login]')
  assert.equal(new URL(p.url()).host, new URL(BASE).host, 'stays on the login page')
  const refused = await gql(old, `{ myAccounts { id } }`)
  assert.equal(refused.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', 'the old token is refused')
  await shot(p, 'login-wechat')
  await ctx.close()
})

test('(b) another phone browser: a wrong code said with the server message, the code login, Alipay wap and back, PAID and credited once', async () => {
  const { p, ctx, log } = await phone()
  await p.goto(`${BASE}/m/?tenant=${TENANT}`)
  await p.waitForURL(`${BASE}/m/login`)
  await waitText(p, '[data-test=company]', (t) => t.length > 0, 'the company name')
  assert.equal(await p.locator('[data-test=oauth-login]').count(), 0, 'no WeChat sign-in outside WeChat')
  await shot(p, 'login')

  const code = await issueCode(other.id)
  await p.fill('[data-test=account-number] input', other.number)
  await p.fill('[data-test=binding-code] input', code.slice(0, 7) + (code[7] === '2' ? '3' : '2'))
  const answer = p.waitForResponse((r) => r.url().endsWith('/auth/binding-code'))
  await p.click('[data-test=login-submit]')
  const body = await (await answer).json()
  assert.equal(body.error, 'BINDING_REFUSED')
  await waitText(p, '[data-test=error-detail]', body.message, "the server's message")
  assert.match(await text(p, '[data-test=error-title]'), /户号或绑定码不正确/)
  await shot(p, 'login-error')

  await p.fill('[data-test=binding-code] input', code)
  await p.click('[data-test=login-submit]')
  await p.waitForURL(`${BASE}/m/`)
  await p.waitForSelector('[data-test=balance]')
  const mine = (await asCustomer(p, `{ myAccounts { id } }`)).myAccounts
  assert.deepEqual(mine.map((a) => a.id), [other.id])

  // Recharge by Alipay: a double tap makes one order, the browser goes to the cashier.
  await p.click('[data-test=go-recharge]')
  await p.click('[data-test=preset-0]')
  const fee = (await q(T, `query($a: ID!) { rechargeFee(accountId: $a, amount: "20.00") }`, { a: other.id })).rechargeFee
  await waitText(p, '[data-test=fee]', `服务费 ¥${yuan(fen(fee))}，实际到账 ¥${yuan(fen('20.00') - fen(fee))}`, 'the fee')
  assert.equal(await text(p, '[data-test=channel]'), '支付宝')
  assert.equal(await text(p, '[data-test=pay]'), '支付宝支付 ¥20.00')
  await shot(p, 'recharge-alipay')
  const ordersBefore = (await orders(other.id)).length
  await p.locator('[data-test=pay]').evaluate((el) => {
    el.click()
    el.click()
  })
  await p.waitForURL((u) => u.pathname === '/gateway.do', { timeout: 20_000 })
  assert.equal(log.created.length, 1, 'one createRechargeOrder for two taps')
  assert.equal(log.created[0].variables.i.channel, 'ALIPAY')
  assert.equal(log.created[0].variables.i.returnUrl, `${BASE}/m/pay/return`)
  assert.equal((await orders(other.id)).length - ordersBefore, 1, 'one order on the server')
  await p.waitForSelector('#pay')
  assert.match(await p.innerText('#amount'), /20\.00/)

  // The cashier pays and sends the browser back; the page waits for the server's PAID.
  await p.click('#pay')
  await p.waitForURL((u) => u.href.startsWith(`${BASE}/m/pay/return`) && u.searchParams.has('out_trade_no'), { timeout: 20_000 })
  const outTradeNo = new URL(p.url()).searchParams.get('out_trade_no')
  const done = await waitText(p, '[data-test=result-done]', (t) => t.startsWith('充值成功'), 'the credit', 60_000)
  const order = (await orders(other.id)).find((o) => o.outTradeNo === outTradeNo)
  assert.equal(order.state, 'PAID')
  assert.equal(order.channel, 'ALIPAY')
  const acc = await ledger(other.id)
  const entries = acc.ledger.items.filter((e) => e.externalRef === order.transactionId)
  assert.equal(entries.length, 1, 'credited once')
  assert.equal(entries[0].kind, 'RECHARGE_ALIPAY')
  assert.ok(done.startsWith(`充值成功，到账 ¥${yuan(fen('20.00') - fen(fee))}，当前余额 ¥`), done)
  await shot(p, 'alipay-return')

  // Reloading the return page asks again and pays nothing more.
  await p.reload()
  await waitText(p, '[data-test=result-done]', (t) => t.startsWith('充值成功'), 'the credit again', 60_000)
  assert.equal((await ledger(other.id)).ledger.items.filter((e) => e.externalRef === order.transactionId).length, 1)
  assert.equal((await orders(other.id)).length - ordersBefore, 1)

  // Another customer's account: signed in with a code, binding signs in with the new code and
  // ends the old session.
  const oldToken = await tokenOf(p)
  await p.goto(`${BASE}/m/bind`)
  await waitText(p, '[data-test=bind-note]', '用绑定码登录时每次只能进入一位客户：绑定后将切换到新户号所属的客户。', 'the note')
  await p.fill('[data-test=bind-number] input', third.number)
  await p.fill('[data-test=bind-code] input', await issueCode(third.id))
  await shot(p, 'bind-code-session')
  await p.click('[data-test=bind-submit]')
  await p.waitForURL(`${BASE}/m/`)
  await waitText(p, '[data-test=account-number]', `户号 ${third.number}`, 'the other customer\'s account')
  assert.deepEqual((await asCustomer(p, `{ myAccounts { id } }`)).myAccounts.map((a) => a.id), [third.id])
  await until(async () => (await gql(oldToken, `{ myAccounts { id } }`)).errors?.[0]?.extensions?.code === 'UNAUTHENTICATED', { timeout: 10_000, every: 500, what: 'the old session ended' })
  await ctx.close()
})

test('(c) a dead network is said in words', async () => {
  const { p, ctx } = await phone()
  await p.goto(`${BASE}/m/?tenant=${TENANT}`)
  await p.waitForURL(`${BASE}/m/login`)
  await p.fill('[data-test=account-number] input', other.number)
  await p.fill('[data-test=binding-code] input', await issueCode(other.id))
  await p.click('[data-test=login-submit]')
  await p.waitForSelector('[data-test=balance]')
  await p.route('**/graphql', (r) => r.abort('internetdisconnected'))
  await p.reload()
  await waitText(p, '[data-test=error-title]', '网络连接失败，请检查网络后重试。', 'the network failure')
  assert.match(await text(p, '[data-test=error-detail]'), /^request:fail /)
  await shot(p, 'network-error')
  // Back online: "retry" loads the page.
  await p.unroute('**/graphql')
  await p.click('[data-test=retry]')
  await p.waitForSelector('[data-test=balance]')
  assert.equal(await p.locator('[data-test=error]').count(), 0)
  await ctx.close()
})
