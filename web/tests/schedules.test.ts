import { describe, expect, it } from 'vitest'
import { buildParams, defaultFilters, isEmail, lastPeriod, parseParams, REPORT_CONTROLS, runTone, SCHEDULE_REPORTS, splitRecipients } from '@/lib/schedules'

describe('schedule params', () => {
  it('builds the sales and energy filters from their controls', () => {
    expect(buildParams('sales', { bucket: 'DAY', by: 'CHANNEL' })).toBe('bucket=DAY&by=CHANNEL')
    expect(buildParams('sales', { bucket: 'MONTH', by: 'PAYEE', propertyId: 'p1' })).toBe('bucket=MONTH&by=PAYEE&propertyId=p1')
    expect(buildParams('energy', { bucket: 'HOUR', by: 'AREA', propertyId: 'p1', areaId: 'a1' })).toBe('bucket=HOUR&by=AREA&propertyId=p1&areaId=a1')
  })
  it('leaves out what the report does not take and what is empty', () => {
    // HOUR is no sales bucket; sales has no area; lost devices neither bucket nor by.
    expect(buildParams('sales', { bucket: 'HOUR', by: 'METER', areaId: 'a1' })).toBe('')
    expect(buildParams('lost-devices', { bucket: 'DAY', by: 'CHANNEL', propertyId: '' })).toBe('')
    expect(buildParams('lost-devices', { propertyId: 'p 1&x=2' })).toBe('propertyId=p+1%26x%3D2')
    expect(buildParams('alarms', { activeOnly: false })).toBe('')
    expect(buildParams('alarms', { activeOnly: true })).toBe('activeOnly=true')
    expect(buildParams('low-balances', { includeLow: false })).toBe('includeLow=false')
  })
  it('never carries a range', () => {
    for (const r of SCHEDULE_REPORTS) {
      const p = parseParams(buildParams(r, { ...defaultFilters(r), propertyId: 'p', areaId: 'a' }))
      expect(Object.keys(p).some((k) => ['from', 'to', 'period', 'link'].includes(k))).toBe(false)
    }
  })
  it('starts each report from sensible defaults', () => {
    expect(buildParams('sales', defaultFilters('sales'))).toBe('bucket=DAY&by=CHANNEL')
    expect(buildParams('energy', defaultFilters('energy'))).toBe('bucket=DAY&by=PROPERTY')
    expect(buildParams('low-balances', defaultFilters('low-balances'))).toBe('includeLow=true')
    expect(REPORT_CONTROLS.demand.area).toBe(true)
  })
  it('reads params back', () => {
    expect(parseParams('bucket=DAY&by=CHANNEL&propertyId=p1')).toEqual({ bucket: 'DAY', by: 'CHANNEL', propertyId: 'p1' })
    expect(parseParams('')).toEqual({})
  })
})

describe('recipients', () => {
  it('splits pasted lists and drops duplicates', () => {
    expect(splitRecipients(' a@x.cn, b@y.com；a@X.cn\nc@z.org ')).toEqual(['a@x.cn', 'b@y.com', 'c@z.org'])
    expect(splitRecipients('  ')).toEqual([])
  })
  it('checks addresses', () => {
    expect(isEmail('finance@park.example.cn')).toBe(true)
    expect(isEmail('a.b+c@x-y.com')).toBe(true)
    expect(isEmail('finance@park')).toBe(false)
    expect(isEmail('no-at.example.cn')).toBe(false)
    expect(isEmail('a@-x.com')).toBe(false)
    expect(isEmail('a b@x.com')).toBe(false)
    expect(isEmail('Name <a@x.com>')).toBe(false)
  })
})

describe('send now', () => {
  it('offers the period just ended', () => {
    expect(lastPeriod('DAILY', '2026-03-01')).toEqual(['2026-02-28', '2026-02-28'])
    // 2026-12-06 is a Sunday: last week is Monday 23 Nov to Sunday 29 Nov.
    expect(lastPeriod('WEEKLY', '2026-12-06')).toEqual(['2026-11-23', '2026-11-29'])
    // A Monday: the week that ended yesterday.
    expect(lastPeriod('WEEKLY', '2026-12-07')).toEqual(['2026-11-30', '2026-12-06'])
    expect(lastPeriod('MONTHLY', '2026-01-15')).toEqual(['2025-12-01', '2025-12-31'])
    expect(lastPeriod('MONTHLY', '2028-03-01')).toEqual(['2028-02-01', '2028-02-29'])
  })
  it('colours run states', () => {
    expect(runTone('SENT')).toBe('success')
    expect(runTone('PENDING')).toBe('warning')
    expect(runTone('DEAD')).toBe('danger')
  })
})
