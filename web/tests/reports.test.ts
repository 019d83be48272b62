import { describe, expect, it } from 'vitest'
import { addDays, exportPath, isDate, periodOf, periodsBetween, rangeInstants, salesMatrix, salesTotals, shortcutRange, sumPresent, todayIn } from '@/lib/reports'

describe('report ranges', () => {
  it('takes today in the tenant zone, not the browser', () => {
    const at = new Date('2026-12-05T17:30:00Z')
    expect(todayIn('Asia/Shanghai', at)).toBe('2026-12-06')
    expect(todayIn('Europe/London', at)).toBe('2026-12-05')
  })
  it('offers the quick ranges relative to a local date', () => {
    expect(shortcutRange('today', '2026-12-06')).toEqual(['2026-12-06', '2026-12-06'])
    expect(shortcutRange('yesterday', '2026-03-01')).toEqual(['2026-02-28', '2026-02-28'])
    expect(shortcutRange('last7', '2026-12-06')).toEqual(['2026-11-30', '2026-12-06'])
    expect(shortcutRange('thisMonth', '2026-12-06')).toEqual(['2026-12-01', '2026-12-06'])
    expect(shortcutRange('lastMonth', '2026-01-15')).toEqual(['2025-12-01', '2025-12-31'])
    expect(shortcutRange('lastMonth', '2028-03-31')).toEqual(['2028-02-01', '2028-02-29'])
    expect(shortcutRange('thisYear', '2026-12-06')).toEqual(['2026-01-01', '2026-12-06'])
  })
  it('sends a day range as [local midnight, next local midnight)', () => {
    expect(rangeInstants(['2026-12-06', '2026-12-06'], 'Asia/Shanghai')).toEqual({ from: '2026-12-05T16:00:00.000Z', to: '2026-12-06T16:00:00.000Z' })
    // Across a DST change: the day of 23 hours.
    expect(rangeInstants(['2026-03-29', '2026-03-29'], 'Europe/Berlin')).toEqual({ from: '2026-03-28T23:00:00.000Z', to: '2026-03-29T22:00:00.000Z' })
  })
  it('checks dates and steps them', () => {
    expect(isDate('2026-12-06')).toBe(true)
    expect(isDate('2026-13-06')).toBe(false)
    expect(isDate('x')).toBe(false)
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01')
  })
})

describe('sales report', () => {
  const lines = [
    { period: '2026-12-01', key: 'CASH', name: 'CASH', count: 2, amount: '100.10' },
    { period: '2026-12-01', key: 'REFUND', name: 'REFUND', count: 1, amount: '-20.05' },
    { period: '2026-12-03', key: 'CASH', name: 'CASH', count: 1, amount: '0.20' },
    { period: '2026-12-03', key: 'TRANSFER', name: 'TRANSFER', count: 1, amount: '0.10' },
  ]
  it('lists every period of the range', () => {
    expect(periodsBetween(['2026-11-29', '2026-12-02'], 'DAY')).toEqual(['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02'])
    expect(periodsBetween(['2025-11-15', '2026-02-01'], 'MONTH')).toEqual(['2025-11', '2025-12', '2026-01', '2026-02'])
    expect(periodsBetween(['2024-06-01', '2026-02-01'], 'YEAR')).toEqual(['2024', '2025', '2026'])
    expect(periodsBetween(['2026-12-02', '2026-12-01'], 'DAY')).toEqual([])
    expect(periodOf('2026-12-06', 'MONTH')).toBe('2026-12')
  })
  it('sums exactly, in all and per key', () => {
    const t = salesTotals(lines)
    expect(t.count).toBe(5)
    expect(t.amount).toBe('80.35')
    expect(t.keys.map((k) => [k.key, k.count, k.amount])).toEqual([
      ['CASH', 3, '100.30'],
      ['REFUND', 1, '-20.05'],
      ['TRANSFER', 1, '0.10'],
    ])
  })
  it('lays the lines out per key and period for the chart', () => {
    const m = salesMatrix(lines, periodsBetween(['2026-12-01', '2026-12-03'], 'DAY'))
    expect(m.periods).toEqual(['2026-12-01', '2026-12-02', '2026-12-03'])
    expect(m.series).toEqual([
      { key: 'CASH', name: 'CASH', amounts: ['100.10', '0', '0.20'] },
      { key: 'REFUND', name: 'REFUND', amounts: ['-20.05', '0', '0'] },
      { key: 'TRANSFER', name: 'TRANSFER', amounts: ['0', '0', '0.10'] },
    ])
    // A period the range does not name (another zone's day) is kept, in order.
    expect(salesMatrix(lines, ['2026-12-02']).periods).toEqual(['2026-12-01', '2026-12-02', '2026-12-03'])
  })
  it('sums the present values only', () => {
    expect(sumPresent(['1.25', null, '2.50', undefined, ''])).toBe('3.75')
    expect(sumPresent([])).toBe('0')
  })
})

describe('exports', () => {
  it('builds the export path with the filters and the language', () => {
    expect(exportPath('sales', 'xlsx', { from: '2026-12-05T16:00:00.000Z', to: '2026-12-06T16:00:00.000Z', bucket: 'DAY', by: 'CHANNEL', propertyId: null }, 'zh-CN')).toBe(
      '/exports/sales.xlsx?from=2026-12-05T16%3A00%3A00.000Z&to=2026-12-06T16%3A00%3A00.000Z&bucket=DAY&by=CHANNEL&lang=zh',
    )
    expect(exportPath('low-balances', 'csv', { propertyId: 'p1', includeLow: false }, 'en-US')).toBe('/exports/low-balances.csv?propertyId=p1&includeLow=false&lang=en')
  })
})

describe('energy report', async () => {
  const { energyPeriods, energyByPeriod, energyTotals, rangeDays, ENERGY_MAX_DAYS, demandBasisSource, isMonth } = await import('@/lib/reports')
  const l = (period: string, key: string, total: string, sharp = '0', peak = '0', flat = '0', valley = '0') => ({ period, key, name: key, total, sharp, peak, flat, valley })
  it('lists hours, days and months of a range', () => {
    const hours = energyPeriods(['2026-12-05', '2026-12-06'], 'HOUR')
    expect(hours.length).toBe(48)
    expect(hours[0]).toBe('2026-12-05 00:00')
    expect(hours[47]).toBe('2026-12-06 23:00')
    expect(energyPeriods(['2026-11-30', '2026-12-01'], 'DAY')).toEqual(['2026-11-30', '2026-12-01'])
    expect(energyPeriods(['2026-11-30', '2027-01-01'], 'MONTH')).toEqual(['2026-11', '2026-12', '2027-01'])
  })
  it('counts the days of a range against the server limits', () => {
    expect(rangeDays(['2026-12-01', '2026-12-31'])).toBe(31)
    expect(rangeDays(['2026-12-01', '2027-01-01']) > ENERGY_MAX_DAYS.HOUR).toBe(true)
    expect(rangeDays(['2026-12-02', '2026-12-01'])).toBe(0)
  })
  it('sums exactly, per period and overall', () => {
    const lines = [l('2026-12-06', 'A', '0.10', '0', '0.10'), l('2026-12-06', 'B', '0.20', '0', '0', '0.05', '0.15'), l('2026-12-04', 'A', '1.005')]
    expect(energyTotals(lines)).toEqual({ total: '1.305', sharp: '0', peak: '0.10', flat: '0.05', valley: '0.15' })
    const rows = energyByPeriod(lines, ['2026-12-05', '2026-12-06'])
    expect(rows.map((r) => r.period)).toEqual(['2026-12-04', '2026-12-05', '2026-12-06'])
    expect(rows[1]!.total).toBe('0')
    expect(rows[2]!.total).toBe('0.30')
  })
  it('names the figure a bill counts', () => {
    expect(demandBasisSource({ registerDemand: '3.5', intervalDemand: '24', basis: '3.5' })).toBe('register')
    expect(demandBasisSource({ registerDemand: null, intervalDemand: '24', basis: '24' })).toBe('interval')
    expect(demandBasisSource({ registerDemand: null, intervalDemand: null, basis: null })).toBe(null)
    expect(isMonth('2026-12')).toBe(true)
    expect(isMonth('2026-13')).toBe(false)
  })
})
