import { describe, expect, it } from 'vitest'
import { dispositionTag, isPeriod, linesMatchTotal, periodOf, shareOf, sharesMatchAmount, stateTag, totalsByKind, unitOf, weightPercent } from '@/lib/billing'
import { COMMON_TIME_ZONES, otherTimeZones, zoneOffset } from '@/lib/time'

describe('billing helpers', () => {
  it('periods follow the tenant zone', () => {
    // 2026-11-30 17:00 UTC is already December 1st in Shanghai.
    const at = new Date('2026-11-30T17:00:00Z')
    expect(periodOf(at, 0, 'Asia/Shanghai')).toBe('2026-12')
    expect(periodOf(at, 0, 'UTC')).toBe('2026-11')
    expect(periodOf(at, -1, 'Asia/Shanghai')).toBe('2026-11')
    expect(periodOf(new Date('2026-01-15T00:00:00Z'), -1, 'UTC')).toBe('2025-12')
    expect(isPeriod('2026-12')).toBe(true)
    expect(isPeriod('2026-13')).toBe(false)
  })
  it('sums lines per kind exactly and checks the total', () => {
    const lines = [
      { kind: 'ENERGY', amount: '0.10' },
      { kind: 'ENERGY', amount: '0.20' },
      { kind: 'PROPERTY_FEE', amount: '120.00' },
    ]
    expect(totalsByKind(lines)).toEqual([
      { kind: 'ENERGY', amount: '0.30', lines: 2 },
      { kind: 'PROPERTY_FEE', amount: '120.00', lines: 1 },
    ])
    expect(linesMatchTotal(lines, '120.30')).toBe(true)
    expect(linesMatchTotal(lines, '120.31')).toBe(false)
  })
  it('shares, units, tags and weight percentages', () => {
    expect(shareOf([{ amount: '-3.34' }])).toBe('3.34')
    expect(unitOf('CAPACITY')).toBe('kw')
    expect(unitOf('SHARED_AREA')).toBe('kwh')
    expect(stateTag('PAID')).toBe('success')
    expect(weightPercent('120.5', ['120.5', '80'])).toBe('60.10')
    expect(weightPercent('80', ['120.5', '80'])).toBe('39.90')
    expect(weightPercent('1', ['0'])).toBe('0.00')
  })
  it('a run\'s shares against its amount, exactly, and where they went', () => {
    const shares = [{ amount: '33.34' }, { amount: '33.33' }, { amount: '33.33' }]
    expect(sharesMatchAmount(shares, '100.00')).toBe(true)
    expect(sharesMatchAmount(shares, '100.01')).toBe(false)
    expect(sharesMatchAmount([], '0')).toBe(true)
    expect(dispositionTag('POSTED')).toBe('success')
    expect(dispositionTag('ON_BILL')).toBe('warning')
    expect(dispositionTag('ZERO')).toBe('info')
    expect(unitOf('SERVICE_FEE')).toBe('none')
    // A member's kWh as the ENERGY weight, with its decimals.
    expect(weightPercent('12.345', ['12.345', '37.655'])).toBe('24.69')
  })
  it('time zones for the settings list', () => {
    expect(COMMON_TIME_ZONES).toContain('Asia/Shanghai')
    expect(COMMON_TIME_ZONES).toContain('UTC')
    expect(otherTimeZones()).not.toContain('Asia/Shanghai')
    expect(zoneOffset('Asia/Shanghai')).toBe('UTC+08:00')
    expect(zoneOffset('UTC')).toBe('UTC+00:00')
    expect(zoneOffset('Not/AZone')).toBe('')
  })
})
