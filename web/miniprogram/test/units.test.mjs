// The logic modules alone, compiled as WeChat DevTools compiles them: money in fen, the amount
// limits, state words, the double-tap guard, both dictionaries complete, errors in words;
// usage (exact sums, the company's days, the bars), price notices, history rows and receipts,
// subscriptions asked within the tap, and the phone call.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { build } from '../harness/build.mjs'

const dir = build()
const require = createRequire(import.meta.url)
const lib = (m) => require(join(dir, 'lib', `${m}.js`))
const money = lib('money')
const state = lib('state')
const { single } = lib('guard')
const i18n = lib('i18n')
const platform = lib('platform')
const api = lib('api')
const errors = lib('errors')
const usage = lib('usage')
const prices = lib('prices')
const history = lib('history')
const subscribe = lib('subscribe')

const memory = (extra = {}) => {
  const m = new Map()
  return { getItem: (k) => m.get(k) ?? '', setItem: (k, v) => m.set(k, v), removeItem: (k) => m.delete(k), setTitle() {}, reLaunch() {}, ...extra }
}

test('money: fen from the API strings, formatting, no floating point', () => {
  assert.equal(money.toFen('265.04'), 26504)
  assert.equal(money.toFen('-3.5'), -350)
  assert.equal(money.toFen('0.1'), 10)
  assert.equal(money.toFen('0.6475'), 65)
  assert.equal(money.toFen('19.999'), 2000)
  assert.equal(money.formatYuan('1234567.8'), '1,234,567.80')
  assert.equal(money.formatYuan('-0.05'), '-0.05')
  assert.equal(money.formatYuan(1940), '19.40')
  assert.equal(money.fenToDecimal(2000), '20.00')
  assert.equal(money.formatPrice('0.6475'), '0.6475')
  assert.equal(money.formatPrice('1.2000'), '1.20')
  // 0.1 + 0.2 in yuan would not be 0.3 in floating point; in fen it is.
  assert.equal(money.formatYuan(money.toFen('0.1') + money.toFen('0.2')), '0.30')
  assert.throws(() => money.toFen('12abc'))
})

test('money: custom amounts within 1.00–5000.00 with at most two decimals', () => {
  assert.deepEqual(money.checkAmount('20'), { ok: true, fen: 2000, decimal: '20.00' })
  assert.deepEqual(money.checkAmount('1'), { ok: true, fen: 100, decimal: '1.00' })
  assert.deepEqual(money.checkAmount('5000.00'), { ok: true, fen: 500000, decimal: '5000.00' })
  assert.deepEqual(money.checkAmount('12.5'), { ok: true, fen: 1250, decimal: '12.50' })
  assert.deepEqual(money.checkAmount('12.'), { ok: true, fen: 1200, decimal: '12.00' })
  assert.deepEqual(money.checkAmount(''), { ok: false, reason: 'empty' })
  assert.deepEqual(money.checkAmount('0.99'), { ok: false, reason: 'min' })
  assert.deepEqual(money.checkAmount('5000.01'), { ok: false, reason: 'max' })
  assert.deepEqual(money.checkAmount('1.234'), { ok: false, reason: 'format' })
  assert.deepEqual(money.checkAmount('-5'), { ok: false, reason: 'format' })
  assert.deepEqual(money.checkAmount('1e3'), { ok: false, reason: 'format' })
  for (const p of money.PRESETS) assert.equal(money.checkAmount(p).ok, true, p)
})

test('state words: normal, alert 1, alert 2, arrears, power off, held, closed, post-paid', () => {
  const acc = (o) => ({ state: 'OPEN', balanceState: 'NORMAL', relay: 'CLOSED', holdPower: false, meters: [{ billingMode: 'PLATFORM_PREPAID', priceNow: '0.6475' }], ...o })
  const word = (o) => state.stateWords(acc(o)).word
  assert.equal(word({}), 'state_normal')
  assert.equal(word({ balanceState: 'LOW_1' }), 'state_alarm1')
  assert.equal(word({ balanceState: 'LOW_2' }), 'state_alarm2')
  assert.equal(word({ balanceState: 'ARREARS' }), 'state_arrears')
  assert.equal(word({ balanceState: 'EXHAUSTED', relay: 'OPEN' }), 'state_tripped')
  assert.equal(word({ balanceState: 'EXHAUSTED', holdPower: true }), 'state_held')
  assert.equal(word({ relay: 'OPEN' }), 'state_tripped', 'an operator trip is power off too')
  assert.equal(word({ state: 'CLOSED', relay: 'OPEN' }), 'state_closed')
  assert.equal(word({ meters: [{ billingMode: 'POST_PAID', priceNow: '1' }] }), 'state_postpaid')
  assert.deepEqual(state.pricesNow(acc({ meters: [{ priceNow: '0.6475' }, { priceNow: '0.6475' }, { priceNow: '1.1' }, { priceNow: null }] })), ['0.6475', '1.1'])
})

test('the guard: a second tap while the first runs starts nothing and shares its result', async () => {
  let started = 0
  let release
  const pay = single(function (amount) {
    started++
    assert.equal(this.name, 'page', 'the page is `this`')
    return new Promise((r) => (release = () => r(`paid ${amount}`)))
  })
  const page = { name: 'page', pay }
  const a = page.pay('20.00')
  const b = page.pay('20.00')
  assert.equal(pay.busy, true)
  await new Promise((r) => setTimeout(r, 10))
  assert.equal(started, 1)
  release()
  assert.deepEqual(await Promise.all([a, b]), ['paid 20.00', 'paid 20.00'])
  assert.equal(pay.busy, false)
  const c = page.pay('50.00')
  await new Promise((r) => setTimeout(r, 10))
  release()
  assert.equal(await c, 'paid 50.00')
  assert.equal(started, 2, 'after it settles, the next tap runs')
  // A failure frees the guard too.
  const failing = single(async () => {
    throw new Error('no')
  })
  await assert.rejects(failing(), /no/)
  assert.equal(failing.busy, false)
})

test('i18n: Chinese first, English complete, the same placeholders, the choice kept', () => {
  const { zh, en } = i18n.dictionaries
  assert.deepEqual(Object.keys(en).sort(), Object.keys(zh).sort())
  const holes = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
  for (const k of Object.keys(zh)) {
    assert.ok(zh[k].trim() && en[k].trim(), `${k} empty`)
    assert.deepEqual(holes(en[k]), holes(zh[k]), `${k} placeholders`)
    if (k !== 'lang_toggle' && !/^[{¥]/.test(zh[k])) assert.match(zh[k], /[\u4e00-\u9fff]/, `zh.${k} is Chinese`)
  }
  const store = memory()
  platform.setPlatform(store)
  i18n.resetLang()
  assert.equal(i18n.currentLang(), 'zh')
  assert.equal(i18n.fmt('recharge_pay', { amount: '20.00' }), '微信支付 ¥20.00')
  assert.equal(i18n.toggleLang(), 'en')
  assert.equal(i18n.fmt('recharge_pay', { amount: '20.00' }), 'Pay ¥20.00 with WeChat')
  i18n.resetLang()
  assert.equal(i18n.currentLang(), 'en', 'kept in storage')
  i18n.setLang('zh')
})

test('errors: whose failure it was, in words, with the server or WeChat detail', () => {
  platform.setPlatform(memory())
  i18n.resetLang()
  const zh = i18n.dictionaries.zh
  const d = (e) => errors.describe(e)
  assert.equal(d(new api.ApiError('network', 'request:fail timeout')).title, zh.err_network)
  assert.equal(d(new api.ApiError('wechat', 'WeChat refused the code: 40029 invalid code')).title, zh.err_wechat)
  const bind = d(new api.ApiError('server', 'accountNumber: no account with this number and phone', 'VALIDATION', 'accountNumber'))
  assert.equal(bind.title, zh.err_bind_mismatch)
  assert.equal(bind.detail, 'accountNumber: no account with this number and phone')
  const code = d(new api.ApiError('server', 'no account with this number and binding code', 'VALIDATION', 'bindingCode'))
  assert.equal(code.title, zh.err_bind_code)
  assert.equal(code.detail, 'no account with this number and binding code')
  assert.equal(d(new api.ApiError('server', 'too many wrong binding codes; try again later', 'VALIDATION', 'bindingCode')).title, zh.err_bind_code_locked)
  assert.equal(d(new api.ApiError('session', 'x', 'UNAUTHENTICATED')).relogin, true)
  assert.equal(d(new platform.WxError('requestPayment', 'requestPayment:fail cancel')).title, zh.err_pay_cancelled)
  const failed = d(new platform.WxError('requestPayment', 'requestPayment:fail system error'))
  assert.equal(failed.title, zh.err_pay_failed)
  assert.equal(failed.detail, 'requestPayment:fail system error')
})

test('the guard starts the call within the tap (WeChat asks subscriptions only then)', () => {
  let ran = false
  const tap = single(async () => {
    ran = true
  })
  tap()
  assert.equal(ran, true, 'ran before any tick')
  const throwing = single(() => {
    throw new Error('sync')
  })
  return assert.rejects(throwing(), /sync/).then(() => assert.equal(throwing.busy, false))
})

test('usage: exact sums, kWh to two places, today and the month as the company counts them', () => {
  assert.equal(usage.sumDecimals(['0.1', '0.2']), '0.3')
  assert.equal(usage.sumDecimals(['101.60', '0.0525', '-1']), '100.6525')
  assert.equal(usage.sumDecimals([]), '0')
  assert.equal(usage.kwh('101.6'), '101.60')
  assert.equal(usage.kwh('0.125'), '0.13')
  assert.equal(usage.kwh('0.1249'), '0.12')
  assert.equal(usage.kwh('-0.125'), '-0.13')
  assert.equal(usage.kwh('0'), '0.00')
  assert.throws(() => usage.sumDecimals(['1e3']))
  // Buckets at Shanghai midnights (16:00 UTC the day before): labels are Shanghai's dates.
  const p = (at, energy, cost = '0') => ({ at, energy, cost })
  assert.equal(usage.bucketLabel('2026-11-30T16:00:00+00:00', 'DAY'), '12-01')
  assert.equal(usage.bucketLabel('2026-11-30T16:00:00+00:00', 'MONTH'), '2026-12')
  assert.equal(usage.bucketLabel('2026-12-01T05:00:00+00:00', 'DAY'), '12-01', 'New York midnight')
  // The month is the last bucket's: a period asked from another zone's first of the month
  // may start a day early; that day is not this month.
  const points = [p('2026-11-29T16:00:00+00:00', '5.00'), p('2026-11-30T16:00:00+00:00', '1.25'), p('2026-12-01T16:00:00+00:00', '2.5')]
  assert.deepEqual(usage.todayAndMonth(points), { today: '2.5', month: '3.75' })
  assert.deepEqual(usage.todayAndMonth([]), { today: '0', month: '0' })
  assert.deepEqual(usage.totals([p('x', '1.5', '0.97'), p('y', '2.25', '1.46')]), { energy: '3.75', cost: '2.43' })
  // The periods asked end now and start at a local midnight.
  const now = new Date(2026, 11, 6, 15, 18)
  const m = usage.monthToDate(now)
  assert.equal(m.to, now.toISOString())
  assert.equal(m.from, new Date(2026, 11, 1).toISOString())
  assert.equal(usage.lastDays(now, 30).from, new Date(2026, 10, 7).toISOString())
  assert.equal(usage.lastMonths(now, 12).from, new Date(2026, 0, 1).toISOString())
})

test('usage bars: heights in rpx proportional to the energy, the tallest the maximum', () => {
  const pts = ['0', '5', '10', '2.5'].map((e, i) => ({ at: `2026-12-0${i + 1}T16:00:00Z`, energy: e, cost: '0' }))
  const b = usage.bars(pts, 'DAY', 240)
  assert.deepEqual(b.map((x) => x.height), [0, 120, 240, 60])
  assert.deepEqual(b.map((x) => x.energy), ['0.00', '5.00', '10.00', '2.50'])
  assert.equal(b[3].tick, '12-05', 'today is labelled')
  assert.deepEqual(usage.bars(pts.slice(0, 1), 'DAY', 240).map((x) => x.height), [0], 'nothing used: no bar')
  assert.equal(usage.bars([{ at: '2026-11-30T16:00:00Z', energy: '3', cost: '1' }], 'MONTH', 240)[0].tick, '12')
})

test('price notices: each rate before → after, new rates, the date', () => {
  platform.setPlatform(memory())
  i18n.resetLang()
  const change = {
    tariffName: '商铺电价',
    effectiveFrom: new Date(2026, 11, 13).toISOString(),
    before: [{ rate: 'PEAK', price: '0.9000' }, { rate: 'FLAT', price: '0.6800' }],
    after: [{ rate: 'PEAK', price: '0.9000' }, { rate: 'FLAT', price: '0.7200' }, { rate: 'VALLEY', price: '0.3500' }],
  }
  assert.deepEqual(prices.priceNotice(change), { heading: '商铺电价：自 2026-12-13 起调整', items: ['平段 0.68 → 0.72 元/千瓦时', '低谷 0.35 元/千瓦时'] })
  assert.deepEqual(prices.priceNotice({ ...change, before: [] }).heading, '商铺电价：自 2026-12-13 起执行')
  i18n.setLang('en')
  assert.deepEqual(prices.priceNotice(change).items, ['Flat 0.68 → 0.72 yuan/kWh', 'Valley 0.35 yuan/kWh'])
  i18n.setLang('zh')
})

test('history: payments only, the kind naming the channel, the receipt; a receipt as entries and total', () => {
  platform.setPlatform(memory())
  i18n.resetLang()
  const e = (kind, amount, receiptNo = 7, channel = null) => ({ id: kind, kind, amount, receiptNo, channel, externalRef: null, createdAt: '2026-12-06T07:20:08Z' })
  assert.deepEqual(['RECHARGE_WECHAT', 'SERVICE_FEE', 'ENERGY_CHARGE', 'BILL_PAYMENT', 'REFUND'].filter((k) => history.isPaidIn({ kind: k })), ['RECHARGE_WECHAT', 'BILL_PAYMENT', 'REFUND'])
  const row = history.historyRow(e('RECHARGE_WECHAT', '20.00', 12, 'WECHAT'))
  assert.equal(row.title, '微信充值')
  assert.equal(row.amount, '+20.00')
  assert.equal(row.receipt, '收据号 12')
  assert.equal(history.historyRow(e('BILL_PAYMENT', '35.50', 13, 'ALIPAY')).title, '账单缴费 · 支付宝')
  assert.equal(history.historyRow(e('REFUND', '-5.00', null)).amount, '-5.00')
  assert.equal(history.historyRow(e('REFUND', '-5.00', null)).receipt, '')
  const r = history.receiptView({ number: 12, total: '19.40', html: '<p>', entries: [{ kind: 'RECHARGE_WECHAT', amount: '20.00', note: '' }, { kind: 'SERVICE_FEE', amount: '-0.60', note: '' }] })
  assert.deepEqual(r, { number: 12, title: '收据号 12', total: '19.40', entries: [{ no: 0, kind: '微信充值', amount: '20.00', note: '' }, { no: 1, kind: '服务费', amount: '-0.60', note: '' }] })
})

test('subscriptions: the server\'s templates, at most three, asked at once; none set, nothing asked', async () => {
  const asked = []
  let answer = 'accept'
  const requests = []
  const p = memory({
    requestSubscribeMessage: (ids) => {
      asked.push(ids)
      return Promise.resolve(Object.fromEntries(ids.map((id) => [id, answer])))
    },
    request: async (url, method, data) => {
      requests.push(data.query)
      if (data.query.includes('mySubscriptionTemplates')) {
        const list = ['A', 'B', 'A', 'C', 'D'].map((templateId) => ({ alarmKind: 'LOW_BALANCE_1', templateId }))
        return { statusCode: 200, data: { data: { mySubscriptionTemplates: list } } }
      }
      return { statusCode: 200, data: { data: { reportSubscriptions: data.variables.i.accepted.map((templateId) => ({ templateId, remaining: 2 })) } } }
    },
  })
  platform.setPlatform(p)
  p.setItem('voltledger.tokens', JSON.stringify({ accessToken: 'a', refreshToken: 'r', expiresAt: Date.now() + 600000 }))
  const ids = await subscribe.templateIds()
  assert.deepEqual(ids, ['A', 'B', 'C'])
  const pending = subscribe.subscribe(ids)
  assert.deepEqual(asked, [['A', 'B', 'C']], 'asked before any tick')
  assert.deepEqual(await pending, { kind: 'subscribed', remaining: 6 })
  answer = 'reject'
  assert.deepEqual(await subscribe.subscribe(ids), { kind: 'none' })
  assert.deepEqual(await subscribe.subscribe([]), { kind: 'unset' })
  assert.equal(asked.length, 2, 'no dialog without templates')
})

test('the phone call: wx.makePhoneCall with the digits; closing the dialog is a cancel', async () => {
  const calls = []
  const wx = {
    makePhoneCall: ({ phoneNumber, success, fail }) => {
      calls.push(phoneNumber)
      setTimeout(() => (phoneNumber.startsWith('0') ? success({ errMsg: 'makePhoneCall:ok' }) : fail({ errMsg: 'makePhoneCall:fail cancel' })))
    },
  }
  const p = platform.wxPlatform(wx)
  await p.makePhoneCall('0571-8800 1234')
  assert.deepEqual(calls, ['057188001234'])
  const e = await p.makePhoneCall('+86 139').catch((x) => x)
  assert.ok(e instanceof platform.WxError && e.cancelled)
})
