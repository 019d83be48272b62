import { describe, expect, it } from 'vitest'
import { auditRows, changedFirst } from '@/lib/audit'

describe('audit images', () => {
  it('lines up the keys of both images and marks the changed ones', () => {
    const rows = auditRows('{"name":"a","status":"ACTIVE","scope":["p1"]}', '{"name":"a","status":"DISABLED","scope":["p1"]}')
    expect(rows).toEqual([
      { key: 'name', before: 'a', after: 'a', changed: false },
      { key: 'status', before: 'ACTIVE', after: 'DISABLED', changed: true },
      { key: 'scope', before: '["p1"]', after: '["p1"]', changed: false },
    ])
    expect(changedFirst(rows)[0]?.key).toBe('status')
  })
  it('shows a created object (no before) and a removed key', () => {
    expect(auditRows(null, '{"id":"x"}')).toEqual([{ key: 'id', before: '—', after: 'x', changed: true }])
    expect(auditRows('{"a":1,"b":2}', '{"a":1}')[1]).toEqual({ key: 'b', before: '2', after: '—', changed: true })
  })
  it('keeps text that is not JSON', () => {
    expect(auditRows('plain', null)).toEqual([{ key: 'value', before: 'plain', after: '—', changed: true }])
  })
})
