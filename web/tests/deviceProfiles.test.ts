// Device profiles: identifier names, the read list as typed, a map's items as typed, the create
// input per scheme (a map only with its scheme), and the refused items a READ command's reason names.
import { describe, expect, it } from 'vitest'
import {
  VENDOR_JSON_EXAMPLE, builtinNameKey, diKey, isMapScheme, lacksFollowUp, mapField, mapItems, profileInput, readsText, refusedItems, schemeTag, splitReads,
} from '@/lib/deviceProfiles'

describe('identifiers', () => {
  it('named ones have a key, others none', () => {
    expect(diKey('0001FF00')).toBe('profiles.di.d0001FF00')
    expect(diKey('0001ff00')).toBe('profiles.di.d0001FF00')
    expect(diKey('00900200')).toBe('profiles.di.d00900200')
    expect(diKey('05060101')).toBeNull()
  })
  it('the read list split as the server splits it', () => {
    expect(splitReads('04000101, 04000102\n0x0001ff00;0201FF00  0201FF00')).toEqual(['04000101', '04000102', '0001FF00', '0201FF00'])
    expect(splitReads('  ')).toEqual([])
    expect(splitReads('04000101，04000102、0201FF00；0202FF00')).toEqual(['04000101', '04000102', '0201FF00', '0202FF00'])
    expect(splitReads(readsText(['04000101', '0001FF00']))).toEqual(['04000101', '0001FF00'])
  })
})

describe('built-in names', () => {
  it('by id', () => {
    expect(builtinNameKey('builtin-vl3des-1')).toBe('profiles.builtinName.vl3des')
    expect(builtinNameKey('builtin-dlt645-2007')).toBe('profiles.builtinName.dlt645')
    expect(builtinNameKey('builtin-acrel-ddsy1352')).toBe('profiles.builtinName.ddsy1352')
    expect(builtinNameKey('0c1e')).toBeNull()
  })
})

const REGISTER_MAP = '{"reads": [{"di": "00010000", "function": 3, "register": "0x0000", "format": "U32", "decimals": 2}]}'
const JSON_MAP = '{"values": [{"field": "EPI", "di": "00010000"}]}'

describe('create input', () => {
  const base = { name: ' Meter X ', reads: '04000101', passwordLevel: 4, password: '123456', operatorCode: ' 0A0B ', registerMap: ` ${REGISTER_MAP}\n`, jsonMap: `${JSON_MAP} ` }
  it('sealed: no password, level or operator', () => {
    expect(profileInput({ ...base, scheme: 'VL3DES_1' })).toEqual({ name: 'Meter X', reads: '04000101', scheme: 'VL3DES_1' })
  })
  it('plain: all three, empty ones as null', () => {
    expect(profileInput({ ...base, scheme: 'DLT645_PLAIN' })).toEqual({ name: 'Meter X', reads: '04000101', scheme: 'DLT645_PLAIN', passwordLevel: 4, password: '123456', operatorCode: '0A0B' })
    expect(profileInput({ ...base, scheme: 'DLT645_PLAIN', password: '', operatorCode: '', passwordLevel: null })).toMatchObject({ password: null, operatorCode: null, passwordLevel: null })
    expect(profileInput({ ...base, scheme: 'VL3DES_1', reads: '04000101，04000102' }).reads).toBe('04000101,04000102')
  })
  it('no map with the DL/T 645 schemes', () => {
    for (const scheme of ['VL3DES_1', 'DLT645_PLAIN'] as const) {
      const input = profileInput({ ...base, scheme })
      expect(input).not.toHaveProperty('registerMap')
      expect(input).not.toHaveProperty('jsonMap')
    }
  })
  it('MODBUS: the register map only (no reads, password, level, operator, JSON map)', () => {
    expect(profileInput({ ...base, scheme: 'MODBUS' })).toEqual({ name: 'Meter X', scheme: 'MODBUS', registerMap: REGISTER_MAP })
  })
  it('VENDOR_JSON: the JSON map only', () => {
    expect(profileInput({ ...base, scheme: 'VENDOR_JSON' })).toEqual({ name: 'Meter X', scheme: 'VENDOR_JSON', jsonMap: JSON_MAP })
  })
  it('an empty map is sent as typed (the server refuses it by field)', () => {
    expect(profileInput({ ...base, scheme: 'MODBUS', registerMap: '  ' })).toEqual({ name: 'Meter X', scheme: 'MODBUS', registerMap: '' })
  })
})

describe('maps', () => {
  it('which schemes have one, in which field', () => {
    expect(['VL3DES_1', 'DLT645_PLAIN', 'MODBUS', 'VENDOR_JSON'].map((s) => isMapScheme(s as never))).toEqual([false, false, true, true])
    expect(mapField('MODBUS')).toBe('registerMap')
    expect(mapField('VENDOR_JSON')).toBe('jsonMap')
    expect(mapField('DLT645_PLAIN')).toBeNull()
    expect(new Set(['VL3DES_1', 'DLT645_PLAIN', 'MODBUS', 'VENDOR_JSON'].map((s) => schemeTag(s as never))).size).toBe(4)
  })
  it('the items a map as typed reads', () => {
    expect(mapItems('MODBUS', REGISTER_MAP)).toEqual(['00010000'])
    expect(mapItems('MODBUS', '{"reads": [{"di": "0x02010100"}, {"di": "02010100"}, {"function": 3}, {"di": "04000503 "}]}')).toEqual(['02010100', '04000503'])
    expect(mapItems('VENDOR_JSON', JSON_MAP)).toEqual(['00010000'])
    expect(mapItems('VENDOR_JSON', REGISTER_MAP)).toEqual(null)
    expect(mapItems('MODBUS', '{"reads": [')).toBeNull()
    expect(mapItems('MODBUS', '[1]')).toBeNull()
    expect(mapItems('MODBUS', '')).toBeNull()
    expect(mapItems('DLT645_PLAIN', REGISTER_MAP)).toBeNull()
  })
  it('the vendor example is a JSON map whose commands are JSON messages', () => {
    const m = JSON.parse(VENDOR_JSON_EXAMPLE)
    expect(mapItems('VENDOR_JSON', VENDOR_JSON_EXAMPLE)).toEqual(['00010000', '02010100', '02020100', '02030000', '02060000', '04000503'])
    for (const k of ['trip', 'close', 'read']) expect(typeof JSON.parse(m[k])).toBe('object')
    expect(JSON.parse(m.trip)).toEqual({ cmd: 'switch', value: 0 })
  })
})

describe('refused items in a reason', () => {
  it('a read with refused items', () => {
    expect(refusedItems('operator — refused by the meter: 0001FF00: no_requested_data; 0201FF00: no_requested_data')).toEqual({
      head: 'operator',
      items: [{ di: '0001FF00', why: 'no_requested_data' }, { di: '0201FF00', why: 'no_requested_data' }],
      other: '',
    })
  })
  it('a relay command’s error bits', () => {
    expect(refusedItems('refused by the meter: password_error')).toEqual({ head: '', items: [], other: 'password_error' })
  })
  it('no refusal', () => {
    expect(refusedItems('operator')).toBeNull()
    expect(refusedItems(null)).toBeNull()
  })
  it('the follow-up read', () => {
    expect(lacksFollowUp('the registers of what the meter lacks (0001FF00, 0201FF00)')).toEqual(['0001FF00', '0201FF00'])
    expect(lacksFollowUp('operator')).toBeNull()
  })
})
