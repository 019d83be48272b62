// Forwarding: the replay instant from the tenant's wall-clock time, attempt outcomes, colours.
import { describe, expect, it } from 'vitest'
import { URL_EXAMPLES, attemptOutcome, deliveryStateTag, mqttTopicExample, replayInstant, targetInput, targetStateTag } from '@/lib/forwarding'

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
  it('webhook: 2xx accepted, status 0 no answer, the rest refused', () => {
    const webhook = [200, 204, 0, 500, 401, 302].map((status) => attemptOutcome({ status, error: status >= 200 && status < 300 ? '' : 'x' }))
    expect(webhook).toEqual(['ok', 'ok', 'noAnswer', 'refused', 'refused', 'refused'])
    expect(attemptOutcome({ status: 0, error: 'no answer within 10 s' }, 'WEBHOOK')).toBe('noAnswer')
  })
  it('MQTT: status is always 0; an empty error is a publish the broker acknowledged', () => {
    expect(attemptOutcome({ status: 0, error: '' }, 'MQTT')).toBe('ok')
    expect(attemptOutcome({ status: 0, error: 'broker connection: Mqtt state: Connection closed by peer abruptly' }, 'MQTT')).toBe('failed')
    expect(attemptOutcome({ status: 0, error: 'not every publish acknowledged within 10 s' }, 'MQTT')).toBe('failed')
  })
  it('colours', () => {
    expect([targetStateTag('ACTIVE'), targetStateTag('PAUSED'), targetStateTag('RETIRED')]).toEqual(['success', 'warning', 'info'])
    expect(['PENDING', 'DELIVERED', 'DEAD', 'X'].map(deliveryStateTag)).toEqual(['warning', 'success', 'danger', 'info'])
  })
})

describe('transports', () => {
  it('placeholders per transport', () => {
    expect(URL_EXAMPLES.WEBHOOK).toMatch(/^https:\/\//)
    expect(URL_EXAMPLES.MQTT).toBe('mqtts://mqtt.park.example.cn:8883/park/energy')
  })
  it('the topic of an event: <prefix>/<kind lower-case>/<subject>', () => {
    expect(mqttTopicExample('mqtts://mqtt.park.example.cn:8883/park/energy')).toBe('park/energy/reading/<id>')
    expect(mqttTopicExample('mqtts://h/park/energy/', 'DAILY_ENERGY', 'm-1')).toBe('park/energy/daily_energy/m-1')
    // Nothing typed yet (or no path): the example prefix.
    expect(mqttTopicExample('')).toBe('park/energy/reading/<id>')
    expect(mqttTopicExample('mqtts://h')).toBe('park/energy/reading/<id>')
  })
  it('the input: a broker login only for MQTT, the URL trimmed', () => {
    const f = { name: 'n', url: ' mqtts://h/p ', events: ['READING' as const], propertyIds: [], username: 'park', password: 'pw' }
    expect(targetInput({ ...f, transport: 'MQTT' })).toEqual({
      name: 'n', url: 'mqtts://h/p', events: ['READING'], propertyIds: [], transport: 'MQTT', username: 'park', password: 'pw',
    })
    expect(targetInput({ ...f, transport: 'WEBHOOK' })).toMatchObject({ transport: 'WEBHOOK', username: null, password: null })
    // An empty password goes as typed: the server says it is required, under its field.
    expect(targetInput({ ...f, password: '', transport: 'MQTT' }).password).toBe('')
  })
})
