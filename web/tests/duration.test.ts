import { describe, expect, it } from 'vitest'
import { durationParts, formatDuration } from '@/lib/duration'

const en = (u: 'd' | 'h' | 'm', n: number) => `${n} ${u}`
describe('durations', () => {
  it('splits seconds into whole days, hours and minutes', () => {
    expect(durationParts(0)).toEqual({ d: 0, h: 0, m: 0 })
    expect(durationParts(90_061)).toEqual({ d: 1, h: 1, m: 1 })
    expect(durationParts(-5)).toEqual({ d: 0, h: 0, m: 0 })
    expect(durationParts(Number.NaN)).toEqual({ d: 0, h: 0, m: 0 })
  })
  it('words the two largest units, rounded down', () => {
    expect(formatDuration(59, en, '<1 m')).toBe('<1 m')
    expect(formatDuration(60, en, '<1 m')).toBe('1 m')
    expect(formatDuration(2 * 3600 + 5 * 60 + 59, en, '<1 m')).toBe('2 h 5 m')
    expect(formatDuration(3 * 86_400 + 4 * 3600 + 59 * 60, en, '<1 m')).toBe('3 d 4 h')
    expect(formatDuration(3 * 86_400 + 5 * 60, en, '<1 m')).toBe('3 d')
    expect(formatDuration(3600, en, '<1 m')).toBe('1 h')
    expect(formatDuration(400 * 86_400, (u, n) => `${n}${{ d: '天', h: '小时', m: '分' }[u]}`, '不到1分钟', '')).toBe('400天')
  })
})
