// The logic modules alone, compiled as WeChat DevTools compiles them: money in fen, the amount
// limits, state words, the double-tap guard, both dictionaries complete, errors in words.
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

const memory = () => {
  const m = new Map()
  return { getItem: (k) => m.get(k) ?? '', setItem: (k, v) => m.set(k, v), removeItem: (k) => m.delete(k), setTitle() {}, reLaunch() {} }
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
