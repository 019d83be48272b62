// Device profiles: identifier names, the read list as typed, the create input per scheme, and
// the refused items a READ command's reason names.
import { describe, expect, it } from 'vitest'
import { builtinNameKey, diKey, lacksFollowUp, profileInput, readsText, refusedItems, splitReads } from '@/lib/deviceProfiles'

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
    expect(builtinNameKey('0c1e')).toBeNull()
  })
})

describe('create input', () => {
  const base = { name: ' Meter X ', reads: '04000101', passwordLevel: 4, password: '123456', operatorCode: ' 0A0B ' }
  it('sealed: no password, level or operator', () => {
    expect(profileInput({ ...base, scheme: 'VL3DES_1' })).toEqual({ name: 'Meter X', reads: '04000101', scheme: 'VL3DES_1' })
  })
  it('plain: all three, empty ones as null', () => {
    expect(profileInput({ ...base, scheme: 'DLT645_PLAIN' })).toEqual({ name: 'Meter X', reads: '04000101', scheme: 'DLT645_PLAIN', passwordLevel: 4, password: '123456', operatorCode: '0A0B' })
    expect(profileInput({ ...base, scheme: 'DLT645_PLAIN', password: '', operatorCode: '', passwordLevel: null })).toMatchObject({ password: null, operatorCode: null, passwordLevel: null })
    expect(profileInput({ ...base, scheme: 'VL3DES_1', reads: '04000101，04000102' }).reads).toBe('04000101,04000102')
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
