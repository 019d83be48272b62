// The customer's whole path through the rendered pages against the real server and its
// WeChat / WeChat Pay stand-ins (see harness/fakewx.mjs): log in, bind (a wrong phone refused
// with the server's message), home = myAccounts (today's and this month's usage = myUsage,
// the property's contact = myProperties, called with wx.makePhoneCall), alerts subscribed with
// the server's templates (mySubscriptionTemplates), a price notice = myPriceChanges once the
// operator adds a tariff version effective next week, recharge 20.00 with a double tap
// (alerts asked first, one order, paid through the stand-in, the balance up by 20.00 minus the
// fee exactly), the recharge in the history with its receipt number and the receipt =
// myReceipt, usage by day and month (a bar per bucket), a cancelled payment and a dead network
// in words, bills = myBills, a bill paid and in the history; a second WeChat user binds with
// the binding code (绑定码) the operator issued (a wrong code refused with the server's
// message); a third binds a demo account whose meter reports every few seconds: its usage on
// home and the usage page = myUsage, the bars proportional to it.
//
// Setup as the operator (the demo has no account for this test): a customer with a phone, a
// platform-prepaid meter that never reports (so nothing is consumed while the test runs) on
// one account, a post-paid meter with a property fee on another, that month's bill run and the
// bill issued; the property gets a service fee for the run when it has none; a tariff of the
// test's own with a version next week priced on the prepaid meter. Everything is closed,
// retired or restored afterwards.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { APPID, BASE, TENANT, gql, operatorToken, q, serverUp, standIns } from '../harness/server.mjs'
import { fakeWx } from '../harness/fakewx.mjs'
import { i18n, install, lib, money, open, sleep, until } from '../harness/sim.mjs'

const stamp = Date.now().toString(36)
const digits = String(Date.now()).slice(-8)
const phone = `139${digits}`
const openid = `o-mp-${stamp}`
const zh = i18n.dictionaries.zh
const en = i18n.dictionaries.en
let T // operator token
let wx
let prepaid // { id, number }
let postpaid
let bill // the issued bill
let templates = []
let feeWasSet = false
let propertyId
let timeZone
let tariffId
const made = { customers: [], meters: [], accounts: [] }

const ACCOUNT = `id number balance balanceState state relay holdPower meters { id priceNow billingMode }`
/** The customer's own view through the API, with the token the app holds. */
const asCustomer = (query, variables) => gql(wx.accessToken(), query, variables)

before(async () => {
  await serverUp()
  const { wechat, pay } = standIns()
  T = await operatorToken()
  const base = await q(T, `{ tenant { timeZone } properties { id retiredAt } wechatTemplates { alarmKind templateId } }`)
  propertyId = base.properties.find((p) => !p.retiredAt).id
  timeZone = base.tenant.timeZone
  const period = new Intl.DateTimeFormat('en-CA', { timeZone: base.tenant.timeZone, year: 'numeric', month: '2-digit' }).format(new Date()).slice(0, 7)

  // Subscription templates: the tenant's, or two made for the test.
  templates = base.wechatTemplates.map((t) => t.templateId)
  if (!templates.length) {
    const set = `mutation($k: String!, $t: String!) { setWechatTemplate(input: { alarmKind: $k, templateId: $t, page: "pages/home/index",
      fields: [{ key: "thing1", source: SUBJECT }, { key: "amount2", source: BALANCE }, { key: "time3", source: TIME }] }) { templateId } }`
    for (const k of ['LOW_BALANCE_1', 'ARREARS']) templates.push((await q(T, set, { k, t: `MP-${k}-${stamp}` })).setWechatTemplate.templateId)
  }

  const cust = (await q(T, `mutation($n: String!, $p: String!) { createCustomer(input: { name: $n, phone: $p, shopNo: "MP" }) { id } }`, { n: `小程序测试 ${stamp}`, p: phone }))
    .createCustomer
  made.customers.push(cust.id)
  const account = async (mode, fee) => {
    const meter = (
      await q(T, `mutation($i: RegisterMeterInput!) { registerMeter(input: $i) { meter { id } } }`, {
        i: { propertyId, customerId: cust.id, address: `96${digits}${made.meters.length}${mode === 'POST_PAID' ? 2 : 1}`.slice(0, 12), phases: 1, linkType: 'FOUR_G', billingMode: mode, shopNo: `MP-${stamp}` },
      })
    ).registerMeter.meter
    made.meters.push(meter.id)
    const i = { customerId: cust.id, meterIds: [meter.id], ...(fee ? { propertyFee: fee } : {}) }
    const a = (await q(T, `mutation($i: OpenAccountInput!) { openAccount(input: $i) { account { id number } } }`, { i })).openAccount.account
    made.accounts.push(a.id)
    return a
  }
  prepaid = await account('PLATFORM_PREPAID')
  postpaid = await account('POST_PAID', '35.50')

  // A service fee, so that "20.00 minus the fee" means something.
  if ((await q(T, `query($a: ID!) { rechargeFee(accountId: $a, amount: "100.00") }`, { a: prepaid.id })).rechargeFee === '0.00') {
    await q(T, `mutation($p: ID!) { setServiceFee(input: { propertyId: $p, percent: "1.5", fixed: "0.30" }) { serviceFeePercent } }`, { p: propertyId })
    feeWasSet = true
  }

  await q(T, `mutation($p: String!, $pr: ID) { runBills(period: $p, propertyId: $pr) { created } }`, { p: period, pr: propertyId })
  const drafts = (await q(T, `query($p: String!, $a: ID!) { bills(period: $p, accountId: $a) { id state } }`, { p: period, a: postpaid.id })).bills
  assert.equal(drafts.length, 1, 'the run made the post-paid account its bill')
  bill = (await q(T, `mutation($id: ID!) { issueBill(id: $id) { id period total state lines { kind amount } } }`, { id: drafts[0].id })).issueBill

  wx = fakeWx({ wechat, pay, appid: APPID, openid })
  install(wx, { apiBase: BASE, tenant: TENANT, paymentWaitMs: 30000 })
})

after(async () => {
  if (!T) return
  if (feeWasSet) await gql(T, `mutation($p: ID!) { setServiceFee(input: { propertyId: $p, clear: true }) { serviceFeePercent } }`, { p: propertyId })
  for (const id of made.accounts) await gql(T, `mutation($id: ID!) { closeAccount(id: $id, note: "mini-program test") { receiptNo } }`, { id })
  if (tariffId) await gql(T, `mutation($m: ID!) { assignTariff(input: { tariffId: null, meterId: $m }) }`, { m: made.meters[0] })
  for (const id of made.meters) await gql(T, `mutation($id: ID!) { retireMeter(input: { id: $id }) { id } }`, { id })
  for (const id of made.customers) await gql(T, `mutation($id: ID!) { retireCustomer(input: { id: $id }) { id } }`, { id })
  if (tariffId) await gql(T, `mutation($id: ID!) { retireTariff(id: $id) { id } }`, { id: tariffId })
})

// Exact decimals on the test's side (BigInt at six places), and the company's calendar.
const SCALE = 6
const units = (s) => {
  const m = /^(-?)(\d+)(?:\.(\d{0,6}))?$/.exec(s)
  assert.ok(m, `a decimal: ${s}`)
  return BigInt(m[2] + (m[3] ?? '').padEnd(SCALE, '0')) * (m[1] ? -1n : 1n)
}
/** Units -> kWh to two places, half away from zero. */
const twoPlaces = (u) => {
  const div = 10n ** BigInt(SCALE - 2)
  const abs = u < 0n ? -u : u
  const q = abs / div + ((abs % div) * 2n >= div ? 1n : 0n)
  const digits = q.toString().padStart(3, '0')
  return `${u < 0n && q ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`
}
const companyDay = (t) => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(t))
const USAGE = `query($a: ID!, $f: DateTime!, $t: DateTime!) { d: myUsage(accountId: $a, bucket: DAY, from: $f, to: $t) { at energy cost } m: myUsage(accountId: $a, bucket: MONTH, from: $f, to: $t) { at energy cost } }`

/** What home must show for an account, from myUsage by DAY with the variables the page sent: today = the last bucket, the month = the buckets of its month. */
function expectedUsage(points) {
  const last = points[points.length - 1]
  assert.equal(companyDay(last.at), companyDay(Date.now()), 'the last bucket is the company\'s today')
  const month = companyDay(last.at).slice(0, 7)
  const sum = points.filter((p) => companyDay(p.at).slice(0, 7) === month).reduce((s, p) => s + units(p.energy), 0n)
  return { today: twoPlaces(units(last.energy)), month: twoPlaces(sum) }
}

/** The myUsage request a page sent for an account (the last one), and the API's answer to the same request now. */
async function usageAsSent(w, accountId, token) {
  const sent = w.graphql('myUsage').filter((r) => r.body.variables.a === accountId).pop()
  assert.ok(sent, `the page asked myUsage for ${accountId}`)
  const r = await gql(token, sent.body.query, sent.body.variables)
  assert.ok(!r.errors, JSON.stringify(r.errors))
  return { sent, points: r.data.myUsage }
}

const PAID_IN = ['RECHARGE_CASH', 'RECHARGE_TRANSFER', 'RECHARGE_WECHAT', 'RECHARGE_ALIPAY', 'BILL_PAYMENT', 'REFUND']
const ledgerOf = async (accountId) =>
  (await asCustomer(`{ myAccounts { id ledger(first: 200) { items { id kind amount receiptNo createdAt channel } } } }`)).data.myAccounts.find((a) => a.id === accountId).ledger.items

test('login: wx.login -> POST /auth/wechat; WeChat failing is said; no account yet -> the bind page', async () => {
  const page = open('login')
  page.instance.onLoad()
  assert.equal(page.text('#intro'), zh.login_intro)
  page.tap('#lang')
  await until(() => page.text('#intro') === en.login_intro, 'English')
  page.tap('#lang')
  await until(() => page.text('#intro') === zh.login_intro, 'Chinese again')

  wx.behaviour.login = 'system error'
  page.tap('#login')
  await until(() => page.has('#error'), 'the WeChat error')
  assert.match(page.text('#error'), new RegExp(zh.err_wechat))
  assert.match(page.text('#error'), /login:fail system error/)

  wx.behaviour.login = 'ok'
  page.tap('#login')
  await until(() => wx.lastNavigation()?.[1] === '/pages/bind/index', 'the bind page')
  assert.equal(wx.graphql('myAccounts').length, 1)
  const login = wx.log.requests.find((r) => r.url === `${BASE}/auth/wechat` && r.status === 200)
  assert.ok(login, 'POST /auth/wechat answered 200')
  assert.equal(login.body.tenant, TENANT)
})

test('bind: a wrong phone is refused with the server message; a denied phone is said; the right one binds both accounts', async () => {
  const page = open('bind')
  page.instance.onLoad()
  page.fire('#number', 'input', { value: prepaid.number.toLowerCase() })
  await until(() => page.data().number === prepaid.number, 'the number typed')

  page.fire('#phone', 'getphonenumber', { code: await wx.phoneCode('13011112222'), errMsg: 'getPhoneNumber:ok' })
  await until(() => page.has('#error'), 'the refusal')
  const answer = wx.graphql('bindAccount').pop().answer
  const serverMessage = answer.errors[0].message
  assert.equal(answer.errors[0].extensions.field, 'accountNumber')
  assert.match(page.text('#error'), new RegExp(zh.err_bind_mismatch.slice(0, 8)))
  assert.equal(page.text('#error .detail'), serverMessage, 'the server\'s own message is shown')
  assert.equal((await asCustomer(`{ myAccounts { id } }`)).data.myAccounts.length, 0, 'nothing bound')

  page.fire('#phone', 'getphonenumber', { errMsg: 'getPhoneNumber:fail user deny' })
  await until(() => page.text('#error').startsWith(zh.bind_phone_denied), 'the denial')

  page.fire('#phone', 'getphonenumber', { code: await wx.phoneCode(phone), errMsg: 'getPhoneNumber:ok' })
  await until(() => wx.lastNavigation()?.[1] === '/pages/home/index', 'home')
  const mine = (await asCustomer(`{ myAccounts { id } }`)).data.myAccounts.map((a) => a.id).sort()
  assert.deepEqual(mine, [prepaid.id, postpaid.id].sort(), 'the customer\'s two accounts')
})

test('home: each account as myAccounts has it — balance, state in words, price now, usage = myUsage; the contact = myProperties; alerts subscribed with the server\'s templates', async () => {
  const page = open('home')
  page.instance.onLoad()
  await page.instance.onShow()
  const api = (await asCustomer(`{ myAccounts { ${ACCOUNT} } }`)).data.myAccounts
  assert.equal(page.data().accounts.length, api.length)
  for (const [i, a] of api.entries()) {
    assert.equal(page.text(`#heading-${i}`), `户号 ${a.number}`)
    assert.equal(page.text(`#balance-${i}`), money.formatYuan(a.balance))
    const prepaidAccount = a.meters.every((m) => m.billingMode !== 'POST_PAID')
    assert.equal(page.text(`#state-${i}`), prepaidAccount ? zh.state_normal : zh.state_postpaid, a.balanceState)
    assert.equal(page.text(`#price-${i}`), `${money.formatPrice(a.meters[0].priceNow)} ${zh.home_price_unit}`)
    assert.equal(page.has(`#recharge-${i}`), prepaidAccount, 'recharge offered for prepaid accounts only')

    // Usage: this month by day up to now, from the local first of the month (the test meters
    // never report: zeros, but the API's zeros; a live meter is the last test).
    const { sent, points } = await usageAsSent(wx, a.id, wx.accessToken())
    assert.match(sent.body.query, /bucket: DAY/)
    const now = new Date()
    assert.equal(sent.body.variables.f, new Date(now.getFullYear(), now.getMonth(), 1).toISOString())
    assert.ok(Math.abs(Date.parse(sent.body.variables.t) - Date.now()) < 60000, 'up to now')
    const want = expectedUsage(points)
    assert.equal(page.text(`#usage-today-${i}`), want.today)
    assert.equal(page.text(`#usage-month-${i}`), want.month)
  }

  // The property's contact, and a tap calls it.
  const props = (await asCustomer(`{ myProperties { id name contactName contactPhone } }`)).data.myProperties.filter((p) => p.contactName || p.contactPhone)
  assert.ok(props.length >= 1, 'the customer\'s property')
  assert.equal(page.data().contacts.length, props.length)
  for (const [i, p] of props.entries()) {
    assert.equal(page.text(`#contact-name-${i}`), p.contactName ? `${p.name} · ${p.contactName}` : p.name)
    if (!p.contactPhone) continue
    assert.equal(page.text(`#call-${i}`), `拨打 ${p.contactPhone}`)
    page.tap(`#call-${i}`)
    await until(() => wx.log.calls.length, 'wx.makePhoneCall')
    assert.equal(wx.log.calls.pop(), p.contactPhone.replace(/[^\d+]/g, ''), 'the number as myProperties has it, dialable')
  }
  wx.behaviour.call = 'cancel'
  page.tap('#call-0')
  await sleep(100)
  assert.ok(!page.has('#error'), 'closing the call dialog is no error')
  wx.behaviour.call = 'ok'

  // Alerts: the templates the server lists (mySubscriptionTemplates), at most three.
  const serverIds = [...new Set((await asCustomer(`{ mySubscriptionTemplates { alarmKind templateId } }`)).data.mySubscriptionTemplates.map((t) => t.templateId))]
  assert.deepEqual([...serverIds].sort(), [...new Set(templates)].sort(), 'the templates the operator set')
  page.tap('#subscribe')
  await until(() => page.has('#subscription'), 'the subscription')
  assert.deepEqual(wx.log.subscribeAsked.pop(), serverIds.slice(0, 3))
  const subs = (await asCustomer(`{ mySubscriptions { templateId remaining } }`)).data.mySubscriptions
  const n = subs.filter((s) => templates.includes(s.templateId)).reduce((x, s) => x + s.remaining, 0)
  assert.ok(n >= 1)
  assert.equal(page.text('#subscription'), i18n.fmt('home_subscribed', { n }))

  page.tap('#lang')
  await until(() => page.text('#state-0').length && page.data().t.home_title === en.home_title, 'English')
  assert.ok([en.state_normal, en.state_postpaid].includes(page.text('#state-0')))
  page.tap('#lang')
  await until(() => page.data().t.home_title === zh.home_title, 'Chinese')

  const i = api.findIndex((a) => a.id === prepaid.id)
  page.tap(`#recharge-${i}`)
  await until(() => wx.lastNavigation()?.[1] === `/pages/recharge/index?id=${prepaid.id}`, 'the recharge page')
})

test('home: a tariff version effective next week shows as a price notice, as myPriceChanges has it', async () => {
  const PRICES = `{ myPriceChanges { tariffName effectiveFrom before { rate price } after { rate price } } }`
  const before = (await asCustomer(PRICES)).data.myPriceChanges
  const first = open('home')
  first.instance.onLoad()
  await first.instance.onShow()
  assert.equal(first.has('#price-notices'), before.length > 0, 'a notice only when myPriceChanges has entries')

  const name = `小程序测试电价 ${stamp}`
  tariffId = (await q(T, `mutation($i: CreateTariffInput!) { createTariff(input: $i) { id } }`, { i: { name, tariff: { prices: [{ rate: 'FLAT', price: '0.6800' }] } } })).createTariff.id
  const nextWeek = new Date(Date.now() + 7 * 86400_000)
  nextWeek.setUTCHours(16, 0, 0, 0) // a local midnight in Asia/Shanghai
  await q(T, `mutation($i: AddTariffVersionInput!) { addTariffVersion(input: $i) { id } }`, {
    i: { tariffId, effectiveFrom: nextWeek.toISOString(), tariff: { prices: [{ rate: 'FLAT', price: '0.7200' }] } },
  })
  await q(T, `mutation($t: ID!, $m: ID!) { assignTariff(input: { tariffId: $t, meterId: $m }) }`, { t: tariffId, m: made.meters[0] })

  const page = open('home')
  page.instance.onLoad()
  await page.instance.onShow()
  const api = (await asCustomer(PRICES)).data.myPriceChanges
  // (A server that lists a tariff's first version too lists it as prices put in force.)
  const mine = api.find((c) => c.tariffName === name && Date.parse(c.effectiveFrom) === nextWeek.getTime())
  assert.ok(mine, 'next week\'s change is the customer\'s')
  assert.deepEqual(mine.before, [{ rate: 'FLAT', price: '0.6800' }])
  assert.deepEqual(mine.after, [{ rate: 'FLAT', price: '0.7200' }])

  assert.ok(page.has('#price-notices'))
  assert.equal(page.data().notices.length, api.length)
  const { localDate } = lib('view')
  for (const [i, c] of api.entries()) {
    const date = localDate(c.effectiveFrom)
    assert.equal(page.text(`#price-heading-${i}`), c.before.length ? `${c.tariffName}：自 ${date} 起调整` : `${c.tariffName}：自 ${date} 起执行`)
    const moved = c.after.filter((a) => c.before.find((b) => b.rate === a.rate)?.price !== a.price)
    const items = (moved.length ? moved : c.after).map((a) => {
      const b = c.before.find((x) => x.rate === a.rate)
      const rate = zh[`rate_${a.rate}`]
      return b ? `${rate} ${money.formatPrice(b.price)} → ${money.formatPrice(a.price)} 元/千瓦时` : `${rate} ${money.formatPrice(a.price)} 元/千瓦时`
    })
    assert.deepEqual(page.data().notices[i].items, items)
    for (const [n, item] of items.entries()) assert.equal(page.text(`#price-item-${i}-${n}`), item)
  }
  const i = api.indexOf(mine)
  assert.equal(page.text(`#price-item-${i}-0`), '平段 0.68 → 0.72 元/千瓦时')
  page.tap('#lang')
  await until(() => page.text(`#price-heading-${i}`) === `${name}: changes from ${localDate(mine.effectiveFrom)}`, 'English')
  assert.equal(page.text(`#price-item-${i}-0`), 'Flat 0.68 → 0.72 yuan/kWh')
  page.tap('#lang')
  await until(() => page.data().t.home_title === zh.home_title, 'Chinese')
})

test('recharge 20.00 tapped twice: one order, paid through the stand-in, balance + 20.00 - fee exactly', async () => {
  const fee = (await q(T, `query($a: ID!) { rechargeFee(accountId: $a, amount: "20.00") }`, { a: prepaid.id })).rechargeFee
  assert.notEqual(fee, '0.00', 'a fee applies')
  const before = (await asCustomer(`{ myAccounts { id balance } }`)).data.myAccounts.find((a) => a.id === prepaid.id).balance

  const page = open('recharge')
  await page.instance.onLoad({ id: prepaid.id })
  assert.equal(page.text('#number'), prepaid.number)
  assert.equal(page.text('#balance'), money.formatYuan(before))

  // Custom amounts outside the limits are refused on the page.
  page.fire('#custom', 'input', { value: '0.5' })
  await until(() => page.has('#amount-error'), 'the minimum')
  assert.equal(page.text('#amount-error'), zh.amount_min)
  page.fire('#custom', 'input', { value: '5000.01' })
  await until(() => page.text('#amount-error') === zh.amount_max, 'the maximum')

  page.tap('#preset-0')
  await until(() => page.data().amount === '20.00' && page.has('#fee') && !page.has('#amount-error'), '20.00 chosen')
  // The fee before paying: the server answers rechargeFee to operators only (guard.rs: Read),
  // so the page shows the fee policy; were the customer allowed, it would show the amount.
  const customerFee = await asCustomer(`query($a: ID!) { rechargeFee(accountId: $a, amount: "20.00") }`, { a: prepaid.id })
  if (customerFee.errors) {
    assert.equal(customerFee.errors[0].extensions.code, 'FORBIDDEN')
    await until(() => page.text('#fee').includes(zh.recharge_fee_policy), 'the fee policy')
  } else {
    const credit = money.formatYuan(money.toFen('20.00') - money.toFen(fee))
    await until(() => page.text('#fee').includes(i18n.fmt('recharge_fee_amount', { fee: money.formatYuan(fee), credit })), 'the fee')
  }
  assert.equal(page.text('#pay'), '微信支付 ¥20.00')

  const ordersBefore = wx.graphql('createRechargeOrder').length
  const askedBefore = wx.log.subscribeAsked.length
  wx.log.sequence.length = 0
  page.tap('#pay')
  page.tap('#pay')
  await until(() => page.has('#done') || page.has('#error'), 'the payment', 45000)
  assert.ok(!page.has('#error'), page.has('#error') && page.text('#error'))
  // Alerts asked once, with the server's templates, before the order and the payment.
  assert.deepEqual(wx.log.sequence, ['subscribe', 'order', 'pay'])
  assert.equal(wx.log.subscribeAsked.length - askedBefore, 1)
  const serverIds = [...new Set((await asCustomer(`{ mySubscriptionTemplates { templateId } }`)).data.mySubscriptionTemplates.map((t) => t.templateId))]
  assert.deepEqual(wx.log.subscribeAsked[wx.log.subscribeAsked.length - 1], serverIds.slice(0, 3))

  assert.equal(wx.graphql('createRechargeOrder').length - ordersBefore, 1, 'one createRechargeOrder sent')
  assert.equal(wx.log.payments.length, 1, 'one wx.requestPayment')
  const orders = (await q(T, `query($a: ID!) { rechargeOrders(accountId: $a) { id state amount transactionId } }`, { a: prepaid.id })).rechargeOrders
  assert.equal(orders.length, 1, 'the server has one order')
  assert.equal(orders[0].state, 'PAID')
  assert.equal(orders[0].amount, '20.00')

  const after = (await asCustomer(`{ myAccounts { id balance } }`)).data.myAccounts.find((a) => a.id === prepaid.id).balance
  const credited = money.toFen('20.00') - money.toFen(fee)
  assert.equal(money.toFen(after) - money.toFen(before), credited, `balance ${before} -> ${after}, fee ${fee}`)
  assert.equal(page.text('#balance'), money.formatYuan(after))
  assert.equal(page.text('#done'), i18n.fmt('recharge_done', { credit: money.formatYuan(credited), balance: money.formatYuan(after) }))
})

test('history: the recharge made here with its amount, time, channel and receipt number; the receipt = myReceipt', async () => {
  const items = await ledgerOf(prepaid.id)
  const paidIn = items.filter((e) => PAID_IN.includes(e.kind))
  const recharge = items.find((e) => e.kind === 'RECHARGE_WECHAT')
  assert.ok(recharge && recharge.receiptNo, 'the WeChat recharge has a receipt')
  assert.equal(recharge.amount, '20.00')
  assert.equal(recharge.channel, 'WECHAT')

  const page = open('history')
  await page.instance.onLoad({ id: prepaid.id })
  assert.equal(page.text('#heading'), `户号 ${prepaid.number}`)
  assert.equal(page.data().rows.length, paidIn.length, 'the payments, not the fee')
  const i = paidIn.findIndex((e) => e.id === recharge.id)
  assert.equal(page.text(`#entry-title-${i}`), zh.kind_RECHARGE_WECHAT)
  assert.equal(page.text(`#entry-amount-${i}`), '+20.00')
  assert.equal(page.text(`#entry-receipt-${i}`), `收据号 ${recharge.receiptNo} ›`)
  assert.equal(page.text(`#entry-time-${i}`), lib('view').localTime(recharge.createdAt))
  page.tap(`#entry-${i}`)
  await until(() => wx.lastNavigation()?.[1] === `/pages/receipt/index?no=${recharge.receiptNo}`, 'the receipt page')

  const receipt = open('receipt')
  await receipt.instance.onLoad({ no: String(recharge.receiptNo) })
  const api = (await asCustomer(`query($n: Int!) { myReceipt(number: $n) { number total entries { kind amount note } } }`, { n: recharge.receiptNo })).data.myReceipt
  assert.equal(receipt.text('#number'), `收据号 ${api.number}`)
  assert.equal(receipt.text('#total'), money.formatYuan(api.total))
  assert.equal(receipt.text('#amount'), `¥${money.formatYuan(api.total)}`)
  assert.equal(receipt.data().receipt.entries.length, api.entries.length)
  for (const [n, e] of api.entries.entries()) {
    assert.equal(receipt.text(`#entry-kind-${n}`), zh[`kind_${e.kind}`])
    assert.equal(receipt.text(`#entry-amount-${n}`), money.formatYuan(e.amount))
  }
  // The recharge and the fee taken from it: the total is what was credited.
  const fee = (await q(T, `query($a: ID!) { rechargeFee(accountId: $a, amount: "20.00") }`, { a: prepaid.id })).rechargeFee
  assert.deepEqual(api.entries.map((e) => e.kind).sort(), ['RECHARGE_WECHAT', 'SERVICE_FEE'])
  assert.equal(money.toFen(api.total), 2000 - money.toFen(fee))
  receipt.tap('#lang')
  await until(() => receipt.text('#number') === `Receipt ${api.number}`, 'English')
  receipt.tap('#lang')
  await until(() => receipt.data().t.receipt_title === zh.receipt_title, 'Chinese')

  // Another's receipt is not found (the server answers null).
  const other = open('receipt')
  await other.instance.onLoad({ no: '1' })
  if ((await asCustomer(`{ myReceipt(number: 1) { number } }`)).data.myReceipt === null) assert.equal(other.text('#error'), zh.receipt_not_found)
})

test('usage page: by day (the last 30 days) and by month (the last 12), a bar per bucket, the values listed', async () => {
  const page = open('usage')
  await page.instance.onLoad({ id: prepaid.id })
  assert.equal(page.text('#heading'), `户号 ${prepaid.number}`)
  for (const bucket of ['DAY', 'MONTH']) {
    if (bucket === 'MONTH') {
      page.tap('#tab-month')
      await until(() => !page.data().loading && page.data().bucket === 'MONTH' && wx.graphql('bucket: MONTH').length, 'months')
    }
    const sent = wx.graphql(`bucket: ${bucket}`).pop()
    const api = (await asCustomer(sent.body.query, sent.body.variables)).data.myUsage
    const now = new Date()
    const from = bucket === 'DAY' ? new Date(now.getFullYear(), now.getMonth(), now.getDate() - 29) : new Date(now.getFullYear(), now.getMonth() - 11, 1)
    assert.equal(sent.body.variables.f, from.toISOString())
    assert.ok(api.length >= (bucket === 'DAY' ? 30 : 12), `${api.length} buckets`)
    assert.equal(page.comp.querySelectorAll('.bar').length, api.length, 'a bar per bucket')
    assert.equal(page.data().rows.length, api.length)
    const last = api[api.length - 1]
    assert.equal(page.text('#row-value-0'), `${twoPlaces(units(last.energy))} 千瓦时 · 电费 ¥${money.formatYuan(last.cost)}`, 'newest first')
    const energy = api.reduce((s, p) => s + units(p.energy), 0n)
    const cost = api.reduce((s, p) => s + units(p.cost), 0n)
    assert.equal(page.text('#total'), `合计 ${twoPlaces(energy)} 千瓦时，电费 ${money.formatYuan(twoPlaces(cost))} 元`)
  }
  page.tap('#tab-day')
  await until(() => !page.data().loading && page.data().bucket === 'DAY' && page.data().bars.length >= 30, 'days again')
})

test('a cancelled payment and a dead network are said in words; nothing is credited', async () => {
  const balance = async () => (await asCustomer(`{ myAccounts { id balance } }`)).data.myAccounts.find((a) => a.id === prepaid.id).balance
  const before = await balance()
  const page = open('recharge')
  await page.instance.onLoad({ id: prepaid.id })
  page.tap('#preset-1')
  await until(() => page.data().amount === '50.00', '50.00 chosen')
  wx.behaviour.payment = 'cancel'
  page.tap('#pay')
  await until(() => page.has('#error'), 'the cancellation')
  wx.behaviour.payment = 'ok'
  assert.match(page.text('#error'), new RegExp(zh.err_pay_cancelled))
  assert.equal(page.data().paying, false, 'the button is back')
  await sleep(1500)
  assert.equal(await balance(), before)

  install(wx, { apiBase: 'http://127.0.0.1:9' })
  const home = open('home')
  home.instance.onLoad()
  await home.instance.onShow()
  install(wx, { apiBase: BASE })
  assert.match(home.text('#error'), new RegExp(zh.err_network))
  assert.match(home.text('#error .detail'), /request:fail/)
})

test('bills: the list is myBills with lines; the bill paid through WeChat Pay shows PAID, and the API says PAID', async () => {
  const list = open('bills')
  list.instance.onLoad()
  await list.instance.onShow()
  const api = (await asCustomer(`{ myBills { id accountId period state total lines { kind amount } } }`)).data.myBills
  assert.ok(api.some((b) => b.id === bill.id), 'the issued bill is the customer\'s')
  assert.equal(list.data().bills.length, api.length)
  for (const [i, b] of api.entries()) {
    assert.equal(list.text(`#bill-title-${i}`), `${b.period} 账单`)
    assert.equal(list.text(`#bill-state-${i}`), zh[`bill_state_${b.state}`])
    assert.equal(list.text(`#bill-total-${i}`), `合计 ¥${money.formatYuan(b.total)}`)
  }
  const i = api.findIndex((b) => b.id === bill.id)
  assert.equal(list.text(`#bill-state-${i}`), zh.bill_state_ISSUED)
  list.tap(`#bill-${i}`)
  await until(() => wx.lastNavigation()?.[1] === `/pages/bill/index?id=${bill.id}`, 'the bill page')

  const page = open('bill')
  await page.instance.onLoad({ id: bill.id })
  const lines = (await asCustomer(`{ myBills { id lines { kind description amount } } }`)).data.myBills.find((b) => b.id === bill.id).lines
  assert.ok(lines.length >= 1)
  for (const [n, l] of lines.entries()) {
    assert.equal(page.text(`#line-kind-${n}`), zh[`line_${l.kind}`] ?? l.kind)
    assert.equal(page.text(`#line-amount-${n}`), money.formatYuan(l.amount))
    assert.equal(page.text(`#line-desc-${n}`), l.description)
  }
  assert.ok(lines.some((l) => l.kind === 'PROPERTY_FEE' && l.amount === '35.50'))
  assert.equal(page.text('#total'), `合计 ¥${money.formatYuan(bill.total)}`)
  assert.equal(page.text('#state'), zh.bill_state_ISSUED)

  const payments = wx.log.payments.length
  page.tap('#pay')
  page.tap('#pay')
  await until(() => page.has('#done') || page.has('#error'), 'the bill payment', 45000)
  assert.ok(!page.has('#error'), page.has('#error') && page.text('#error'))
  assert.equal(page.text('#done'), zh.bill_done)
  assert.equal(page.text('#state'), zh.bill_state_PAID)
  assert.ok(!page.has('#pay'), 'nothing left to pay')
  assert.match(page.text('#paid-at'), /^缴费时间 \d{4}-\d\d-\d\d \d\d:\d\d$/)
  assert.equal(wx.log.payments.length - payments, 1, 'one payment for two taps')
  assert.equal(wx.graphql('createBillOrder').length, 1)

  const mine = (await asCustomer(`{ myBills { id state paidAt } }`)).data.myBills.find((b) => b.id === bill.id)
  assert.equal(mine.state, 'PAID')
  const server = (await q(T, `query($id: ID!) { bill(id: $id) { state } }`, { id: bill.id })).bill
  assert.equal(server.state, 'PAID')

  page.tap('#lang')
  await until(() => page.text('#state') === en.bill_state_PAID, 'English')
  assert.equal(page.text('#title'), `Bill for ${bill.period}`)
  page.tap('#lang')
})

test('history of the post-paid account: the bill paid online, its channel and receipt', async () => {
  const items = await ledgerOf(postpaid.id)
  const paidIn = items.filter((e) => PAID_IN.includes(e.kind))
  const paid = paidIn.find((e) => e.kind === 'BILL_PAYMENT')
  assert.ok(paid && paid.receiptNo, 'the bill payment has a receipt')
  const page = open('history')
  await page.instance.onLoad({ id: postpaid.id })
  assert.equal(page.data().rows.length, paidIn.length)
  const i = paidIn.indexOf(paid)
  assert.equal(page.text(`#entry-title-${i}`), paid.channel ? `${zh.kind_BILL_PAYMENT} · ${zh[`channel_${paid.channel}`]}` : zh.kind_BILL_PAYMENT)
  assert.equal(page.text(`#entry-amount-${i}`), `+${money.formatYuan(paid.amount)}`)
  assert.equal(page.text(`#entry-receipt-${i}`), `收据号 ${paid.receiptNo} ›`)
})

test('bind with the code: a wrong code is refused with the server message; the code the operator issued binds; home shows the accounts', async () => {
  const first = wx
  const { wechat, pay } = standIns()
  wx = fakeWx({ wechat, pay, appid: APPID, openid: `${openid}-code` })
  install(wx, { apiBase: BASE, tenant: TENANT, paymentWaitMs: 30000 })
  try {
    const login = open('login')
    login.instance.onLoad()
    login.tap('#login')
    await until(() => wx.lastNavigation()?.[1] === '/pages/bind/index', 'the bind page')
    assert.equal((await asCustomer(`{ myAccounts { id } }`)).data.myAccounts.length, 0, 'a new WeChat user has nothing bound')

    const code = (await q(T, `mutation($a: ID!) { issueBindingCode(accountId: $a) }`, { a: prepaid.id })).issueBindingCode
    assert.match(code, /^[0-9A-Z]{8}$/)
    const wrong = code.slice(0, 7) + (code[7] === '2' ? '3' : '2')

    const page = open('bind')
    page.instance.onLoad()
    assert.equal(page.text('#code-heading'), zh.bind_code_heading)
    page.fire('#number', 'input', { value: prepaid.number })
    page.fire('#code', 'input', { value: wrong })
    await until(() => page.data().number === prepaid.number && page.data().code === wrong, 'the number and code typed')
    page.tap('#bind-code')
    await until(() => page.has('#error'), 'the refusal')
    const answer = wx.graphql('bindAccount').pop().answer
    assert.equal(answer.errors[0].extensions.code, 'VALIDATION')
    assert.equal(answer.errors[0].extensions.field, 'bindingCode')
    assert.match(page.text('#error'), new RegExp(zh.err_bind_code.slice(0, 8)))
    assert.equal(page.text('#error .detail'), answer.errors[0].message, "the server's own message is shown")
    assert.equal((await asCustomer(`{ myAccounts { id } }`)).data.myAccounts.length, 0, 'nothing bound')

    // As printed: grouped 4 + 4, typed in lower case.
    page.fire('#code', 'input', { value: `${code.slice(0, 4)} ${code.slice(4)}`.toLowerCase() })
    page.tap('#bind-code')
    await until(() => wx.lastNavigation()?.[1] === '/pages/home/index', 'home')
    const sent = wx.graphql('bindAccount').pop()
    assert.ok(!sent.answer.errors, JSON.stringify(sent.answer.errors))

    const api = (await asCustomer(`{ myAccounts { ${ACCOUNT} } }`)).data.myAccounts
    assert.deepEqual(api.map((a) => a.id).sort(), [prepaid.id, postpaid.id].sort(), "the customer's two accounts")
    const home = open('home')
    home.instance.onLoad()
    await home.instance.onShow()
    assert.equal(home.data().accounts.length, api.length)
    for (const [i, a] of api.entries()) {
      assert.equal(home.text(`#heading-${i}`), `户号 ${a.number}`)
      assert.equal(home.text(`#balance-${i}`), money.formatYuan(a.balance))
    }
  } finally {
    wx = first
    install(first, { apiBase: BASE, tenant: TENANT, paymentWaitMs: 30000 })
  }
})

test('a live account (a demo meter reporting every few seconds): home and the usage page = myUsage, the bars proportional', async () => {
  const accs = (await q(T, `{ accounts(pageSize: 300) { items { id number state meters { billingMode linkState } } } }`)).accounts.items
  const live = accs.find((a) => a.state === 'OPEN' && a.meters.length === 1 && a.meters[0].billingMode === 'PLATFORM_PREPAID' && a.meters[0].linkState === 'ONLINE')
  assert.ok(live, 'a demo account whose meter reports')
  const first = wx
  const { wechat, pay } = standIns()
  wx = fakeWx({ wechat, pay, appid: APPID, openid: `${openid}-live` })
  install(wx, { apiBase: BASE, tenant: TENANT, paymentWaitMs: 30000 })
  try {
    await lib('api').loginWithWechat()
    const code = (await q(T, `mutation($a: ID!) { issueBindingCode(accountId: $a) }`, { a: live.id })).issueBindingCode
    await lib('queries').bindAccount(live.number, { bindingCode: code })
    const token = wx.accessToken()
    const read = async (variables) => {
      const r = await gql(token, USAGE, variables)
      assert.ok(!r.errors, JSON.stringify(r.errors))
      return r.data
    }

    // The meter settles every few seconds: the page must equal the API when two reads of the
    // API around the page's own agree.
    let checked = false
    for (let attempt = 0; attempt < 10 && !checked; attempt++) {
      const now = new Date()
      const before = await read({ a: live.id, f: new Date(now.getFullYear(), now.getMonth(), 1).toISOString(), t: now.toISOString() })
      const home = open('home')
      home.instance.onLoad()
      await home.instance.onShow()
      const { points } = await usageAsSent(wx, live.id, token)
      const want = expectedUsage(points)
      // Quiet: the page's read between two equal reads, the month bucket the days' sum.
      if (JSON.stringify(points) !== JSON.stringify(before.d) || twoPlaces(units(before.m[before.m.length - 1].energy)) !== want.month) continue
      const i = home.data().accounts.findIndex((a) => a.id === live.id)
      assert.ok(units(want.month) > 0n, 'the demo meter has used something this month')
      assert.equal(home.text(`#usage-today-${i}`), want.today)
      assert.equal(home.text(`#usage-month-${i}`), want.month)
      checked = true
    }
    assert.ok(checked, 'home compared with a quiet API')

    checked = false
    for (let attempt = 0; attempt < 10 && !checked; attempt++) {
      const page = open('usage')
      await page.instance.onLoad({ id: live.id })
      const sent = wx.graphql('bucket: DAY').pop()
      const api = (await gql(token, sent.body.query, sent.body.variables)).data.myUsage
      if (JSON.stringify(api) !== JSON.stringify(page.data().points)) continue
      const bars = page.comp.querySelectorAll('.bar')
      assert.equal(bars.length, api.length, 'a bar per bucket')
      const values = api.map((p) => Number(p.energy))
      const max = Math.max(...values)
      assert.ok(max > 0)
      for (const [n, p] of api.entries()) {
        const h = page.data().bars[n].height
        assert.ok(Math.abs(h - (values[n] / max) * 240) <= 0.05, `bar ${n}: ${h} rpx for ${p.energy} kWh`)
        assert.match(bars[n].dom.getAttribute('style') ?? '', new RegExp(`height: ?${h}(rpx|px)`), 'the height is the bar\'s style')
      }
      assert.equal(Math.max(...page.data().bars.map((b) => b.height)), 240, 'the tallest bar is the full height')
      checked = true
    }
    assert.ok(checked, 'the usage page compared with a quiet API')
  } finally {
    wx = first
    install(first, { apiBase: BASE, tenant: TENANT, paymentWaitMs: 30000 })
  }
})
