// Sites and tariffs: a property with two areas, a 4G meter (its login shown once), a LoRa
// gateway with a meter behind it, an RS-485 serial server (registered as a gateway) with a SERIAL
// meter behind it picked in the form; a TOU plan with a gap refused in the browser (nothing
// created), then a valid two-period plan assigned to the property; the screens against the
// API; the tariff retired through the screen at the end — refused while the property uses it
// (the server's message shown, nothing changed), a cancelled confirmation changes nothing,
// retired once unassigned — and everything else created retired too.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, apiLogin, browser, gql, page, q, shot, until } from './lib.mjs'

const stamp = Date.now().toString(36)
const propertyName = `E2E Site ${stamp}`
const tariffName = `E2E TOU ${stamp}`
const serial = `GW-E2E-${stamp}`.toUpperCase()
const digits = String(Date.now()).slice(-10)
const addr4g = `91${digits}`
const addrLora = `92${digits}`
const serialServer = `SS-E2E-${stamp}`.toUpperCase()
const addrSerial = `93${digits}`
let b
let admin

const fill = (p, test, value) => p.fill(`input[data-test="${test}"], [data-test="${test}"] input`, value)
const val = (p, test) => p.inputValue(`input[data-test="${test}"], [data-test="${test}"] input`)
const confirmBox = (p) => p.click('.el-message-box__btns .el-button--primary')
const PROPS = `{ properties { id name retiredAt } }`
const METERS = `query($p: ID!) { meters(filter: { propertyId: $p }, pageSize: 100) { total items { id address linkType gatewayId shopNo areaName retiredAt priceNow } } }`

/** Retires a property's meters, gateways and areas, then the property (leftovers too). */
async function retireAll(propertyId) {
  const t = admin.accessToken
  const run = (m, id) => q(t, `mutation($id: ID!) { ${m}(input: { id: $id }) { id } }`, { id }).catch(() => undefined)
  await q(t, `mutation($p: ID!) { assignTariff(input: { tariffId: null, propertyId: $p }) }`, { p: propertyId }).catch(() => undefined)
  for (const m of (await q(t, METERS, { p: propertyId })).meters.items.filter((m) => !m.retiredAt)) await run('retireMeter', m.id)
  const gws = (await q(t, `{ gateways(pageSize: 500) { items { id propertyId retiredAt } } }`)).gateways.items
  for (const g of gws.filter((g) => g.propertyId === propertyId && !g.retiredAt)) await run('retireGateway', g.id)
  for (const a of (await q(t, `query($p: ID) { areas(propertyId: $p) { id retiredAt } }`, { p: propertyId })).areas.filter((a) => !a.retiredAt)) await run('retireArea', a.id)
  await run('retireProperty', propertyId)
}
const ourProperty = async () => (await q(admin.accessToken, PROPS)).properties.find((x) => x.name === propertyName)

before(async () => {
  b = await browser()
  admin = await apiLogin()
  // What an interrupted run left behind.
  for (const old of (await q(admin.accessToken, PROPS)).properties.filter((x) => /^E2E Site /.test(x.name) && !x.retiredAt)) await retireAll(old.id)
  for (const old of (await q(admin.accessToken, `{ tariffs { id name } }`)).tariffs.filter((x) => /^E2E TOU /.test(x.name)))
    await q(admin.accessToken, `mutation($id: ID!) { retireTariff(id: $id) { id } }`, { id: old.id }).catch(() => undefined)
})
after(async () => {
  const mine = await ourProperty().catch(() => null)
  if (mine && !mine.retiredAt) await retireAll(mine.id)
  await b?.close()
})

test('a property with areas, a 4G meter, a gateway and a meter behind it', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/sites`)
  await p.waitForSelector('[data-test=property-table] .el-table__row')
  await p.click('[data-test=new-property]')
  // The server's field message under the input; what was typed stays.
  await fill(p, 'property-name', '   ')
  await fill(p, 'property-address', 'E2E Road 1')
  await p.click('[data-test=save-property]')
  await p.waitForSelector('[data-test=property-dialog] .el-form-item__error')
  assert.equal(await val(p, 'property-address'), 'E2E Road 1')
  await fill(p, 'property-name', propertyName)
  await p.click('[data-test=save-property]')
  await p.waitForSelector(`[data-test=property-title] >> text="${propertyName}"`)
  const property = await ourProperty()
  assert.ok(property, 'the property exists on the server')

  for (const [name, floor] of [['A区', '120.50'], ['B区', '80']]) {
    await p.click('[data-test=new-area]')
    await fill(p, 'area-name', name)
    await fill(p, 'area-floor-input', floor)
    await p.click('[data-test=save-area]')
    await p.waitForSelector(`[data-test=area-table] [data-area="${name}"]`)
  }
  const areas = (await q(admin.accessToken, `query($p: ID) { areas(propertyId: $p) { name floorArea } }`, { p: property.id })).areas
  assert.deepEqual(areas.map((a) => a.name).sort(), ['A区', 'B区'])
  assert.ok(areas.every((a) => a.floorArea), 'floor areas stored')

  // A 4G meter: its own login, shown once.
  await p.click('.el-tabs__item >> text=/电表/')
  await p.click('[data-test=new-meter]')
  await fill(p, 'meter-address', '12345')
  await p.click('[data-test=save-meter]')
  await p.waitForSelector('[data-test=meter-dialog] .el-form-item__error')
  assert.equal(await val(p, 'meter-address'), '12345')
  await fill(p, 'meter-address', addr4g)
  await fill(p, 'meter-model', 'DDSY1352-4G')
  await fill(p, 'meter-shop', `S-${stamp}`)
  await p.click('[data-test=meter-area]')
  await p.click('.el-select-dropdown__item:visible >> text="A区"')
  await p.click('[data-test=save-meter]')
  await p.waitForSelector('[data-test=cred-dialog] [data-test=cred-password]')
  assert.ok((await p.innerText('[data-test=cred-password]')).trim().length >= 8, 'a password is shown')
  assert.ok((await p.innerText('[data-test=cred-uplink]')).trim().length > 0, 'the uplink topic is shown')
  // The broker the device connects to, as the server names it (the run command's embedded broker).
  assert.match((await p.innerText('[data-test=cred-broker]')).trim(), /^mqtts?:\/\/[^\s/]+:\d+$/, 'the broker address is shown')
  await p.click('[data-test=cred-done]')
  await p.waitForSelector(`[data-meter="${addr4g}"]`)

  // A LoRa gateway (its login shown once) and a meter behind it.
  await p.click('.el-tabs__item >> text=/网关/')
  await p.click('[data-test=new-gateway]')
  await fill(p, 'gateway-serial', serial)
  await fill(p, 'gateway-name', 'E2E gateway')
  await p.click('[data-test=save-gateway]')
  await p.waitForSelector('[data-test=cred-dialog] [data-test=cred-password]')
  await p.click('[data-test=cred-done]')
  await p.waitForSelector(`[data-gateway="${serial}"]`)
  await p.click('.el-tabs__item >> text=/电表/')
  await p.click('[data-test=new-meter]')
  await fill(p, 'meter-address', addrLora)
  await p.click('[data-link=LORA_GATEWAY]')
  await p.click('[data-test=meter-gateway]')
  await p.click(`.el-select-dropdown__item:visible >> text=/${serial}/`)
  await p.click('[data-test=meter-phases] >> text=/3/')
  await p.click('[data-test=save-meter]')
  await p.waitForSelector(`[data-meter="${addrLora}"]`)
  assert.equal(await p.locator('[data-test=cred-dialog] [data-test=cred-password]').count(), 0, 'a gateway meter has no login of its own')

  // A serial server, registered as a gateway, and a SERIAL meter on its bus: the form offers
  // the serial servers (the gateways) under its own label; a 4G meter is offered none.
  await p.click('.el-tabs__item >> text=/网关/')
  await p.click('[data-test=new-gateway]')
  await fill(p, 'gateway-serial', serialServer)
  await fill(p, 'gateway-name', 'E2E serial server')
  await p.click('[data-test=save-gateway]')
  await p.waitForSelector('[data-test=cred-dialog] [data-test=cred-password]')
  await p.click('[data-test=cred-done]')
  await p.waitForSelector(`[data-gateway="${serialServer}"]`)
  await p.click('.el-tabs__item >> text=/电表/')
  await p.click('[data-test=new-meter]')
  assert.equal(await p.locator('[data-test=meter-dialog] [data-test=meter-gateway]').count(), 0, 'a 4G meter has no gateway')
  await fill(p, 'meter-address', addrSerial)
  await fill(p, 'meter-model', 'DDSY1352')
  await p.click('[data-link=SERIAL]')
  await p.waitForSelector('[data-test=meter-dialog] [data-test=meter-gateway]')
  assert.equal((await p.innerText('[data-test=meter-dialog] .el-form-item:has([data-test=meter-gateway]) .el-form-item__label')).trim(), '串口服务器')
  assert.match(await p.innerText('[data-test=serial-hint]'), /RS-485/)
  await p.click('[data-test=meter-gateway]')
  await p.click(`.el-select-dropdown__item:visible >> text=/${serialServer}/`)
  await shot(p, 'sites-serial-meter')
  await p.click('[data-test=save-meter]')
  await p.waitForSelector(`[data-meter="${addrSerial}"]`)
  assert.equal(await p.locator('[data-test=cred-dialog] [data-test=cred-password]').count(), 0, 'a serial meter has no login of its own')

  // The screen holds what the server holds.
  const api = (await q(admin.accessToken, METERS, { p: property.id })).meters
  assert.equal(api.total, 3)
  const rows = await p.$$eval('[data-test=meter-table] [data-meter]', (els) => els.map((e) => e.getAttribute('data-meter')))
  assert.deepEqual(rows.sort(), api.items.map((m) => m.address).sort())
  const lora = api.items.find((m) => m.address === addrLora)
  assert.equal(lora.linkType, 'LORA_GATEWAY')
  assert.ok(lora.gatewayId)
  assert.equal(api.items.find((m) => m.address === addr4g).areaName, 'A区')
  const onBus = api.items.find((m) => m.address === addrSerial)
  assert.equal(onBus.linkType, 'SERIAL')
  const servers = (await q(admin.accessToken, `query($p: ID) { gateways(propertyId: $p, pageSize: 50) { items { id serial } } }`, { p: property.id })).gateways.items
  assert.equal(onBus.gatewayId, servers.find((g) => g.serial === serialServer)?.id, 'the SERIAL meter hangs on the serial server')
  assert.match(await p.innerText(`[data-test=meter-table] .el-table__row:has([data-meter="${addrSerial}"])`), new RegExp(`串口服务器\\s*${serialServer}`))
  await shot(p, 'sites')

  // The gateway's meters.
  await p.click('.el-tabs__item >> text=/网关/')
  await p.click(`[data-test=gateway-table] .el-table__row:has([data-gateway="${serial}"]) .el-table__expand-icon`)
  await p.waitForSelector(`[data-test=gateway-table] .el-table__expanded-cell >> text="${addrLora}"`)
  await p.close()
})

test('a TOU plan with a gap is refused in the browser; a valid one is saved and assigned', async () => {
  const property = await ourProperty()
  assert.ok(property)
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/tariffs`)
  await p.waitForSelector('[data-test=tariff-table] .el-table__row')
  await p.click('[data-test=new-tariff]')
  await fill(p, 'tariff-name', tariffName)
  await fill(p, 'price-PEAK', '0.7000')
  await fill(p, 'price-FLAT', '0.5000')
  await fill(p, 'price-VALLEY', '0.3000')
  // The editor starts with 00:00–08:00 valley and 08:00–24:00 peak; open a gap 08:00–09:00.
  assert.equal(await val(p, 'period-end-0'), '08:00')
  await fill(p, 'period-start-1', '09:00')
  await p.waitForSelector('[data-test=ruler] [data-seg=gap]')
  assert.match(await p.innerText('[data-test=period-issues]'), /08:00–09:00/)
  await p.click('[data-test=save-tariff]')
  await p.waitForSelector('[data-test=periods-error]')
  const names = async () => (await q(admin.accessToken, `{ tariffs { name } }`)).tariffs.map((x) => x.name)
  assert.ok(!(await names()).includes(tariffName), 'nothing created')
  await shot(p, 'tariff-ruler-error')

  await fill(p, 'period-start-1', '08:00')
  await until(async () => (await p.locator('[data-test=ruler] [data-seg=gap]').count()) === 0, { timeout: 5000, every: 200, what: 'the gap to close' })
  // The sample day: 1 kWh an hour, 2 from 08:00 to 22:00: 8 × 0.3 + 30 × 0.7 = 23.40.
  assert.equal(await p.innerText('[data-test=preview-cost]'), '¥23.40')
  await p.click('[data-test=save-tariff]')
  await p.waitForSelector(`[data-test=tariff-title] >> text="${tariffName}"`)
  const tariff = (await q(admin.accessToken, `{ tariffs { id name versions { prices { rate price } periods { start end rate } } } }`)).tariffs.find((x) => x.name === tariffName)
  assert.ok(tariff)
  const v = tariff.versions[0]
  assert.deepEqual(v.periods, [
    { start: '00:00', end: '08:00', rate: 'VALLEY' },
    { start: '08:00', end: '24:00', rate: 'PEAK' },
  ])
  assert.equal(await p.innerText('[data-test=version-periods]'), v.periods.map((x) => `${x.start}–${x.end} ${{ VALLEY: '谷', PEAK: '峰' }[x.rate]}`).join(' · '))
  for (const pr of v.prices) assert.equal(await p.innerText(`[data-test=version] [data-price=${pr.rate}] b`), pr.price)

  // Assign it to the new property: its meters are priced by it.
  await p.click('[data-test=assign]')
  await p.click('[data-target=PROPERTY]')
  await p.click('[data-test=assign-property]')
  await p.click(`.el-select-dropdown__item:visible >> text="${propertyName}"`)
  await p.click('[data-test=save-assign]')
  await p.waitForSelector('[data-test=assign-dialog]', { state: 'hidden' })
  const prices = v.prices.map((x) => x.price)
  const meters = (await q(admin.accessToken, METERS, { p: property.id })).meters.items
  assert.equal(meters.length, 3)
  for (const m of meters) assert.ok(m.priceNow && prices.some((x) => Number(x) === Number(m.priceNow)), `meter ${m.address} priced by the new tariff (${m.priceNow})`)
  // Where the tariff is used: the screen names the property whose `tariffId` it is.
  assert.equal((await q(admin.accessToken, `{ properties { id tariffId } }`)).properties.find((x) => x.id === property.id).tariffId, tariff.id)
  await p.waitForSelector(`[data-test=tariff-used] [data-used-property="${propertyName}"]`)
  // The price notice is the server's, and names the new tariff.
  await p.click('[data-test=price-notice]')
  await p.frameLocator('[data-test=notice-frame]').locator(`h2 >> text="${tariffName}"`).waitFor()
  await p.click('.el-dialog__headerbtn >> visible=true')
  await p.waitForSelector('[data-test=notice-frame]', { state: 'detached' })
  await p.click(`[data-test=tariff-table] [data-tariff="${tariffName}"]`)
  await shot(p, 'tariffs')
  await p.close()
})

test('the two screens in English', async () => {
  const p = await page(b, { lang: 'en-US', tokens: admin })
  await p.goto(`${BASE}/sites`)
  await p.click(`[data-test=property-table] [data-property="${propertyName}"]`)
  await p.click('.el-tabs__item >> text=/Meters/')
  await p.waitForSelector(`[data-meter="${addr4g}"]`)
  await shot(p, 'sites', 'en-US')
  await p.goto(`${BASE}/tariffs`)
  await p.click(`[data-test=tariff-table] [data-tariff="${tariffName}"]`)
  await p.waitForSelector(`[data-test=tariff-title] >> text="${tariffName}"`)
  await shot(p, 'tariffs', 'en-US')
  await p.close()
})

test('the tariff retired through the screen: refused while assigned, then once unassigned', async () => {
  const t = admin.accessToken
  const property = await ourProperty()
  const TARIFFS = `{ tariffs { id name retiredAt } }`
  const tariff = (await q(t, TARIFFS)).tariffs.find((x) => x.name === tariffName)
  assert.ok(tariff)
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/tariffs`)
  await p.click(`[data-test=tariff-table] [data-tariff="${tariffName}"]`)
  await p.waitForSelector(`[data-test=tariff-title] >> text="${tariffName}"`)
  // The property uses it: the server refuses, its message is shown, nothing changes.
  await p.click('[data-test=retire-tariff]')
  await confirmBox(p)
  await p.waitForSelector('[data-test=retire-tariff-error]')
  assert.match(await p.innerText('[data-test=retire-tariff-error]'), /in use/)
  assert.ok((await q(t, TARIFFS)).tariffs.some((x) => x.id === tariff.id), 'still listed')
  assert.equal((await q(t, `query($id: ID!) { tariff(id: $id) { retiredAt } }`, { id: tariff.id })).tariff.retiredAt, null)
  // Live alarm toasts of the demo's simulated meters would cover the screenshot.
  await p.addStyleTag({ content: '.el-notification, .el-message { display: none !important; }' })
  await shot(p, 'tariff-retire-refused')

  // Unassigned (the property falls back to the tenant default), then a cancelled confirmation.
  await q(t, `mutation($p: ID!) { assignTariff(input: { tariffId: null, propertyId: $p }) }`, { p: property.id })
  await p.click('[data-test=retire-tariff]')
  await p.click('.el-message-box__btns .el-button:not(.el-button--primary)')
  await p.waitForTimeout(500)
  assert.equal((await q(t, `query($id: ID!) { tariff(id: $id) { retiredAt } }`, { id: tariff.id })).tariff.retiredAt, null, 'cancelled: nothing changed')
  await p.click('[data-test=retire-tariff]')
  await confirmBox(p)
  await p.waitForSelector(`[data-test=tariff-table] [data-tariff="${tariffName}"]`, { state: 'detached' })
  assert.ok(!(await q(t, TARIFFS)).tariffs.some((x) => x.id === tariff.id), 'out of the list')
  assert.ok((await q(t, `query($id: ID!) { tariff(id: $id) { retiredAt } }`, { id: tariff.id })).tariff.retiredAt, 'retired, its versions kept')
  // A retired tariff is not assigned again.
  const again = await gql(t, `mutation($id: ID!, $p: ID!) { assignTariff(input: { tariffId: $id, propertyId: $p }) }`, { id: tariff.id, p: property.id })
  assert.equal(again.errors?.[0]?.extensions?.code, 'CONFLICT')
  await p.close()
})

test('retire what was created, with confirmation', async () => {
  const property = await ourProperty()
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/sites`)
  await p.click(`[data-test=property-table] [data-property="${propertyName}"]`)
  await p.click('.el-tabs__item >> text=/电表/')
  for (const a of [addr4g, addrLora, addrSerial]) {
    await p.click(`[data-test=meter-table] .el-table__row:has([data-meter="${a}"]) [data-test=retire-meter]`)
    await confirmBox(p)
    // The next row's confirmation is not the closing one's.
    await p.waitForSelector('.el-message-box', { state: 'hidden' })
    await until(async () => (await q(admin.accessToken, METERS, { p: property.id })).meters.items.find((m) => m.address === a)?.retiredAt ?? !(await q(admin.accessToken, METERS, { p: property.id })).meters.items.some((m) => m.address === a), { timeout: 10_000, every: 500, what: `meter ${a} retired` })
  }
  await p.click('.el-tabs__item >> text=/网关/')
  for (const g of [serial, serialServer]) {
    await p.click(`[data-test=gateway-table] .el-table__row:has([data-gateway="${g}"]) [data-test=retire-gateway]`)
    await confirmBox(p)
    await p.waitForSelector('.el-message-box', { state: 'hidden' })
    await until(async () => (await q(admin.accessToken, `{ gateways(pageSize: 500) { items { serial retiredAt } } }`)).gateways.items.find((x) => x.serial === g)?.retiredAt, { timeout: 10_000, every: 500, what: `gateway ${g} retired` })
  }
  await p.click('.el-tabs__item >> text=/区域/')
  for (const name of ['A区', 'B区']) {
    await p.click(`[data-test=area-table] .el-table__row:has([data-area="${name}"]) [data-test=retire-area]`)
    await confirmBox(p)
    await p.waitForSelector(`[data-test=area-table] .el-table__row:has([data-area="${name}"]) .el-tag`)
  }
  await q(admin.accessToken, `mutation($p: ID!) { assignTariff(input: { tariffId: null, propertyId: $p }) }`, { p: property.id })
  await p.click('[data-test=retire-property]')
  await confirmBox(p)
  await until(async () => !!(await ourProperty()).retiredAt, { timeout: 10_000, every: 500, what: 'the property retired' })
  const gws = (await q(admin.accessToken, `{ gateways(pageSize: 500) { items { serial retiredAt } } }`)).gateways.items
  assert.ok(gws.find((g) => g.serial === serial)?.retiredAt, 'the gateway is retired')
  assert.ok(gws.find((g) => g.serial === serialServer)?.retiredAt, 'the serial server is retired')
  await p.close()
})
