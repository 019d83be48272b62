// Field devices (21): the demo's Modbus-RTU meter behind its serial server (`000000000007`,
// never pushes) read now from its page — energy, voltage, current, power and power factor on
// the screen equal to `meter { live }` — then tripped from the page (the confirmation dialog),
// the trip acknowledged, then confirmed by the coil read of the next read now (a meter that
// never pushes is confirmed by a read; the API's `commands(meterId)` and the page's commands
// list), the relay shown open, and closed again the same way (and by the API in an `after`, for the tests that
// follow). The vendor JSON 4G meter (`000100900043`) updates by itself: its live values change
// on the screen without a read and equal the API's. The meter-freezes tab (冻结数据) of the
// Modbus meter: `meterFreezes` of the last 90 days is empty for the demo's meters (their profiles
// do not read 05060001 05060101), and the tab says so, naming the two identifiers, in both
// languages. Screenshots: docs/portal/field-modbus-live*.png, meter-freezes*.png.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, apiLogin, browser, page, q, shot, until } from './lib.mjs'

const MODBUS = '000000000007'
const VENDOR_JSON = '000100900043'
const LIVE = `query($id: ID!) { meter(id: $id) { id address linkType phases linkState feeState live { readAt energyTotal voltageA currentA activePower powerFactor relayOpen } } }`
const COMMANDS = `query($m: ID!, $k: String) { commands(meterId: $m, kind: $k, first: 20) { id kind source status reason createdAt confirmedAt } }`
const CLOSE = `mutation($id: ID!) { closeMeter(input: { meterId: $id, reason: "e2e cleanup" }) { id } }`
const FREEZES = `query($m: ID!, $from: DateTime!, $to: DateTime!) { meterFreezes(meterId: $m, from: $from, to: $to) { frozenAt total } }`

let b
let admin
let zone
let modbus
let vendor
let tripped = false

const T = () => admin.accessToken
async function meterByAddress(address) {
  const m = (await q(T(), `query($q: String) { meters(filter: { q: $q }, pageSize: 5) { items { id address } } }`, { q: address })).meters.items.find((x) => x.address === address)
  assert.ok(m, `the demo meter ${address}`)
  return m
}
// Alarm notifications (a trip raises one) would cover the header's buttons.
const hideToasts = (p) => p.addStyleTag({ content: '.el-notification { display: none !important; }' })
const live = async (id) => (await q(T(), LIVE, { id })).meter

/** The portal's formatFixed: rounded half away from zero to `scale` places, thousands grouped. */
function fixed(v, scale, unit = '') {
  if (v === null || v === undefined) return '—'
  const neg = v.startsWith('-')
  const [int, frac = ''] = (neg ? v.slice(1) : v).split('.')
  let units = BigInt(int + frac.padEnd(scale, '0').slice(0, scale))
  if (frac.length > scale && frac[scale] >= '5') units += 1n
  const digits = units.toString().padStart(scale + 1, '0')
  const whole = digits.slice(0, digits.length - scale).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  const s = (units === 0n || !neg ? '' : '-') + whole + (scale ? '.' + digits.slice(digits.length - scale) : '')
  return unit ? `${s} ${unit}` : s
}
/** The portal's formatDateTime with seconds, in the tenant's zone. */
function localTime(iso) {
  if (!iso) return '—'
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(iso))
  const g = (t) => parts.find((p) => p.type === t).value
  return `${g('year')}-${g('month')}-${g('day')} ${g('hour')}:${g('minute')}:${g('second')}`
}

/** What the live panel shows, by field. */
async function screen(p) {
  const text = async (sel) => ((await p.locator(sel).count()) ? (await p.innerText(sel)).trim() : null)
  return {
    readAt: await text('[data-test=live-read-at]'),
    energyTotal: await text('[data-test=live-energy]'),
    voltageA: await text('[data-test=live-voltage-A]'),
    currentA: await text('[data-test=live-current-A]'),
    activePower: await text('[data-test=live-power]'),
    powerFactor: await text('[data-test=live-pf]'),
    relayOpen: await p.getAttribute('[data-test=live-relay]', 'data-open'),
  }
}
/** The same fields as the portal formats the API's live reading. */
function expected(l) {
  return {
    readAt: localTime(l.readAt),
    energyTotal: fixed(l.energyTotal, 2, 'kWh'),
    voltageA: fixed(l.voltageA, 1, 'V'),
    currentA: fixed(l.currentA, 2, 'A'),
    activePower: fixed(l.activePower, 3, 'kW'),
    powerFactor: fixed(l.powerFactor, 3),
    relayOpen: l.relayOpen === null ? '' : String(l.relayOpen),
  }
}
/**
 * Refreshes the page's data (its refresh button) until the screen shows the API's latest live
 * reading — the same reading (its time) and every value equal — and `accept` holds for it.
 */
async function screenEqualsApi(p, id, accept = () => true, what = 'the screen to equal the API') {
  let last
  await until(async () => {
    await p.click('.head button[aria-label="刷新"], .head button[aria-label="Refresh"]')
    await p.waitForTimeout(700)
    const api = (await live(id)).live
    if (!api.readAt || !accept(api)) return false
    const shown = await screen(p)
    last = { shown, api: expected(api) }
    return JSON.stringify(shown) === JSON.stringify(expected(api)) && last
  }, { timeout: 60_000, every: 1500, what }).catch((e) => {
    throw new Error(`${e.message}; last compared: ${JSON.stringify(last ?? null)}`)
  })
  return last
}

/** The newest command of `kind` created since `since` (ISO), from the API. */
async function newest(id, kind, since) {
  return (await q(T(), COMMANDS, { m: id, k: kind })).commands.filter((c) => c.source === 'OPERATOR' && c.createdAt >= since).sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0]
}
/** Sends `action` from the meter page's header; a relay command through its confirmation dialog. */
async function act(p, action) {
  await p.click(`.head [data-action=${action}]`)
  if (action !== 'READ') {
    await p.waitForSelector('.el-message-box input')
    await p.fill('.el-message-box input', `e2e ${action.toLowerCase()}`)
    await p.click('.el-message-box__btns .el-button--primary')
  }
}
/**
 * Waits for the newest operator command of `kind` to reach `status` (or be CONFIRMED) in the API
 * and for the page's commands list to show a row of that kind so.
 */
async function reaches(p, id, kind, since, label, status = 'CONFIRMED') {
  const wanted = status === 'CONFIRMED' ? ['CONFIRMED'] : [status, 'CONFIRMED']
  const cmd = await until(async () => {
    const c = await newest(id, kind, since)
    if (c && ['FAILED', 'TIMED_OUT', 'EXPIRED', 'CANCELLED'].includes(c.status)) throw new Error(`${kind} ended ${c.status}: ${c.reason}`)
    return wanted.includes(c?.status) && c
  }, { timeout: 90_000, every: 1000, what: `the ${kind} ${status.toLowerCase()}` })
  // The embedded list reloads itself (every 10 s).
  await until(async () => {
    for (const r of await p.locator('[data-test=commands-table] .el-table__body-wrapper .el-table__row').all()) {
      const tds = await r.locator('td').allInnerTexts()
      if (tds.some((x) => x.trim() === label) && (await r.locator(wanted.map((w) => `[data-status=${w}]`).join(', ')).count()) > 0) return true
    }
    return false
  }, { timeout: 30_000, every: 1000, what: `the commands list to show the ${kind} ${status.toLowerCase()}` })
  return cmd
}
/**
 * A relay command on a meter that never pushes: acknowledged by the meter (the coil written),
 * then confirmed by the next read, which the operator asks for from the page (抄读).
 */
async function relayCommand(p, id, kind, label) {
  const since = new Date(Date.now() - 2000).toISOString()
  await act(p, kind)
  await reaches(p, id, kind, since, label, 'ACKNOWLEDGED')
  const readSince = new Date(Date.now() - 2000).toISOString()
  await act(p, 'READ')
  await reaches(p, id, 'READ', readSince, '抄表')
  return reaches(p, id, kind, since, label)
}

before(async () => {
  b = await browser()
  admin = await apiLogin()
  zone = (await q(T(), `{ tenant { timeZone } }`)).tenant.timeZone
  modbus = await meterByAddress(MODBUS)
  vendor = await meterByAddress(VENDOR_JSON)
  // A run interrupted after its trip left the relay open.
  if ((await live(modbus.id)).live.relayOpen) await closeByApi()
})
after(async () => {
  // Power back on for the tests that follow.
  if (tripped && modbus) await closeByApi().catch(() => undefined)
  await b?.close()
})

/** Closes the Modbus meter's relay by the API and reads it, so the close is confirmed. */
async function closeByApi() {
  await q(T(), CLOSE, { id: modbus.id })
  const since = new Date(Date.now() - 2000).toISOString()
  await until(async () => ['ACKNOWLEDGED', 'CONFIRMED'].includes((await newest(modbus.id, 'CLOSE', since))?.status), { timeout: 30_000, every: 1000, what: 'the cleanup close acknowledged' })
  await q(T(), `mutation($id: ID!) { readMeterNow(input: { meterId: $id, reason: "e2e cleanup" }) { id } }`, { id: modbus.id })
  await until(async () => (await live(modbus.id)).live.relayOpen === false, { timeout: 30_000, every: 1000, what: 'the relay closed after the cleanup' })
}

test('the Modbus meter behind the serial server: read now, trip and close from its page, against the API', async () => {
  const m = await live(modbus.id)
  assert.equal(m.linkType, 'SERIAL')
  assert.equal(m.phases, 1)
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/meters/${modbus.id}`)
  await p.waitForSelector('[data-test=meter-address]')
  await hideToasts(p)
  assert.equal((await p.innerText('[data-test=meter-address]')).trim(), MODBUS)
  assert.match(await p.innerText('[data-test=meter-profile-tag]'), /Acrel DDSY1352 \+ relay coil/)

  // Read now (抄读): the READ confirmed, then the live values as the API has them.
  const before = m.live.readAt
  const since = new Date(Date.now() - 2000).toISOString()
  await act(p, 'READ')
  await reaches(p, modbus.id, 'READ', since, '抄表')
  const first = await screenEqualsApi(p, modbus.id, (l) => l.readAt !== before && l.energyTotal !== null, 'the read values on the screen')
  for (const k of ['energyTotal', 'voltageA', 'currentA', 'activePower', 'powerFactor']) assert.notEqual(first.shown[k], '—', `${k} shown`)
  assert.equal(first.shown.relayOpen, 'false', 'the relay closed before the trip')
  await shot(p, 'field-modbus-live')

  // Trip through the confirmation dialog: acknowledged (the coil written), confirmed by the
  // coil read of the next read now, the relay shown open.
  tripped = true
  await relayCommand(p, modbus.id, 'TRIP', '拉闸')
  const open = await screenEqualsApi(p, modbus.id, (l) => l.relayOpen === true, 'the relay open on the screen')
  assert.equal(open.shown.relayOpen, 'true')
  assert.equal((await p.innerText('[data-test=live-relay]')).trim(), '分闸')
  await shot(p, 'field-modbus-tripped')

  // Closed again the same way.
  await relayCommand(p, modbus.id, 'CLOSE', '合闸')
  const closed = await screenEqualsApi(p, modbus.id, (l) => l.relayOpen === false, 'the relay closed on the screen')
  assert.equal(closed.shown.relayOpen, 'false')
  tripped = false
  await p.close()
})

test('the vendor JSON meter updates by itself; the screen equals the API', async () => {
  const m = await live(vendor.id)
  assert.equal(m.linkType, 'FOUR_G')
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/meters/${vendor.id}`)
  await p.waitForSelector('[data-test=meter-address]')
  await hideToasts(p)
  assert.match(await p.innerText('[data-test=meter-profile-tag]'), /Acrel IoT 4G \(JSON\)/)
  const first = await screenEqualsApi(p, vendor.id, (l) => l.energyTotal !== null, 'the JSON meter on the screen')
  // No read asked for: the page's own refresh (every 15 s) shows a newer reading.
  const cmds = (await q(T(), COMMANDS, { m: vendor.id, k: 'READ' })).commands.length
  await until(async () => {
    const at = (await p.innerText('[data-test=live-read-at]')).trim()
    return at !== first.shown.readAt && at !== '—'
  }, { timeout: 45_000, every: 1000, what: 'the live values to update by themselves' })
  assert.equal((await q(T(), COMMANDS, { m: vendor.id, k: 'READ' })).commands.length, cmds, 'no read was sent')
  const second = await screenEqualsApi(p, vendor.id, (l) => l.readAt !== m.live.readAt, 'the updated values on the screen')
  for (const k of ['energyTotal', 'voltageA', 'currentA', 'activePower', 'powerFactor']) assert.notEqual(second.shown[k], '—', `${k} shown`)
  await shot(p, 'field-vendor-json-live')
  await p.close()
})

test('the meter-freezes tab: empty for a meter whose profile reads no freezes, in both languages', async () => {
  const now = Date.now()
  const from = new Date(now - 91 * 86400_000).toISOString()
  const to = new Date(now + 86400_000).toISOString()
  assert.deepEqual((await q(T(), FREEZES, { m: modbus.id, from, to })).meterFreezes, [], 'the demo meter has no freezes of its own')

  for (const lang of ['zh-CN', 'en-US']) {
    const p = await page(b, { tokens: admin, lang })
    await p.goto(`${BASE}/meters/${modbus.id}?tab=freezes`)
    await p.waitForSelector('[data-test=meter-freezes]')
    await hideToasts(p)
    await p.waitForSelector('[data-test=freezes-empty]', { timeout: 15_000 })
    assert.equal(await p.locator('[data-test=freezes-table]').count(), 0)
    const tab = (await p.innerText('.el-tabs__item.is-active')).trim()
    assert.equal(tab, lang === 'zh-CN' ? '冻结数据' : 'Meter freezes')
    const empty = await p.innerText('[data-test=freezes-empty]')
    assert.match(empty, /05060001 05060101/)
    assert.match(empty, lang === 'zh-CN' ? /暂无表计冻结数据/ : /No freezes read from this meter/)
    await p.locator('[data-test=meter-freezes]').scrollIntoViewIfNeeded()
    await shot(p, 'meter-freezes', lang)
    await p.close()
  }
})
