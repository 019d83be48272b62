// The mobile pages' own rules: which channel pays where, what is kept across Alipay's round
// trip, usage periods and exact sums, and the merged messages (vue-i18n renders the lib's
// strings exactly as the lib's `fmt` does; both languages complete).
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import { dictionaries } from '@mp/lib/i18n'
import { setPlatform } from '@mp/lib/platform'
import { browserPlatform } from '../../mobile/src/platform'
import { en, zh } from '../../mobile/src/messages'
import { messages } from '../../mobile/src/i18n'
import { channelFor, findPending, keepPending, returnUrl, type Pending } from '../../mobile/src/payflow'
import { bucketLabel, kwh, lastDays, lastMonths, monthToDate, todayAndMonth, totals } from '../../mobile/src/usage'

describe('payment channel', () => {
  const both = { wechatPay: true, alipay: true }
  it('WeChat Pay in WeChat\'s browser, Alipay elsewhere', () => {
    expect(channelFor(both, true)).toEqual({ channel: 'WECHAT' })
    expect(channelFor(both, false)).toEqual({ channel: 'ALIPAY' })
  })
  it('says why when the company takes neither here', () => {
    expect(channelFor({ wechatPay: false, alipay: true }, true)).toEqual({ channel: null, why: 'm_channel_none_in_wechat' })
    expect(channelFor({ wechatPay: true, alipay: false }, false)).toEqual({ channel: null, why: 'm_channel_none_outside' })
    expect(channelFor({ wechatPay: false, alipay: false }, false)).toEqual({ channel: null, why: 'm_channel_none' })
  })
  it('Alipay comes back to the result page', () => {
    expect(returnUrl('https://pay.example.com')).toBe('https://pay.example.com/m/pay/return')
  })
  it('keeps the last orders across the round trip, newest first', () => {
    const m = new Map<string, string>()
    setPlatform(
      browserPlatform({
        fetch: async () => new Response(''),
        storage: { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k) },
        navigate: () => undefined,
        back: () => undefined,
        toast: () => undefined,
        setTitle: () => undefined,
        bridge: () => undefined,
        onBridgeReady: () => undefined,
      }),
    )
    const p = (n: number): Pending => ({ outTradeNo: `VL${n}`, orderId: String(n), accountId: 'a', kind: 'recharge', billId: null, amount: '20.00', channel: 'ALIPAY', wasOff: false, at: n })
    for (let i = 0; i < 12; i++) keepPending(p(i))
    expect(findPending('VL11')?.orderId).toBe('11')
    expect(findPending('VL1')).toBeUndefined()
    keepPending({ ...p(5), wasOff: true })
    expect(findPending('VL5')?.wasOff).toBe(true)
  })
})

describe('usage', () => {
  const now = new Date(2026, 11, 6, 14, 30) // 2026-12-06 14:30 local
  it('periods start and end at local midnights', () => {
    const d = lastDays(now, 30)
    expect(new Date(d.from).getTime()).toBe(new Date(2026, 10, 7).getTime())
    expect(new Date(d.to).getTime()).toBe(new Date(2026, 11, 7).getTime())
    const m = lastMonths(now, 12)
    expect(new Date(m.from).getTime()).toBe(new Date(2026, 0, 1).getTime())
    expect(new Date(m.to).getTime()).toBe(new Date(2027, 0, 1).getTime())
    const mtd = monthToDate(now)
    expect(new Date(mtd.from).getTime()).toBe(new Date(2026, 11, 1).getTime())
    expect(new Date(mtd.to).getTime()).toBe(new Date(2026, 11, 7).getTime())
  })
  it('today and the month are exact decimal sums', () => {
    const at = (day: number) => new Date(2026, 11, day).toISOString()
    const points = [
      { at: at(1), energy: '0.1', cost: '0.07' },
      { at: at(5), energy: '0.2', cost: '0.13' },
      { at: at(6), energy: '1.2345', cost: '0.80' },
    ]
    expect(todayAndMonth(points, now)).toEqual({ today: '1.2345', month: '1.5345' })
    expect(totals(points)).toEqual({ energy: '1.5345', cost: '1.00' })
    expect(kwh('1.2345')).toBe('1.23')
    expect(kwh('1.235')).toBe('1.24')
    expect(bucketLabel(at(6), 'DAY')).toBe('12-06')
    expect(bucketLabel(at(6), 'MONTH')).toBe('2026-12')
  })
})

describe('messages', () => {
  it('zh-CN and en-US have the same keys, none empty, and none of the pages\' words hides a lib word', () => {
    expect(Object.keys(messages['en-US']).sort()).toEqual(Object.keys(messages['zh-CN']).sort())
    for (const lang of ['zh-CN', 'en-US'] as const) for (const [k, v] of Object.entries(messages[lang])) expect(v, `${lang} ${k}`).not.toBe('')
    const lib = new Set(Object.keys(dictionaries.zh))
    expect(Object.keys(zh).filter((k) => lib.has(k))).toEqual([])
    expect(Object.keys(en).sort()).toEqual(Object.keys(zh).sort())
  })
  it('the same placeholders in both languages', () => {
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
    for (const k of Object.keys(messages['zh-CN']) as (keyof (typeof messages)['zh-CN'])[]) expect(names(messages['en-US'][k]), k).toEqual(names(messages['zh-CN'][k]))
  })
  it('vue-i18n renders every message as the lib\'s fmt would (no message syntax in the words)', () => {
    const i18n = createI18n({ legacy: false, locale: 'zh-CN', messages, missingWarn: false, fallbackWarn: false })
    for (const lang of ['zh-CN', 'en-US'] as const) {
      i18n.global.locale.value = lang
      for (const [k, v] of Object.entries(messages[lang])) {
        const values: Record<string, string> = {}
        for (const m of v.matchAll(/\{(\w+)\}/g)) values[m[1] as string] = `<${m[1]}>`
        const expected = v.replace(/\{(\w+)\}/g, (_all, n: string) => `<${n}>`)
        expect(i18n.global.t(k, values), `${lang} ${k}`).toBe(expected)
      }
    }
  })
})
