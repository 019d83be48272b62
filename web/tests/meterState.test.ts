import { describe, expect, it } from 'vitest'
import { FEE_STATES, meterTone, TONE_COLOURS } from '@/lib/meterState'

describe('meter state colours', () => {
  it('maps each fee state to its tone', () => {
    expect(meterTone('NORMAL', 'ONLINE')).toBe('normal')
    expect(meterTone('ALARM_1', 'ONLINE')).toBe('alarm1')
    expect(meterTone('ALARM_2', 'ONLINE')).toBe('alarm2')
    expect(meterTone('ARREARS', 'ONLINE')).toBe('arrears')
    expect(meterTone('TRIPPED', 'ONLINE')).toBe('tripped')
    expect(meterTone('HOLD_POWER', 'ONLINE')).toBe('hold')
    expect(meterTone('NOT_OPENED', 'ONLINE')).toBe('notOpened')
  })
  it('shows a lost link above everything (its values are stale)', () => {
    for (const f of FEE_STATES) expect(meterTone(f, 'LOST')).toBe('lost')
  })
  it('distinguishes meters never heard from', () => {
    expect(meterTone('NORMAL', 'NEVER_SEEN')).toBe('neverSeen')
  })
  it('has a colour for every tone', () => {
    for (const f of FEE_STATES) for (const l of ['ONLINE', 'LOST', 'NEVER_SEEN'] as const) expect(TONE_COLOURS[meterTone(f, l)]).toBeDefined()
  })
})
