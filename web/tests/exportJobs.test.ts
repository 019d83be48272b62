import { describe, expect, it } from 'vitest'
import { formatCount, jobPercent } from '@/lib/exportJobs'
import { exportPath } from '@/lib/reports'

describe('export jobs', () => {
  it('percentage of rows written', () => {
    expect(jobPercent(null)).toBeNull()
    expect(jobPercent({ state: 'RUNNING', rows: 0, total: 0 })).toBeNull()
    expect(jobPercent({ state: 'RUNNING', rows: 0, total: 1000 })).toBe(0)
    expect(jobPercent({ state: 'RUNNING', rows: 333, total: 1000 })).toBe(33)
    // Never 100 before DONE, never more than 100.
    expect(jobPercent({ state: 'RUNNING', rows: 1000, total: 1000 })).toBe(99)
    expect(jobPercent({ state: 'RUNNING', rows: 1200, total: 1000 })).toBe(99)
    expect(jobPercent({ state: 'DONE', rows: 0, total: 0 })).toBe(100)
    expect(jobPercent({ state: 'DONE', rows: 10, total: 12 })).toBe(100)
    expect(jobPercent({ state: 'FAILED', rows: 5, total: 10 })).toBe(50)
    expect(jobPercent({ state: 'FAILED', rows: 0, total: 0 })).toBe(0)
  })
  it('counts grouped', () => {
    expect(formatCount(1048000, 'en-US')).toBe('1,048,000')
    expect(formatCount(12, 'zh-CN')).toBe('12')
  })
  it('list export paths carry the filters', () => {
    expect(exportPath('meters', 'xlsx', { propertyId: 'p1', areaId: '', status: 'ONLINE', feeState: null, q: '0001' }, 'zh-CN')).toBe('/exports/meters.xlsx?propertyId=p1&status=ONLINE&q=0001&lang=zh')
    expect(exportPath('customers', 'csv', { q: '张' }, 'en-US')).toBe('/exports/customers.csv?q=%E5%BC%A0&lang=en')
    expect(exportPath('commands', 'xlsx', { meterId: null, status: 'FAILED', kind: 'READ' }, 'zh-CN')).toBe('/exports/commands.xlsx?status=FAILED&kind=READ&lang=zh')
    expect(exportPath('ledger', 'xlsx', { from: 'a', to: 'b', kind: 'RECHARGE_CASH' }, 'zh-CN')).toBe('/exports/ledger.xlsx?from=a&to=b&kind=RECHARGE_CASH&lang=zh')
  })
})
