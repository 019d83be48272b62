// Device profiles (19). Settings → 设备档案: the built-in profiles first (marked, no retire
// button), in the API's order, their reads as named chips; a plain 0x1C profile created through
// the form, a template's reads prefilled; a 5-digit password and then an identifier that is
// none refused under their fields with the API's own messages for the same input (nothing
// created); then created: its row and chips (an identifier without a name as its hex) against
// `deviceProfiles`, the password nowhere in the API's answer or on the page. On the meter page:
// a demo meter's profile changed through the select (a plain profile warned about) and checked
// with `meterProfile`, then put back to `builtin-vl3des-1` the same way (and by the API in a
// `finally`: the demo meters are sealed, a plain profile would fail their trips); what it lacks
// against `meterProfile`, forgotten after a confirmation (a cancelled one forgets nothing). The
// profile retired from its row after a confirmation (a cancelled one changes nothing). Map
// profiles: the built-in Acrel DDSY1352 (MODBUS) named in both languages, its register map shown
// as the server holds it; a MODBUS profile created through the dialog from that template (the
// map prefilled, no read list or password), first with 3 decimals on energy — the API's own
// refusal under the map, what was typed kept, nothing created — then fixed: its scheme and item
// chips against `deviceProfiles`; a VENDOR_JSON profile from the example map the dialog offers
// (an empty `values` refused under the map first); every map row's scheme, chips and shown map
// equal to `deviceProfiles { id scheme reads registerMap jsonMap }`. Screenshots:
// docs/portal/device-profiles*.png, meter-profile*.png.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, apiLogin, browser, gql, page, q, shot, until } from './lib.mjs'

const stamp = Date.now().toString(36)
const name = `e2e-profile-${stamp}`
const PASSWORD = '917364'
const DEFAULT = 'builtin-vl3des-1'
// The template's first items, a register, and a freeze record the portal has no name for.
const READS = '04000101, 04000102\n0001FF00 0201FF00 0202FF00 02030000 00010000 05060101'
const READ_LIST = ['04000101', '04000102', '0001FF00', '0201FF00', '0202FF00', '02030000', '00010000', '05060101']

const PROFILES = `{ deviceProfiles { id name reads scheme passwordLevel operatorCode hasPassword builtin createdAt } }`
const CREATE = `mutation($i: CreateDeviceProfileInput!) { createDeviceProfile(input: $i) { id } }`
const METER_PROFILE = `query($m: ID!) { meterProfile(meterId: $m) { meterId profileId lacks { di reason learnedAt } } }`
const SET = `mutation($m: ID!, $p: ID!) { setMeterProfile(meterId: $m, profileId: $p) { profileId } }`
const MAPS = `{ deviceProfiles { id name scheme reads registerMap jsonMap builtin } }`
const DDSY = 'builtin-acrel-ddsy1352'
const modbusName = `e2e-profile-modbus-${stamp}`
const jsonName = `e2e-profile-json-${stamp}`
const RETIRE = `mutation($id: ID!) { retireDeviceProfile(id: $id) }`

let b
let admin
let profileId
let meter
const mapProfiles = []

const hideToasts = (p) => p.addStyleTag({ content: '.el-notification { display: none !important; }' })
const row = (n) => `[data-test=profile-table] .el-table__body-wrapper tr:has([data-profile="${n}"])`
const toPane = (p) => p.locator('[data-test=meter-profile]').scrollIntoViewIfNeeded()
const fieldError = (p, input) => p.innerText(`[data-test=profile-dialog] .el-form-item:has([data-test=${input}]) .el-form-item__error`)

/** The API's message for an input the form sends (it must be refused). */
async function apiRefusal(t, input) {
  const r = await gql(t, CREATE, { i: input })
  assert.ok(r.errors?.length, `the API refuses ${JSON.stringify(input)}`)
  return { message: r.errors[0].message, field: r.errors[0].extensions?.field }
}

before(async () => {
  b = await browser()
  admin = await apiLogin()
  const t = admin.accessToken
  // A simulated sealed meter on the default profile: the demo's field devices (a serial bus's
  // meters, a vendor JSON meter) hold profiles of their own and sort first by address.
  const candidates = (await q(t, `{ meters(pageSize: 50) { items { id address shopNo retiredAt linkType } } }`)).meters.items.filter((m) => !m.retiredAt && m.linkType !== 'SERIAL')
  for (const m of candidates) {
    if ((await q(t, METER_PROFILE, { m: m.id })).meterProfile.profileId === DEFAULT) {
      meter = m
      break
    }
  }
  assert.ok(meter, 'a demo meter on the default profile')
  // What an interrupted run left behind (its meters return to the default).
  for (const x of (await q(t, PROFILES)).deviceProfiles.filter((x) => !x.builtin && x.name.startsWith('e2e-profile-')))
    await q(t, `mutation($id: ID!) { retireDeviceProfile(id: $id) }`, { id: x.id }).catch(() => undefined)
  if ((await q(t, METER_PROFILE, { m: meter.id })).meterProfile.profileId !== DEFAULT) await q(t, SET, { m: meter.id, p: DEFAULT })
})
after(async () => {
  const t = admin?.accessToken
  if (t && meter) await gql(t, SET, { m: meter.id, p: DEFAULT }).catch(() => undefined)
  if (t && profileId) await gql(t, `mutation($id: ID!) { retireDeviceProfile(id: $id) }`, { id: profileId }).catch(() => undefined)
  for (const id of mapProfiles) if (t) await gql(t, RETIRE, { id }).catch(() => undefined)
  await b?.close()
})

test('device profiles: the list, a plain profile created through the form (field errors first), checked with the API', async () => {
  const t = admin.accessToken
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/settings?tab=profiles`)
  await hideToasts(p)
  await p.waitForSelector('[data-test=device-profiles] [data-test=new-profile]')
  await p.waitForSelector(`[data-test=profile-table] [data-id="${DEFAULT}"]`)

  // The API's order, built-in first, marked and without a retire button; reads as named chips.
  const api = (await q(t, PROFILES)).deviceProfiles
  assert.deepEqual(api.slice(0, 2).map((x) => x.id), [DEFAULT, 'builtin-dlt645-2007'])
  assert.deepEqual(await p.$$eval('[data-test=profile-table] .el-table__body-wrapper [data-id]', (els) => els.map((e) => e.getAttribute('data-id'))), api.map((x) => x.id))
  for (const x of api.filter((x) => x.builtin)) {
    const r = `[data-test=profile-table] .el-table__body-wrapper tr:has([data-id="${x.id}"])`
    assert.equal(await p.locator(`${r} [data-col=builtin]`).count(), 1, `${x.id} marked built-in`)
    assert.equal(await p.locator(`${r} [data-test=retire-profile]`).count(), 0, `${x.id} not retirable`)
    assert.deepEqual(await p.$$eval(`${r} [data-di]`, (els) => els.map((e) => e.getAttribute('data-di'))), x.reads)
    assert.equal(await p.getAttribute(`${r} [data-col=scheme]`, 'data-scheme'), x.scheme)
  }
  const own = `[data-test=profile-table] .el-table__body-wrapper tr:has([data-id="${DEFAULT}"])`
  assert.equal((await p.innerText(`${own} [data-di="0001FF00"]`)).trim(), '正向有功电能(块)')
  assert.equal((await p.innerText(`${own} [data-di="00900200"]`)).trim(), '剩余金额')
  assert.equal((await p.innerText(`${own} [data-di="04000504"]`)).trim(), 'A相状态字')
  await shot(p, 'device-profiles-builtin')

  // The form: the standard meter's reads as the template, the plain scheme.
  await p.click('[data-test=new-profile]')
  await p.waitForSelector('[data-test=profile-dialog] [data-test=profile-reads]')
  const standard = api.find((x) => x.id === 'builtin-dlt645-2007')
  assert.deepEqual((await p.inputValue('[data-test=profile-reads]')).split(/\s+/), standard.reads)
  assert.equal((await p.innerText('[data-test=profile-dialog] .el-radio.is-checked')).trim(), '明文 0x1C')
  assert.equal(await p.getAttribute('[data-test=profile-password]', 'type'), 'password')
  assert.equal(await p.getAttribute('[data-test=profile-password]', 'autocomplete'), 'new-password')

  const count = api.length
  await p.fill('[data-test=profile-name]', name)
  await p.fill('[data-test=profile-reads]', READS)
  await p.fill('[data-test=profile-dialog] .el-input-number input', '4')
  await p.press('[data-test=profile-dialog] .el-input-number input', 'Tab')
  await p.fill('[data-test=profile-operator]', '0A0B')
  const input = { name, reads: READS, scheme: 'DLT645_PLAIN', passwordLevel: 4, operatorCode: '0A0B' }

  // A 5-digit password: the API's message under the password field, nothing created.
  await p.fill('[data-test=profile-password]', '12345')
  await p.click('[data-test=profile-create]')
  await p.waitForSelector('[data-test=profile-dialog] .el-form-item.is-error')
  const short = await apiRefusal(t, { ...input, password: '12345' })
  assert.equal(short.field, 'password')
  assert.equal((await fieldError(p, 'profile-password')).trim(), `输入有误: ${short.message}`)
  assert.equal((await q(t, PROFILES)).deviceProfiles.length, count)
  assert.equal(await p.inputValue('[data-test=profile-name]'), name, 'what was typed is kept')
  await shot(p, 'device-profiles-password-error')

  // An identifier that is none: the API's message under the reads, nothing created.
  await p.fill('[data-test=profile-password]', PASSWORD)
  await p.fill('[data-test=profile-reads]', `${READS} 0000ZZZZ`)
  await p.click('[data-test=profile-create]')
  await until(async () => (await p.locator('[data-test=profile-dialog] .el-form-item.is-error:has([data-test=profile-reads])').count()) === 1, { timeout: 10_000, every: 200, what: 'the reads error' })
  const bad = await apiRefusal(t, { ...input, password: PASSWORD, reads: `${READS} 0000ZZZZ` })
  assert.equal(bad.field, 'reads')
  assert.equal((await fieldError(p, 'profile-reads')).trim(), `输入有误: ${bad.message}`)
  assert.equal(await p.locator('[data-test=profile-dialog] .el-form-item.is-error:has([data-test=profile-password])').count(), 0, 'the password error is gone')
  assert.equal((await q(t, PROFILES)).deviceProfiles.length, count)
  await shot(p, 'device-profiles-reads-error')

  // Created.
  await p.fill('[data-test=profile-reads]', READS)
  await shot(p, 'device-profiles-create')
  await p.click('[data-test=profile-create]')
  await p.waitForSelector('[data-test=profile-dialog]', { state: 'hidden' })
  await p.waitForSelector(row(name))

  const created = (await q(t, PROFILES)).deviceProfiles.find((x) => x.name === name)
  assert.ok(created, 'the profile in deviceProfiles')
  profileId = created.id
  assert.deepEqual(
    { reads: created.reads, scheme: created.scheme, passwordLevel: created.passwordLevel, operatorCode: created.operatorCode, hasPassword: created.hasPassword, builtin: created.builtin },
    { reads: READ_LIST, scheme: 'DLT645_PLAIN', passwordLevel: 4, operatorCode: '00000A0B', hasPassword: true, builtin: false },
  )
  assert.equal(await p.getAttribute(`${row(name)} [data-col=scheme]`, 'data-scheme'), 'DLT645_PLAIN')
  assert.deepEqual(await p.$$eval(`${row(name)} [data-di]`, (els) => els.map((e) => e.getAttribute('data-di'))), READ_LIST)
  assert.equal((await p.innerText(`${row(name)} [data-di="05060101"]`)).trim(), '05060101', 'an identifier without a name as its hex')
  assert.equal((await p.innerText(`${row(name)} [data-di="00010000"]`)).trim(), '正向有功总')
  assert.match(await p.innerText(`${row(name)} [data-col=level]`), /权限 4.*已保存密码/)
  assert.match(await p.innerText(`${row(name)} [data-col=operator]`), /00000A0B/)
  assert.equal(await p.locator(`${row(name)} [data-test=retire-profile]`).count(), 1)

  // The password: nowhere in the API's answer, nor on the page (the form forgot it).
  const everything = JSON.stringify(await q(t, PROFILES)) + JSON.stringify(await q(t, `query($m: ID!) { meterProfile(meterId: $m) { profileId } }`, { m: meter.id }))
  assert.ok(!everything.includes(PASSWORD), 'no password in the API')
  assert.ok(!(await p.content()).includes(PASSWORD), 'no password on the page')
  await shot(p, 'device-profiles')

  const en = await page(b, { tokens: admin, lang: 'en-US' })
  await en.goto(`${BASE}/settings?tab=profiles`)
  await hideToasts(en)
  await en.waitForSelector(row(name))
  assert.equal((await en.innerText(`${row(name)} [data-di="0001FF00"]`)).trim(), 'Forward active energy (block)')
  await shot(en, 'device-profiles', 'en-US')
  await en.context().close()
  await p.context().close()
})

test("device profiles: a demo meter's profile changed on the meter page and put back", async () => {
  assert.ok(profileId, 'the profile of the first test')
  const t = admin.accessToken
  const p = await page(b, { tokens: admin })
  try {
    await p.goto(`${BASE}/meters/${meter.id}?tab=profile`)
    await hideToasts(p)
    await p.waitForSelector('[data-test=meter-profile] [data-test=meter-profile-select]')
    await p.waitForSelector('[data-test=meter-profile-tag]')
    assert.match(await p.innerText('[data-test=meter-profile-tag]'), /VoltLedger 密封表/)
    const before = (await q(t, METER_PROFILE, { m: meter.id })).meterProfile
    assert.equal(before.profileId, DEFAULT)
    // What it lacks, as the API lists it (a demo meter read by an operator may have learned
    // some: a platform-prepaid meter has no money register, a single-phase one no B/C phases).
    assert.deepEqual(await p.$$eval('[data-test=meter-lacks] .el-table__body-wrapper [data-di]', (els) => els.map((e) => e.getAttribute('data-di'))), before.lacks.map((l) => l.di))
    if (before.lacks.length === 0) {
      assert.match(await p.innerText('[data-test=meter-lacks]'), /没有记录/)
      assert.ok(await p.isDisabled('[data-test=forget-lacks]'), 'nothing to forget')
    } else {
      await toPane(p)
      await shot(p, 'meter-profile-lacks')
      await p.click('[data-test=forget-lacks]')
      await p.click('.el-message-box__btns .el-button:not(.el-button--primary)')
      await p.waitForSelector('.el-message-box', { state: 'hidden' })
      assert.ok((await q(t, METER_PROFILE, { m: meter.id })).meterProfile.lacks.length > 0, 'a cancelled confirmation forgets nothing')
      await p.click('[data-test=forget-lacks]')
      await p.click('.el-message-box__btns .el-button--primary')
      await until(async () => (await p.innerText('[data-test=meter-lacks]')).includes('没有记录'), { timeout: 10_000, every: 200, what: 'the lacks forgotten' })
      // A read may teach them again at once; the table showed none after the forget.
    }
    assert.ok(await p.isDisabled('[data-test=meter-profile-apply]'), 'nothing changed yet')

    // The plain profile chosen: warned; a cancelled confirmation changes nothing.
    await p.click('[data-test=meter-profile-select]')
    await p.click(`.el-select-dropdown__item:visible[data-profile-id="${profileId}"]`)
    await p.waitForSelector('[data-test=plain-warning]')
    await toPane(p)
    await shot(p, 'meter-profile-change')
    await p.click('[data-test=meter-profile-apply]')
    await p.click('.el-message-box__btns .el-button:not(.el-button--primary)')
    await p.waitForSelector('.el-message-box', { state: 'hidden' })
    assert.equal((await q(t, METER_PROFILE, { m: meter.id })).meterProfile.profileId, DEFAULT)

    await p.click('[data-test=meter-profile-apply]')
    await p.click('.el-message-box__btns .el-button--primary')
    await until(async () => (await q(t, METER_PROFILE, { m: meter.id })).meterProfile.profileId === profileId, { timeout: 10_000, every: 300, what: 'meterProfile set' })
    await until(async () => (await p.innerText('[data-test=meter-profile-tag]')).includes(name), { timeout: 10_000, every: 200, what: 'the header names the profile' })
    assert.equal(await p.locator('[data-test=plain-warning]').count(), 0, 'no warning once applied')
    await toPane(p)
    await shot(p, 'meter-profile')

    // Back to the sealed default, the same way.
    await p.click('[data-test=meter-profile-select]')
    await p.click(`.el-select-dropdown__item:visible[data-profile-id="${DEFAULT}"]`)
    await p.click('[data-test=meter-profile-apply]')
    await p.click('.el-message-box__btns .el-button--primary')
    await until(async () => (await q(t, METER_PROFILE, { m: meter.id })).meterProfile.profileId === DEFAULT, { timeout: 10_000, every: 300, what: 'meterProfile back to the default' })
    await until(async () => /VoltLedger 密封表/.test(await p.innerText('[data-test=meter-profile-tag]')), { timeout: 10_000, every: 200, what: 'the header back on the default' })

    const en = await page(b, { tokens: admin, lang: 'en-US' })
    await en.goto(`${BASE}/meters/${meter.id}?tab=profile`)
    await hideToasts(en)
    await en.waitForSelector('[data-test=meter-profile-tag]')
    assert.match(await en.innerText('[data-test=meter-lacks]'), /None: the meter answered every item/)
    await toPane(en)
    await shot(en, 'meter-profile', 'en-US')
    await en.context().close()
  } finally {
    await gql(t, SET, { m: meter.id, p: DEFAULT }).catch(() => undefined)
    await p.context().close()
  }
  assert.equal((await q(t, METER_PROFILE, { m: meter.id })).meterProfile.profileId, DEFAULT)
})

test('device profiles: retired from its row after a confirmation', async () => {
  assert.ok(profileId, 'the profile of the first test')
  const t = admin.accessToken
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/settings?tab=profiles`)
  await hideToasts(p)
  await p.waitForSelector(row(name))
  await p.click(`${row(name)} [data-test=retire-profile]`)
  await p.click('.el-message-box__btns .el-button:not(.el-button--primary)')
  await p.waitForSelector('.el-message-box', { state: 'hidden' })
  assert.ok((await q(t, PROFILES)).deviceProfiles.some((x) => x.id === profileId), 'a cancelled confirmation changes nothing')
  await p.click(`${row(name)} [data-test=retire-profile]`)
  await p.click('.el-message-box__btns .el-button--primary')
  await p.waitForSelector(row(name), { state: 'detached' })
  assert.ok(!(await q(t, PROFILES)).deviceProfiles.some((x) => x.id === profileId), 'gone from deviceProfiles')
  profileId = undefined
  await p.context().close()
})

/** The map dialog's text for a row (opened from its "view map" button, then closed). */
async function shownMap(p, id, screenshot) {
  await p.click(`[data-test=profile-table] .el-table__body-wrapper tr:has([data-id="${id}"]) [data-test=view-map]`)
  await p.waitForSelector('[data-test=map-dialog] [data-test=map-json]')
  const text = await p.$eval('[data-test=map-dialog] [data-test=map-json]', (e) => e.textContent)
  if (screenshot) await shot(p, screenshot)
  await p.click('[data-test=map-dialog] .el-dialog__footer .el-button--primary')
  await p.waitForSelector('[data-test=map-dialog]', { state: 'hidden' })
  return text
}

test('device profiles: a Modbus and a vendor JSON profile through the dialog, their maps as the server holds them', async () => {
  const t = admin.accessToken
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/settings?tab=profiles`)
  await hideToasts(p)
  // The "created" messages would cover the screenshots' headers.
  await p.addStyleTag({ content: '.el-message { display: none !important; }' })
  await p.waitForSelector(`[data-test=profile-table] [data-id="${DDSY}"]`)
  const api = (await q(t, MAPS)).deviceProfiles
  const ddsy = api.find((x) => x.id === DDSY)
  assert.equal(ddsy.scheme, 'MODBUS')
  assert.ok(ddsy.registerMap, 'the built-in Modbus profile has a register map')
  const ddsyRow = `[data-test=profile-table] .el-table__body-wrapper tr:has([data-id="${DDSY}"])`
  assert.equal((await p.innerText(`${ddsyRow} [data-col=name]`)).trim(), '安科瑞 DDSY1352 (Modbus-RTU)')
  assert.equal((await p.innerText(`${ddsyRow} [data-col=scheme]`)).trim(), '串口 Modbus-RTU')
  assert.equal(await shownMap(p, DDSY), ddsy.registerMap)

  // The Modbus profile: the DDSY1352 as its template fills the map; no read list, no password.
  await p.click('[data-test=new-profile]')
  await p.waitForSelector('[data-test=profile-dialog] [data-test=profile-reads]')
  await p.click('[data-test=profile-template]')
  await p.click(`.el-select-dropdown__item:visible[data-template="${DDSY}"]`)
  await p.waitForSelector('[data-test=profile-dialog] [data-test=profile-map]')
  assert.equal((await p.innerText('[data-test=profile-dialog] .el-radio.is-checked')).trim(), '串口 Modbus-RTU')
  assert.equal(await p.inputValue('[data-test=profile-map]'), ddsy.registerMap, 'the template map prefilled')
  assert.equal(await p.locator('[data-test=profile-dialog] [data-test=profile-reads]').count(), 0, 'no read list')
  assert.equal(await p.locator('[data-test=profile-dialog] [data-test=profile-password]').count(), 0, 'no password')
  assert.deepEqual(await p.$$eval('[data-test=map-preview] .chip .mono', (els) => els.map((e) => e.textContent)), ddsy.reads)

  // The template's reads with a frequency register (the manual's …H notation) and the relay
  // coil, the relay writes; then energy with 3 decimals: refused by the server.
  const map = JSON.parse(ddsy.registerMap)
  map.reads.push({ di: '02800002', function: 3, register: '0011H', format: 'U16', decimals: 2 })
  map.reads.push({ di: '04000503', function: 1, register: 0, format: 'RELAY', open: 1 })
  map.trip = { function: 5, register: 0, value: '0xFF00' }
  map.close = { function: 5, register: 0, value: 0 }
  const good = JSON.stringify(map, null, 2)
  const items = map.reads.map((r) => r.di)
  assert.ok(items.length >= 10, 'ten or so items')
  const lossy = JSON.parse(good)
  lossy.reads.find((r) => r.di === '00010000').decimals = 3
  const bad = JSON.stringify(lossy, null, 2)

  const count = (await q(t, MAPS)).deviceProfiles.length
  await p.fill('[data-test=profile-name]', modbusName)
  await p.fill('[data-test=profile-map]', bad)
  await p.click('[data-test=profile-create]')
  await until(async () => (await p.locator('[data-test=profile-dialog] .el-form-item.is-error:has([data-test=profile-map])').count()) === 1, { timeout: 10_000, every: 200, what: 'the map error' })
  const refused = await apiRefusal(t, { name: modbusName, scheme: 'MODBUS', registerMap: bad })
  assert.equal(refused.field, 'registerMap')
  assert.match(refused.message, /reads\[0\] \(00010000\): 3 decimals/)
  assert.equal((await fieldError(p, 'profile-map')).trim(), `输入有误: ${refused.message}`)
  assert.equal(await p.inputValue('[data-test=profile-map]'), bad, 'what was typed is kept')
  assert.equal(await p.inputValue('[data-test=profile-name]'), modbusName)
  assert.equal((await q(t, MAPS)).deviceProfiles.length, count, 'nothing created')
  await shot(p, 'device-profiles-modbus-error')

  // Fixed: the error goes once the map is edited; created.
  await p.fill('[data-test=profile-map]', good)
  await until(async () => (await p.locator('[data-test=profile-dialog] .el-form-item.is-error').count()) === 0, { timeout: 5_000, every: 100, what: 'the map error gone' })
  assert.deepEqual(await p.$$eval('[data-test=map-preview] .chip .mono', (els) => els.map((e) => e.textContent)), items)
  await shot(p, 'device-profiles-modbus-create')
  await p.click('[data-test=profile-create]')
  await p.waitForSelector('[data-test=profile-dialog]', { state: 'hidden' })
  await p.waitForSelector(row(modbusName))
  const modbus = (await q(t, MAPS)).deviceProfiles.find((x) => x.name === modbusName)
  assert.ok(modbus, 'the Modbus profile in deviceProfiles')
  mapProfiles.push(modbus.id)
  assert.equal(modbus.scheme, 'MODBUS')
  assert.equal(modbus.jsonMap, null)
  assert.deepEqual(modbus.reads, items)
  const held = JSON.parse(modbus.registerMap)
  assert.equal(held.reads.find((r) => r.di === '00010000').decimals, 2)
  assert.equal(held.reads.length, items.length)
  assert.ok(held.trip && held.close, 'the relay writes kept')
  assert.equal(await p.getAttribute(`${row(modbusName)} [data-col=scheme]`, 'data-scheme'), 'MODBUS')
  assert.deepEqual(await p.$$eval(`${row(modbusName)} [data-di]`, (els) => els.map((e) => e.getAttribute('data-di'))), items)
  assert.equal((await p.innerText(`${row(modbusName)} [data-di="02800002"]`)).trim(), '频率')

  // The vendor JSON profile: the dialog offers an example map; an empty value list refused first.
  await p.click('[data-test=new-profile]')
  await p.waitForSelector('[data-test=profile-dialog] [data-test=profile-reads]')
  await p.click('[data-test=profile-dialog] [data-test=profile-scheme] [data-scheme=VENDOR_JSON]')
  await p.waitForSelector('[data-test=profile-dialog] [data-test=profile-map]')
  const example = await p.inputValue('[data-test=profile-map]')
  const exampleMap = JSON.parse(example)
  assert.ok(exampleMap.values.length > 0 && exampleMap.trip && exampleMap.close && exampleMap.read, 'an example with values and commands')
  assert.equal(await p.locator('[data-test=profile-dialog] [data-test=profile-password]').count(), 0, 'no password')
  await p.fill('[data-test=profile-name]', jsonName)
  const empty = JSON.stringify({ ...exampleMap, values: [] }, null, 2)
  await p.fill('[data-test=profile-map]', empty)
  await p.click('[data-test=profile-create]')
  await until(async () => (await p.locator('[data-test=profile-dialog] .el-form-item.is-error:has([data-test=profile-map])').count()) === 1, { timeout: 10_000, every: 200, what: 'the JSON map error' })
  const refusedJson = await apiRefusal(t, { name: jsonName, scheme: 'VENDOR_JSON', jsonMap: empty })
  assert.equal(refusedJson.field, 'jsonMap')
  assert.equal((await fieldError(p, 'profile-map')).trim(), `输入有误: ${refusedJson.message}`)
  assert.equal(await p.inputValue('[data-test=profile-map]'), empty, 'what was typed is kept')
  await p.fill('[data-test=profile-map]', example)
  await shot(p, 'device-profiles-json-create')
  await p.click('[data-test=profile-create]')
  await p.waitForSelector('[data-test=profile-dialog]', { state: 'hidden' })
  await p.waitForSelector(row(jsonName))
  const vendor = (await q(t, MAPS)).deviceProfiles.find((x) => x.name === jsonName)
  assert.ok(vendor, 'the vendor JSON profile in deviceProfiles')
  mapProfiles.push(vendor.id)
  assert.equal(vendor.scheme, 'VENDOR_JSON')
  assert.equal(vendor.registerMap, null)
  assert.deepEqual(vendor.reads, exampleMap.values.map((v) => v.di))
  assert.deepEqual(JSON.parse(vendor.jsonMap), exampleMap)

  // Every map profile: the scheme, the chips and the map shown are the server's.
  const all = (await q(t, MAPS)).deviceProfiles
  assert.deepEqual(await p.$$eval('[data-test=profile-table] .el-table__body-wrapper [data-id]', (els) => els.map((e) => e.getAttribute('data-id'))), all.map((x) => x.id))
  for (const x of all.filter((x) => x.scheme === 'MODBUS' || x.scheme === 'VENDOR_JSON')) {
    const r = `[data-test=profile-table] .el-table__body-wrapper tr:has([data-id="${x.id}"])`
    assert.equal(await p.getAttribute(`${r} [data-col=scheme]`, 'data-scheme'), x.scheme)
    assert.deepEqual(await p.$$eval(`${r} [data-di]`, (els) => els.map((e) => e.getAttribute('data-di'))), x.reads)
    assert.equal(await shownMap(p, x.id, x.id === vendor.id ? 'device-profiles-json-map' : undefined), x.scheme === 'MODBUS' ? x.registerMap : x.jsonMap, `${x.id}: the map shown`)
  }
  await p.locator(row(jsonName)).scrollIntoViewIfNeeded()
  await shot(p, 'device-profiles-maps')

  const en = await page(b, { tokens: admin, lang: 'en-US' })
  await en.goto(`${BASE}/settings?tab=profiles`)
  await hideToasts(en)
  await en.waitForSelector(row(jsonName))
  assert.equal((await en.innerText(`${ddsyRow} [data-col=name]`)).trim(), 'Acrel DDSY1352 (Modbus-RTU)')
  assert.equal((await en.innerText(`${row(modbusName)} [data-col=scheme]`)).trim(), 'Serial Modbus-RTU')
  assert.equal((await en.innerText(`${row(jsonName)} [data-col=scheme]`)).trim(), 'Vendor JSON')
  await en.locator(row(jsonName)).scrollIntoViewIfNeeded()
  await shot(en, 'device-profiles-maps', 'en-US')
  await en.context().close()

  for (const id of mapProfiles.splice(0)) await q(t, RETIRE, { id })
  await p.context().close()
})
