// Every visible string goes through i18n: both locales hold the same keys, and every key the
// source names literally exists.
import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import zh from '@/locales/zh-CN'
import en from '@/locales/en-US'

function keys(o: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`]))
}
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? files(p) : /\.(vue|ts)$/.test(f) && !f.endsWith('.d.ts') && !p.includes('generated') ? [p] : []
  })
}

describe('locales', () => {
  const zk = new Set(keys(zh))
  const ek = new Set(keys(en))
  it('zh-CN and en-US have the same keys', () => {
    expect([...zk].filter((k) => !ek.has(k))).toEqual([])
    expect([...ek].filter((k) => !zk.has(k))).toEqual([])
  })
  it('no message is empty', () => {
    const empty = (o: Record<string, unknown>) => keys(o).filter((k) => k.split('.').reduce<unknown>((a, p) => (a as Record<string, unknown>)[p], o) === '')
    expect(empty(zh)).toEqual([])
    expect(empty(en)).toEqual([])
  })
  it('every literal key used in the source exists', () => {
    const missing: string[] = []
    for (const f of files(join(__dirname, '../src'))) {
      const text = readFileSync(f, 'utf8')
      for (const m of text.matchAll(/\bte?\(\s*'([a-zA-Z0-9_]+(?:\.[a-zA-Z0-9_]+)+)'/g)) if (!zk.has(m[1]!)) missing.push(`${f}: ${m[1]}`)
      for (const m of text.matchAll(/\b(?:title|key): '((?:menu|meter|receipt|login)\.[a-zA-Z0-9_.]+)'/g)) if (!zk.has(m[1]!)) missing.push(`${f}: ${m[1]}`)
    }
    expect(missing).toEqual([])
  })
  it('enum-driven keys cover the schema enums used', () => {
    for (const f of ['NORMAL', 'ALARM_1', 'ALARM_2', 'ARREARS', 'TRIPPED', 'HOLD_POWER', 'NOT_OPENED']) expect(zk.has(`feeState.${f}`)).toBe(true)
    for (const s of ['QUEUED', 'SENT', 'ACKNOWLEDGED', 'CONFIRMED', 'FAILED', 'TIMED_OUT', 'EXPIRED', 'CANCELLED']) expect(zk.has(`commandStatus.${s}`)).toBe(true)
    for (const k of ['METER_PURCHASE', 'BILL_PAYMENT', 'BILL_SETTLEMENT']) expect(zk.has(`entryKind.${k}`)).toBe(true)
    for (const k of ['ENERGY', 'TIER', 'CAPACITY', 'SHARED_AREA', 'PROPERTY_FEE', 'SERVICE_FEE']) expect(zk.has(`billLine.${k}`)).toBe(true)
    for (const m of ['AREA', 'SHARES', 'ENERGY']) expect(zk.has(`shared.methods.${m}`) && zk.has(`shared.how.${m}`)).toBe(true)
    for (const d of ['POSTED', 'ON_BILL', 'ZERO']) expect(zk.has(`shareDisposition.${d}`)).toBe(true)
    for (const c of ['CASH', 'TRANSFER', 'WECHAT', 'ALIPAY']) expect(zk.has(`channel.${c}`)).toBe(true)
    for (const s of ['VL3DES_1', 'DLT645_PLAIN', 'MODBUS', 'VENDOR_JSON']) expect(zk.has(`profiles.schemeName.${s}`) && zk.has(`profiles.schemeHint.${s}`)).toBe(true)
    for (const s of ['MODBUS', 'VENDOR_JSON']) for (const k of ['label', 'hint', 'view', 'title']) expect(zk.has(`profiles.map.${k}.${s}`)).toBe(true)
  })
})
