// The customer's whole path through the rendered pages against the real server and its
// WeChat / WeChat Pay stand-ins (see harness/fakewx.mjs): log in, bind (a wrong phone refused
// with the server's message), home = myAccounts, alerts subscribed, recharge 20.00 with a
// double tap (one order, paid through the stand-in, the balance up by 20.00 minus the fee
// exactly), a cancelled payment and a dead network in words, bills = myBills, a bill paid;
// a second WeChat user binds with the binding code (绑定码) the operator issued (a wrong code
// refused with the server's message).
//
// Setup as the operator (the demo has no account for this test): a customer with a phone, a
// platform-prepaid meter that never reports (so nothing is consumed while the test runs) on
// one account, a post-paid meter with a property fee on another, that month's bill run and the
// bill issued; the property gets a service fee for the run when it has none. Everything is
// closed, retired or restored afterwards.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { APPID, BASE, TENANT, gql, operatorToken, q, serverUp, standIns } from '../harness/server.mjs'
import { fakeWx } from '../harness/fakewx.mjs'
import { i18n, install, money, open, sleep, until } from '../harness/sim.mjs'

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
  install(wx, { apiBase: BASE, tenant: TENANT, templates, paymentWaitMs: 30000 })
})

after(async () => {
  if (!T) return
  if (feeWasSet) await gql(T, `mutation($p: ID!) { setServiceFee(input: { propertyId: $p, clear: true }) { serviceFeePercent } }`, { p: propertyId })
  for (const id of made.accounts) await gql(T, `mutation($id: ID!) { closeAccount(id: $id, note: "mini-program test") { receiptNo } }`, { id })
  for (const id of made.meters) await gql(T, `mutation($id: ID!) { retireMeter(input: { id: $id }) { id } }`, { id })
  for (const id of made.customers) await gql(T, `mutation($id: ID!) { retireCustomer(input: { id: $id }) { id } }`, { id })
})

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

test('home: each account as myAccounts has it — balance, state in words, price now; alerts subscribed', async () => {
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
  }

  page.tap('#subscribe')
  await until(() => page.has('#subscription'), 'the subscription')
  assert.deepEqual(wx.log.subscribeAsked.pop(), templates.slice(0, 3))
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
  page.tap('#pay')
  page.tap('#pay')
  await until(() => page.has('#done') || page.has('#error'), 'the payment', 45000)
  assert.ok(!page.has('#error'), page.has('#error') && page.text('#error'))

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

test('bind with the code: a wrong code is refused with the server message; the code the operator issued binds; home shows the accounts', async () => {
  const first = wx
  const { wechat, pay } = standIns()
  wx = fakeWx({ wechat, pay, appid: APPID, openid: `${openid}-code` })
  install(wx, { apiBase: BASE, tenant: TENANT, templates, paymentWaitMs: 30000 })
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
    install(first, { apiBase: BASE, tenant: TENANT, templates, paymentWaitMs: 30000 })
  }
})
