// Forwarding: the replay instant from the tenant's wall-clock time, attempt outcomes, colours.
import { describe, expect, it } from 'vitest'
import { attemptOutcome, deliveryStateTag, replayInstant, targetStateTag } from '@/lib/forwarding'

describe('replay from a local date-time', () => {
  it('in the tenant zone, as an RFC 3339 instant', () => {
    expect(replayInstant('2026-12-06 14:00:00', 'Asia/Shanghai')).toBe('2026-12-06T06:00:00Z')
    expect(replayInstant('2026-12-06 14:00', 'Asia/Shanghai')).toBe('2026-12-06T06:00:00Z')
    expect(replayInstant('2026-12-06T00:00:30', 'UTC')).toBe('2026-12-06T00:00:30Z')
  })
  it('across a DST change (Berlin, summer and winter)', () => {
    expect(replayInstant('2026-07-01 12:00:00', 'Europe/Berlin')).toBe('2026-07-01T10:00:00Z')
    expect(replayInstant('2026-01-01 12:00:00', 'Europe/Berlin')).toBe('2026-01-01T11:00:00Z')
  })
  it('refuses what is not a time', () => {
    for (const bad of ['', 'yesterday', '2026-13-01 00:00', '2026-02-30 10:00', '2026-02-01 24:00', '2026-02-01']) expect(replayInstant(bad, 'UTC')).toBeNull()
  })
})

describe('attempts and states', () => {
  it('2xx accepted, status 0 no answer, the rest refused', () => {
    expect([200, 204, 0, 500, 401, 302].map(attemptOutcome)).toEqual(['ok', 'ok', 'noAnswer', 'refused', 'refused', 'refused'])
  })
  it('colours', () => {
    expect([targetStateTag('ACTIVE'), targetStateTag('PAUSED'), targetStateTag('RETIRED')]).toEqual(['success', 'warning', 'info'])
    expect(['PENDING', 'DELIVERED', 'DEAD', 'X'].map(deliveryStateTag)).toEqual(['warning', 'success', 'danger', 'info'])
  })
})
