import { describe, expect, it } from 'vitest'
import { checkPeriods, divRound, previewDay, rulerSegments, toMinutes, type PeriodRow } from '@/lib/tou'

const p = (start: string, end: string, rate: PeriodRow['rate'] = 'FLAT'): PeriodRow => ({ start, end, rate })
const kinds = (rows: PeriodRow[]) => checkPeriods(rows).map((i) => i.kind)

describe('periods', () => {
  it('parses hh:mm up to 24:00', () => {
    expect(toMinutes('00:00')).toBe(0)
    expect(toMinutes('08:30')).toBe(510)
    expect(toMinutes('24:00')).toBe(1440)
    expect(toMinutes('24:01')).toBeNull()
    expect(toMinutes('7:60')).toBeNull()
    expect(toMinutes('abc')).toBeNull()
  })
  it('accepts a plan covering 00:00–24:00 exactly once, in any row order', () => {
    expect(checkPeriods([p('00:00', '24:00')])).toEqual([])
    expect(checkPeriods([p('08:00', '24:00', 'PEAK'), p('00:00', '08:00', 'VALLEY')])).toEqual([])
  })
  it('finds gaps, including at the start and the end of the day', () => {
    expect(checkPeriods([p('00:00', '08:00'), p('09:00', '24:00')])).toEqual([{ kind: 'gap', from: 480, to: 540 }])
    expect(checkPeriods([p('01:00', '23:00')])).toEqual([
      { kind: 'gap', from: 0, to: 60 },
      { kind: 'gap', from: 1380, to: 1440 },
    ])
  })
  it('finds overlaps', () => {
    expect(checkPeriods([p('00:00', '09:00'), p('08:00', '24:00')])).toEqual([{ kind: 'overlap', from: 480, to: 540 }])
  })
  it('refuses bad rows, reversed rows, none and more than 14', () => {
    expect(kinds([p('0800', '24:00')])).toEqual(['format'])
    expect(kinds([p('10:00', '08:00')])).toEqual(['order'])
    expect(kinds([p('24:00', '24:00')])).toEqual(['format'])
    expect(kinds([])).toEqual(['none'])
    const rows = Array.from({ length: 15 }, (_, i) => p(`${String(i).padStart(2, '0')}:00`, i === 14 ? '24:00' : `${String(i + 1).padStart(2, '0')}:00`))
    expect(kinds(rows)).toEqual(['tooMany'])
    expect(kinds(rows.slice(0, 13).concat([p('13:00', '24:00')]))).toEqual([])
  })
  it('draws one segment per period and red spans for gaps and overlaps', () => {
    const segs = rulerSegments([p('00:00', '06:00', 'VALLEY'), p('05:00', '12:00', 'PEAK'), p('18:00', '24:00', 'FLAT')])
    expect(segs.filter((s) => s.rate).map((s) => [s.rate, s.from, s.to, Math.round(s.left * 100), Math.round(s.width * 100)])).toEqual([
      ['VALLEY', 0, 360, 0, 2500],
      ['PEAK', 300, 720, 2083, 2917],
      ['FLAT', 1080, 1440, 7500, 2500],
    ])
    expect(segs.filter((s) => s.issue).map((s) => [s.issue, s.from, s.to])).toEqual([
      ['gap', 720, 1080],
      ['overlap', 300, 360],
    ])
  })
})

describe('preview', () => {
  const hourly = Array.from({ length: 24 }, () => '1.5')
  it('prices energy per period exactly', () => {
    const r = previewDay([p('00:00', '08:00', 'VALLEY'), p('08:00', '24:00', 'PEAK')], { VALLEY: '0.3012', PEAK: '0.9876' }, hourly)
    expect(r.lines.map((l) => [l.energy, l.cost])).toEqual([
      ['12.0000', '3.6144'],
      ['24.0000', '23.7024'],
    ])
    expect(r.energy).toBe('36.0000')
    expect(r.cost).toBe('27.3168')
    expect(r.costFen).toBe('27.32')
  })
  it('splits an hour cut by a boundary by its minutes', () => {
    const h = Array.from({ length: 24 }, (_, i) => (i === 8 ? '3' : '0'))
    const r = previewDay([p('00:00', '08:20', 'VALLEY'), p('08:20', '24:00', 'PEAK')], { VALLEY: '0.5', PEAK: '1' }, h)
    expect(r.lines.map((l) => [l.energy, l.cost])).toEqual([
      ['1.0000', '0.5000'],
      ['2.0000', '2.0000'],
    ])
  })
  it('a flat tariff prices the whole day at FLAT; no float drift', () => {
    const r = previewDay([], { FLAT: '0.1' }, Array.from({ length: 24 }, () => '0.1'))
    expect(r.cost).toBe('0.2400')
    expect(r.energy).toBe('2.4000')
  })
  it('rounds division half up', () => {
    expect(divRound('10', 60, 4)).toBe('0.1667')
    expect(divRound('1', 3, 2)).toBe('0.33')
  })
})
