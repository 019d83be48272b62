import { describe, expect, it } from 'vitest'
import { buildEntryFilter, buildMeterFilter, effectiveProperty, nextDate } from '@/lib/filters'
import { formatDateTime, localDayStart, zonedToUtc } from '@/lib/time'

describe('query building', () => {
  it('leaves out empty filters and trims text', () => {
    expect(buildMeterFilter({ propertyId: '', areaId: null, status: '', feeState: 'TRIPPED', q: '  S-01 ' })).toEqual({ feeState: 'TRIPPED', q: 'S-01' })
    expect(buildMeterFilter({})).toEqual({})
  })
  it('turns a local date range into [from, to) instants in the tenant zone', () => {
    const f = buildEntryFilter({ kind: 'RECHARGE_CASH', period: ['2026-11-01', '2026-11-30'], operator: ' ' }, 'Asia/Shanghai')
    expect(f).toEqual({ kind: 'RECHARGE_CASH', from: '2026-10-31T16:00:00.000Z', to: '2026-11-30T16:00:00.000Z' })
  })
  it('steps dates across month and year ends', () => {
    expect(nextDate('2026-12-31')).toBe('2027-01-01')
    expect(nextDate('2028-02-28')).toBe('2028-02-29')
  })
  it('always names a property for a scoped operator', () => {
    expect(effectiveProperty(null, null)).toBeNull()
    expect(effectiveProperty(null, ['p1', 'p2'])).toBe('p1')
    expect(effectiveProperty('p2', ['p1', 'p2'])).toBe('p2')
  })
})

describe('tenant time zone', () => {
  it('formats instants in the given zone', () => {
    expect(formatDateTime('2026-12-05T21:30:00Z', false, 'Asia/Shanghai')).toBe('2026-12-06 05:30')
    expect(formatDateTime('2026-07-01T12:00:00Z', true, 'Europe/Berlin')).toBe('2026-07-01 14:00:00')
    expect(formatDateTime(null)).toBe('—')
  })
  it('finds local midnight across DST', () => {
    expect(zonedToUtc(2026, 3, 29, 0, 0, 'Europe/Berlin').toISOString()).toBe('2026-03-28T23:00:00.000Z')
    expect(zonedToUtc(2026, 3, 30, 0, 0, 'Europe/Berlin').toISOString()).toBe('2026-03-29T22:00:00.000Z')
    expect(localDayStart(new Date('2026-12-05T21:30:00Z'), 0, 'Asia/Shanghai').toISOString()).toBe('2026-12-05T16:00:00.000Z')
  })
})
