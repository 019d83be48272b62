// The acceptance run, from an empty tenant to its suspension, through the screens:
//  1. the SaaS console creates a tenant with its first administrator (checked in platformTenants);
//  2. that administrator, signed in through the portal's form, creates a property with two areas
//     (60 and 40 m²), a three-phase post-paid 4G meter (its login read from the dialog), a LoRa
//     gateway (its login read from the dialog) and two meters behind it (a post-paid one and the
//     common shared-area meter) — against meters(filter: { propertyId });
//  3. `voltledger simulate-device` runs twice with exactly the broker, username and password the
//     dialogs showed; the meters' pages and the monitor show readings, compared with the API;
//  4. a TOU plan with a gap is refused on screen (nothing created), a valid three-period plan with
//     a capacity price is saved and assigned to the property (tariffs, properties { tariffId });
//  5. two customers, and an account each opened on the customers screen for the 4G meter (with a
//     property fee) and the post-paid gateway meter;
//  6. a shared-area group by floor area: the common meter, the two accounts weighted 60 and 40;
//  7. the current period's bill run from the bills screen; the 4G account's bill, line by line
//     and in total, against bill(id): energy, a CAPACITY line (maximum demand × the capacity
//     price), a SHARED_AREA line (the shares of the two bills add up to the common meter's cost)
//     and the property fee;
//  8. a second property, then an operator limited to the first with the built-in "operator" role:
//     signed in, its menu and its properties are narrower than the administrator's;
//  9. the console suspends the tenant after its confirmation: the administrator's and the
//     operator's next API calls are refused, and so is a fresh login on the portal's form.
// The API is used to check what the screens show and did, never to do what a screen does.
// The tenant is unique per run (company codes cannot be reused) and is left suspended: a
// suspended tenant runs nothing, and the next run makes its own. `after` stops the simulators.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { BASE, browser, gql, page, platformPassword, q, shot, uiLogin, until } from './lib.mjs'

const BIN = process.env.VOLTLEDGER_BIN
const stamp = Date.now().toString(36)
const digits = String(Date.now()).slice(-9)
const slug = `acc-${stamp}`
const tenantName = `验收物业 ${stamp}`
const adminUser = 'boss'
const adminPass = `Acc-${stamp}-Kx9#`
const propertyName = `验收广场 ${stamp}`
const otherPropertyName = `验收二期 ${stamp}`
const areas = [
  { name: 'A区', floor: '60' },
  { name: 'B区', floor: '40' },
]
const addr4g = `71${digits}0`
const addrGw1 = `72${digits}1` // post-paid, behind the gateway
const addrCommon = `72${digits}2` // the shared-area (common) meter, behind the gateway
const serial = `GW-ACC-${stamp}`.toUpperCase()
const tariffName = `验收分时 ${stamp}`
const prices = { PEAK: '0.8500', FLAT: '0.6000', VALLEY: '0.3500' }
const capacityPrice = '2.5'
const propertyFee = '35.00'
const customers = [`验收客户甲 ${stamp}`, `验收客户乙 ${stamp}`]
const groupName = `验收公摊 ${stamp}`
const opUser = `acc-op-${stamp}`
const opPass = `AccOp-${stamp}-Pw7!`

let b
let consolePage // the console, signed in through its form (steps 1 and 9)
let portal // the tenant administrator's portal, signed in through its form (steps 2–8)
let opPage // the scoped operator's portal (step 8)
const sims = [] // { name, child, out }
// What the steps learn and hand on.
let property
let meters = {} // address → API meter
let creds = {} // '4g' | 'gateway' → { username, password, broker }
let tariff
let accounts = {} // address → { id, number }
let period
let tz

const fill = (p, sel, value) => p.fill(`input[data-test="${sel}"], textarea[data-test="${sel}"], [data-test="${sel}"] input`, value)
const val = (p, sel) => p.inputValue(`input[data-test="${sel}"], [data-test="${sel}"] input`)
const box = (p) => p.waitForSelector('.el-message-box', { state: 'visible' })
const confirmBox = (p) => p.click('.el-message-box__btns .el-button--primary')
const text = async (p, sel) => (await p.innerText(sel)).trim()
/** Tokens as the browser holds them (the portal refreshes them itself). */
const portalToken = (p) => p.evaluate(() => JSON.parse(localStorage.getItem('voltledger.tokens') ?? '{}').accessToken)
const consoleToken = (p) => p.evaluate(() => JSON.parse(localStorage.getItem('voltledger.platform') ?? '{}').accessToken)
const T = () => portalToken(portal)
/** Live alarm toasts are not these screens' and may cover them: hidden in every document. */
async function quiet(p) {
  await p.context().addInitScript(() => {
    const add = () => {
      const s = document.createElement('style')
      s.textContent = '.el-notification { display: none !important; }'
      document.head.appendChild(s)
    }
    if (document.head) add()
    else document.addEventListener('DOMContentLoaded', add)
  })
  return p
}
/** "12345.6" → "12,345.60", as the screens format money and energy. */
const grouped = (s) => {
  const neg = s.startsWith('-')
  const [i, f = ''] = s.replace('-', '').split('.')
  return (neg ? '-' : '') + i.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + '.' + (f + '00').slice(0, 2)
}
/** Yuan string → fen, exactly. */
const fen = (s) => {
  const neg = s.startsWith('-')
  const [i, f = ''] = s.replace('-', '').split('.')
  const v = BigInt(i) * 100n + BigInt((f + '00').slice(0, 2))
  return neg ? -v : v
}
/** An instant as the portal shows it with seconds, in the tenant's time zone. */
function localTime(iso) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(iso))
      .map((x) => [x.type, x.value]),
  )
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`
}
/** The billing period ("YYYY-MM") now in the tenant's time zone. */
function currentPeriod() {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit' }).formatToParts(new Date())
  return `${parts.find((x) => x.type === 'year').value}-${parts.find((x) => x.type === 'month').value}`
}
async function pickOption(p, selectTest, optionText) {
  await p.click(`[data-test="${selectTest}"]`)
  await p.click(`.el-select-dropdown__item:visible >> text="${optionText}"`)
}
const simLog = () => sims.map((s) => `--- ${s.name} (exit ${s.child.exitCode}):\n${s.out.slice(-1500)}`).join('\n')

const METERS = `query($p: ID!) { meters(filter: { propertyId: $p }, pageSize: 100) { total items { id address phases linkType gatewayId billingMode areaName accountId linkState lastSeenAt live { energyTotal readAt } } } }`
const METER = `query($id: ID!) { meter(id: $id) { id address linkState lastSeenAt live { energyTotal readAt } } }`
const BILL = `query($id: ID!) { bill(id: $id) { id accountId period version state total lines { lineNo kind meterId description quantity unitPrice amount } } }`

before(async () => {
  assert.ok(BIN, 'set VOLTLEDGER_BIN to the voltledger binary (it runs `simulate-device` with the logins the portal shows)')
  assert.ok(existsSync(BIN), `VOLTLEDGER_BIN=${BIN} does not exist`)
  b = await browser()
})

after(async () => {
  for (const s of sims) if (s.child.exitCode === null) s.child.kill('SIGTERM')
  await Promise.all(sims.map((s) => (s.child.exitCode === null ? new Promise((r) => s.child.once('exit', r)) : null)))
  await b?.close()
})

test('1. the console creates the tenant with its first administrator', async () => {
  const p = await quiet(await page(b))
  consolePage = p
  await p.goto(`${BASE}/console/login`)
  await p.fill('input[name=username]', 'saas')
  await p.fill('input[name=password]', platformPassword())
  await p.click('[data-test=console-login-submit]')
  await p.waitForURL(/\/console\/tenants/)
  await p.waitForSelector('[data-test=tenant-table] [data-tenant]')
  await p.click('[data-test=new-tenant]')
  await fill(p, 'tenant-name', tenantName)
  await fill(p, 'tenant-slug', slug)
  await fill(p, 'tenant-admin', adminUser)
  await fill(p, 'tenant-password', adminPass)
  await p.click('[data-test=save-tenant]')
  await p.waitForSelector('[data-test=tenant-dialog]', { state: 'hidden' })
  const row = p.locator('[data-test=tenant-table] .el-table__body-wrapper tr', { has: p.locator(`[data-tenant="${slug}"]`) })
  await row.waitFor()
  const mine = (await q(await consoleToken(p), `{ platformTenants { slug name timeZone status } }`)).platformTenants.find((x) => x.slug === slug)
  assert.ok(mine, 'platformTenants lists the new tenant')
  assert.deepEqual({ name: mine.name, status: mine.status }, { name: tenantName, status: 'ACTIVE' })
  assert.equal(await row.locator('[data-status]').getAttribute('data-status'), mine.status)
  tz = mine.timeZone
  await shot(p, 'acceptance-1-console')
})

test('2. a property with two areas, a 4G meter, a LoRa gateway with two meters', async () => {
  const p = await quiet(await page(b))
  portal = p
  await uiLogin(p, { tenant: slug, username: adminUser, pass: adminPass })
  await p.waitForURL(/\/dashboard/)
  const start = await q(await T(), `{ tenant { name timeZone } properties { id } meters { total } }`)
  assert.equal(start.tenant.name, tenantName)
  assert.deepEqual([start.properties.length, start.meters.total], [0, 0], 'an empty tenant')

  await p.goto(`${BASE}/sites`)
  await p.click('[data-test=new-property]')
  await fill(p, 'property-name', propertyName)
  await fill(p, 'property-address', '验收路 1 号')
  await p.click('[data-test=save-property]')
  await p.waitForSelector(`[data-test=property-title] >> text="${propertyName}"`)
  property = (await q(await T(), `{ properties { id name tariffId } }`)).properties.find((x) => x.name === propertyName)
  assert.ok(property, 'the property exists on the server')

  for (const a of areas) {
    await p.click('[data-test=new-area]')
    await fill(p, 'area-name', a.name)
    await fill(p, 'area-floor-input', a.floor)
    await p.click('[data-test=save-area]')
    await p.waitForSelector(`[data-test=area-table] [data-area="${a.name}"]`)
  }
  const apiAreas = (await q(await T(), `query($p: ID) { areas(propertyId: $p) { name floorArea } }`, { p: property.id })).areas
  assert.deepEqual(apiAreas.map((a) => [a.name, Number(a.floorArea)]).sort(), areas.map((a) => [a.name, Number(a.floor)]).sort())
  for (const a of apiAreas) {
    const shown = await text(p, `[data-test=area-table] .el-table__row:has([data-area="${a.name}"]) [data-test=area-floor]`)
    assert.equal(shown, grouped(a.floorArea), `floor area of ${a.name}`)
  }

  /** The login dialog, read as a person would copy it. */
  const readCredentials = async () => {
    await p.waitForSelector('[data-test=cred-dialog] [data-test=cred-password]')
    const c = { username: await text(p, '[data-test=cred-username]'), password: await text(p, '[data-test=cred-password]'), broker: await text(p, '[data-test=cred-broker]') }
    assert.match(c.broker, /^mqtts?:\/\/[^\s/]+:\d+$/, 'the dialog names the broker')
    assert.ok(c.username && c.password.length >= 8)
    return c
  }

  // The 4G meter: three-phase, post-paid, in area A; its own login.
  await p.click('.el-tabs__item >> text=/电表/')
  await p.click('[data-test=new-meter]')
  await fill(p, 'meter-address', addr4g)
  await fill(p, 'meter-model', 'DTSY1352-4G')
  await p.click('[data-test=meter-phases] >> text=/3/')
  await p.click('[data-link=FOUR_G]')
  await pickOption(p, 'meter-billing', '后付费')
  await fill(p, 'meter-shop', `S-${stamp}-1`)
  await pickOption(p, 'meter-area', areas[0].name)
  await p.click('[data-test=save-meter]')
  creds['4g'] = await readCredentials()
  await shot(p, 'acceptance-2-meter-login')
  await p.click('[data-test=cred-done]')
  await p.waitForSelector(`[data-meter="${addr4g}"]`)

  // The gateway: one login for the meters behind it.
  await p.click('.el-tabs__item >> text=/网关/')
  await p.click('[data-test=new-gateway]')
  await fill(p, 'gateway-serial', serial)
  await fill(p, 'gateway-name', '验收网关')
  await p.click('[data-test=save-gateway]')
  creds.gateway = await readCredentials()
  await p.click('[data-test=cred-done]')
  await p.waitForSelector(`[data-gateway="${serial}"]`)

  // Two single-phase meters behind it: a post-paid one in area B, and the common meter.
  for (const [address, area, shop] of [[addrGw1, areas[1].name, `S-${stamp}-2`], [addrCommon, null, `公区-${stamp}`]]) {
    await p.click('.el-tabs__item >> text=/电表/')
    await p.click('[data-test=new-meter]')
    await fill(p, 'meter-address', address)
    await fill(p, 'meter-model', 'DDSY1352-LoRa')
    await p.click('[data-link=LORA_GATEWAY]')
    await pickOption(p, 'meter-gateway', `${serial} 验收网关`)
    await pickOption(p, 'meter-billing', '后付费')
    await fill(p, 'meter-shop', shop)
    if (area) await pickOption(p, 'meter-area', area)
    await p.click('[data-test=save-meter]')
    await p.waitForSelector(`[data-meter="${address}"]`)
    assert.equal(await p.locator('[data-test=cred-dialog] [data-test=cred-password]').count(), 0, 'a gateway meter has no login of its own')
  }

  const api = (await q(await T(), METERS, { p: property.id })).meters
  assert.equal(api.total, 3)
  meters = Object.fromEntries(api.items.map((m) => [m.address, m]))
  const gw = (await q(await T(), `query($p: ID) { gateways(propertyId: $p) { items { id serial } } }`, { p: property.id })).gateways.items
  assert.deepEqual(gw.map((g) => g.serial), [serial])
  assert.deepEqual(
    [meters[addr4g].linkType, meters[addr4g].phases, meters[addr4g].billingMode, meters[addr4g].areaName, meters[addr4g].gatewayId],
    ['FOUR_G', 3, 'POST_PAID', areas[0].name, null],
  )
  assert.deepEqual([meters[addrGw1].linkType, meters[addrGw1].gatewayId, meters[addrGw1].billingMode, meters[addrGw1].areaName], ['LORA_GATEWAY', gw[0].id, 'POST_PAID', areas[1].name])
  assert.deepEqual([meters[addrCommon].linkType, meters[addrCommon].gatewayId, meters[addrCommon].areaName], ['LORA_GATEWAY', gw[0].id, null])
  // The meter list is the server's.
  const rows = await p.$$eval('[data-test=meter-table] [data-meter]', (els) => [...new Set(els.map((e) => e.getAttribute('data-meter')))])
  assert.deepEqual(rows.sort(), Object.keys(meters).sort())
  await shot(p, 'acceptance-2-sites')
})

test('3. the simulator connects with the shown logins; the readings appear on screen', async () => {
  assert.ok(creds['4g'] && creds.gateway, 'step 2 read both logins')
  const run = (name, c, addresses, threePhase) => {
    const args = ['simulate-device', '--broker', c.broker, '--username', c.username, ...addresses.flatMap((a) => ['--meter', a]), '--interval', '2', '--rounds', '900']
    if (threePhase) args.push('--three-phase')
    const child = spawn(BIN, args, { env: { ...process.env, VOLTLEDGER_DEVICE_PASSWORD: c.password }, stdio: ['ignore', 'pipe', 'pipe'] })
    const s = { name, child, out: '' }
    child.stdout.on('data', (d) => (s.out += d))
    child.stderr.on('data', (d) => (s.out += d))
    sims.push(s)
  }
  run('4G meter', creds['4g'], [addr4g], true)
  run('LoRa gateway', creds.gateway, [addrGw1, addrCommon], false)

  const p = portal
  for (const address of [addr4g, addrGw1, addrCommon]) {
    const id = meters[address].id
    // The meter's page against meter(id), read together (a reading lands every 2 s).
    const seen = await until(
      async () => {
        if (sims.some((s) => s.child.exitCode !== null)) throw new Error(`a simulator stopped:\n${simLog()}`)
        await p.goto(`${BASE}/meters/${id}`)
        await p.waitForSelector(`[data-test=meter-address] >> text="${address}"`)
        const screen = { energy: await text(p, '[data-test=live-energy]'), seen: await text(p, '[data-test=meter-last-seen]'), readAt: await text(p, '[data-test=live-read-at]') }
        const m = (await q(await T(), METER, { id })).meter
        if (!m.live.energyTotal || !m.lastSeenAt) return false
        const want = { energy: `${grouped(m.live.energyTotal)} kWh`, seen: localTime(m.lastSeenAt), readAt: localTime(m.live.readAt) }
        return JSON.stringify(screen) === JSON.stringify(want) ? m : false
      },
      { timeout: 60_000, every: 1000, what: `readings of ${address} on its page equal to meter(id)` },
    ).catch((e) => {
      throw new Error(`${e.message}\n${simLog()}`)
    })
    assert.equal(seen.linkState, 'ONLINE')
    if (address === addr4g) await shot(p, 'acceptance-3-meter')
  }

  // The monitor lists the three, online, as the API has them.
  await p.goto(`${BASE}/monitor`)
  await until(
    async () => {
      const shown = await p.$$eval('[data-meter]', (els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-meter'), e.getAttribute('data-link')])))
      const api = Object.fromEntries((await q(await T(), METERS, { p: property.id })).meters.items.map((m) => [m.address, m.linkState]))
      return JSON.stringify(Object.entries(shown).sort()) === JSON.stringify(Object.entries(api).sort()) && Object.values(api).every((s) => s === 'ONLINE')
    },
    { timeout: 30_000, every: 1000, what: 'the monitor to list the three meters online as the API does' },
  )
  await shot(p, 'acceptance-3-monitor')
})

test('4. a TOU plan with a gap is refused; a valid one with a capacity price is saved and assigned', async () => {
  const p = portal
  await p.goto(`${BASE}/tariffs`)
  await p.click('[data-test=new-tariff]')
  await fill(p, 'tariff-name', tariffName)
  for (const [rate, price] of Object.entries(prices)) await fill(p, `price-${rate}`, price)
  // The editor starts 00:00–08:00 and 08:00–24:00: opening 08:00–09:00 leaves a gap.
  assert.equal(await val(p, 'period-end-0'), '08:00')
  await fill(p, 'period-start-1', '09:00')
  await p.waitForSelector('[data-test=ruler] [data-seg=gap]')
  assert.match(await text(p, '[data-test=period-issues]'), /08:00–09:00/)
  await p.click('[data-test=save-tariff]')
  await p.waitForSelector('[data-test=periods-error]')
  assert.ok(!(await q(await T(), `{ tariffs { name } }`)).tariffs.some((x) => x.name === tariffName), 'nothing created')
  await shot(p, 'acceptance-4-tariff-gap')

  // Valley 00–08, peak 08–20, flat 20–24, and a capacity price.
  const periods = [
    { start: '00:00', end: '08:00', rate: 'VALLEY' },
    { start: '08:00', end: '20:00', rate: 'PEAK' },
    { start: '20:00', end: '24:00', rate: 'FLAT' },
  ]
  await fill(p, 'period-start-1', '08:00')
  await fill(p, 'period-end-1', '20:00')
  await p.click('[data-test=add-period]')
  assert.equal(await val(p, 'period-start-2'), '20:00')
  await fill(p, 'period-end-2', '24:00')
  await p.click('[data-test=period-rate-2]')
  await p.click('.el-select-dropdown__item:visible >> text="平"')
  await until(async () => (await p.locator('[data-test=ruler] [data-seg=gap]').count()) === 0 && (await p.locator('[data-test=period-issues]').count()) === 0, { timeout: 5000, every: 200, what: 'a whole day' })
  await fill(p, 'capacity-price', capacityPrice)
  // The sample day on screen, priced by what was typed here.
  const hourly = []
  for (let h = 0; h < 24; h++) hourly.push(await val(p, `hour-${h}`))
  const rateAt = (h) => periods.find((x) => Number(x.start.slice(0, 2)) <= h && h < Number(x.end.slice(0, 2))).rate
  // kWh (2 places at most) × price (4 places): exact in 1e-6 yuan.
  const micro = hourly.reduce((s, kwh, h) => s + BigInt(Math.round(Number(kwh) * 100)) * BigInt(Math.round(Number(prices[rateAt(h)]) * 10000)), 0n)
  const cents = (micro + 5000n) / 10000n
  assert.equal(await text(p, '[data-test=preview-cost]'), `¥${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`)
  await shot(p, 'acceptance-4-tariff-editor')
  await p.click('[data-test=save-tariff]')
  await p.waitForSelector(`[data-test=tariff-title] >> text="${tariffName}"`)
  tariff = (await q(await T(), `{ tariffs { id name versions { prices { rate price } periods { start end rate } capacityPricePerKw } } }`)).tariffs.find((x) => x.name === tariffName)
  assert.ok(tariff, 'the tariff exists on the server')
  const v = tariff.versions[0]
  assert.deepEqual(v.periods, periods)
  assert.deepEqual(Object.fromEntries(v.prices.map((x) => [x.rate, Number(x.price)])), Object.fromEntries(Object.entries(prices).map(([r, x]) => [r, Number(x)])))
  assert.equal(Number(v.capacityPricePerKw), Number(capacityPrice))
  const label = { VALLEY: '谷', PEAK: '峰', FLAT: '平' }
  assert.equal(await text(p, '[data-test=version-periods]'), v.periods.map((x) => `${x.start}–${x.end} ${label[x.rate]}`).join(' · '))
  assert.equal(await text(p, '[data-test=version-capacity-price]'), v.capacityPricePerKw)
  for (const pr of v.prices) assert.equal(await text(p, `[data-test=version] [data-price=${pr.rate}] b`), pr.price)

  await p.click('[data-test=assign]')
  await p.click('[data-target=PROPERTY]')
  await pickOption(p, 'assign-property', propertyName)
  await p.click('[data-test=save-assign]')
  await p.waitForSelector('[data-test=assign-dialog]', { state: 'hidden' })
  await p.waitForSelector(`[data-test=tariff-used] [data-used-property="${propertyName}"]`)
  assert.equal((await q(await T(), `{ properties { id tariffId } }`)).properties.find((x) => x.id === property.id).tariffId, tariff.id)
  const priced = (await q(await T(), `query($p: ID!) { meters(filter: { propertyId: $p }) { items { address priceNow rateNow } } }`, { p: property.id })).meters.items
  for (const m of priced) assert.equal(Number(m.priceNow), Number(prices[m.rateNow]), `meter ${m.address} priced by the new tariff`)
  await shot(p, 'acceptance-4-tariffs')
})

test('5. customers, and a post-paid account each for the 4G meter and the gateway meter', async () => {
  const p = portal
  await p.goto(`${BASE}/customers`)
  for (const [i, address] of [addr4g, addrGw1].entries()) {
    await p.click('[data-test=new-customer]')
    await fill(p, 'customer-name', customers[i])
    await p.click('[data-test=save-customer]')
    await p.waitForSelector(`.cust-head .name >> text="${customers[i]}"`)
    await p.click('[data-test=open-account]')
    await p.waitForSelector('[data-test=account-dialog]')
    await p.click('[data-test=open-meters]')
    await p.keyboard.type(address)
    await p.click(`.el-select-dropdown__item:visible[data-meter-option="${address}"]`)
    await p.keyboard.press('Escape')
    if (address === addr4g) await fill(p, 'open-property-fee', propertyFee)
    if (i === 0) await shot(p, 'acceptance-5-open-account')
    await p.click('[data-test=save-account]')
    await p.waitForSelector('[data-test=account-dialog]', { state: 'hidden' }).catch(async (e) => {
      throw new Error(`${e.message}: ${await p.locator('[data-test=account-error]').allInnerTexts()}`)
    })
    const cust = (await q(await T(), `query($q: String) { customers(q: $q) { items { id name } } }`, { q: customers[i] })).customers.items.find((c) => c.name === customers[i])
    assert.ok(cust, `customer ${customers[i]} on the server`)
    const accs = (await q(await T(), `query($c: ID!) { accounts(customerId: $c) { items { id number state propertyFee meters { address billingMode } } } }`, { c: cust.id })).accounts.items
    assert.equal(accs.length, 1)
    const a = accs[0]
    assert.deepEqual([a.state, a.meters.map((m) => [m.address, m.billingMode])], ['OPEN', [[address, 'POST_PAID']]])
    assert.equal(Number(a.propertyFee), Number(address === addr4g ? propertyFee : '0'))
    await p.waitForSelector(`[data-account="${a.number}"]`)
    assert.match(await text(p, `[data-account="${a.number}"]`), new RegExp(address))
    accounts[address] = { id: a.id, number: a.number }
  }
  const m = (await q(await T(), METERS, { p: property.id })).meters.items
  assert.equal(m.find((x) => x.address === addr4g).accountId, accounts[addr4g].id)
  assert.equal(m.find((x) => x.address === addrGw1).accountId, accounts[addrGw1].id)
  assert.equal(m.find((x) => x.address === addrCommon).accountId, null, 'the common meter bills to no account')
  await shot(p, 'acceptance-5-customers')
})

test('6. a shared-area group by floor area: the common meter, the two accounts', async () => {
  const p = portal
  await p.goto(`${BASE}/shared-areas`)
  await p.click('[data-test=new-group]')
  await fill(p, 'group-name', groupName)
  await p.click('[data-test=group-meter-select]')
  await p.keyboard.type(addrCommon)
  await p.click(`.el-select-dropdown__item:visible[data-meter-option="${addrCommon}"]`)
  await p.click('[data-method=AREA]')
  const members = [
    { address: addr4g, weight: areas[0].floor },
    { address: addrGw1, weight: areas[1].floor },
  ]
  for (const [i, m] of members.entries()) {
    await p.click(`[data-test=member-account-${i}]`)
    await p.keyboard.type(accounts[m.address].number)
    await p.click(`.el-select-dropdown__item:visible[data-account-option="${accounts[m.address].number}"]`)
    await fill(p, `member-weight-${i}`, m.weight)
  }
  await p.click('[data-test=save-group]')
  await p.waitForSelector(`[data-test=group-title] >> text="${groupName}"`)
  const g = (await q(await T(), `{ allocationGroups { id name meterId method members { accountId weight } } }`)).allocationGroups.find((x) => x.name === groupName)
  assert.ok(g, 'the group exists on the server')
  assert.deepEqual([g.meterId, g.method], [meters[addrCommon].id, 'AREA'])
  assert.deepEqual(
    g.members.map((x) => [x.accountId, Number(x.weight)]).sort(),
    members.map((m) => [accounts[m.address].id, Number(m.weight)]).sort(),
  )
  assert.equal(await text(p, '[data-test=group-meter]'), addrCommon)
  for (const m of members) await p.waitForSelector(`[data-test=member-table] [data-member="${accounts[m.address].number}"]`)
  await shot(p, 'acceptance-6-shared-area')
})

test('7. the bill run; the 4G account\'s bill against bill(id), with capacity and shared-area lines', async (t) => {
  const p = portal
  period = currentPeriod()
  // Readings of the period on every meter before the run (energy and demand come from them).
  await until(async () => (await q(await T(), METERS, { p: property.id })).meters.items.every((m) => m.live.energyTotal && m.lastSeenAt), { timeout: 20_000, what: 'readings' })
  await p.goto(`${BASE}/bills`)
  await p.waitForSelector('[data-test=bill-table]')
  await p.click('[data-test=run-bills]')
  const input = p.locator('[data-test=run-period] input')
  await input.click()
  await input.fill(period)
  await input.press('Enter')
  await until(async () => (await input.inputValue()) === period, { timeout: 5000, every: 200, what: `the run period ${period}` })
  await p.click('[data-test=run-confirm]')
  await p.waitForSelector('[data-test=run-result]')
  const refusals = (await p.locator('[data-test=run-skipped] .el-table__row').allInnerTexts()).map((x) => x.replace(/\s+/g, ' ').trim())
  const created = await text(p, '[data-test=run-created]')

  const billOf = async (address) => {
    const bills = (await q(await T(), `query($p: String!, $a: ID!) { bills(period: $p, accountId: $a) { id version state total } }`, { p: period, a: accounts[address].id })).bills
    assert.equal(bills.length, 1, `one bill for the account of ${address} (run: ${created}; refused: ${JSON.stringify(refusals)})`)
    return (await q(await T(), BILL, { id: bills[0].id })).bill
  }
  const bill = await billOf(addr4g)
  const other = await billOf(addrGw1)
  assert.deepEqual(refusals, [], 'the run refused nothing')
  assert.match(created, /2/, 'the run says it made two bills')
  await calm(p)
  await shot(p, 'acceptance-7-bills')

  // The 4G account's bill, opened from the list.
  await p.click(`[data-bill="${bill.id}"]`)
  await p.waitForURL((u) => u.pathname.endsWith(`/bills/${bill.id}`))
  await p.waitForSelector(`[data-test=bill-version] >> text="v${bill.version}"`)
  const rows = p.locator('[data-test=bill-lines] .el-table__body-wrapper .el-table__row')
  await until(async () => (await rows.count()) === bill.lines.length, { timeout: 10_000, every: 300, what: 'the bill lines' })
  for (const [i, l] of bill.lines.entries()) {
    const row = rows.nth(i)
    assert.equal(await row.locator('[data-line]').innerText(), String(l.lineNo))
    assert.equal(await row.locator('[data-test=line-kind]').getAttribute('data-kind'), l.kind)
    assert.equal((await row.locator('[data-test=line-quantity]').innerText()).trim(), l.quantity, `line ${l.lineNo} quantity`)
    assert.equal((await row.locator('[data-test=line-price]').innerText()).trim(), l.unitPrice || '—', `line ${l.lineNo} unit price`)
    assert.equal((await row.locator('[data-test=line-amount]').innerText()).trim(), grouped(l.amount), `line ${l.lineNo} amount`)
    assert.equal((await row.locator('[data-test=line-description]').innerText()).trim(), l.description)
  }
  assert.equal(await text(p, '[data-test=detail-total]'), grouped(bill.total))
  assert.equal(await text(p, '[data-test=bill-account-number]'), accounts[addr4g].number)
  assert.equal(bill.lines.reduce((s, l) => s + fen(l.amount), 0n), fen(bill.total), 'the lines add up to the total')

  const kinds = bill.lines.map((l) => l.kind)
  const explain = `lines: ${JSON.stringify(bill.lines.map((l) => [l.kind, l.quantity, l.unitPrice, l.amount, l.description]))}`
  // Energy: the 4G meter's, priced by the tariff's rates.
  const energy = bill.lines.filter((l) => l.kind === 'ENERGY')
  assert.ok(energy.length > 0 && energy.every((l) => l.meterId === meters[addr4g].id), `energy lines of the 4G meter; ${explain}`)
  assert.ok(energy.every((l) => Object.values(prices).some((x) => Number(x) === Number(l.unitPrice))), `energy priced by the tariff; ${explain}`)
  // Capacity: the maximum demand × the capacity price typed in step 4.
  const cap = bill.lines.find((l) => l.kind === 'CAPACITY')
  assert.ok(cap, `a CAPACITY line; ${explain}`)
  assert.equal(cap.meterId, meters[addr4g].id)
  assert.equal(Number(cap.unitPrice), Number(capacityPrice))
  assert.ok(Number(cap.quantity) > 0, 'a maximum demand above zero')
  assert.ok(Math.abs(Number(cap.amount) - Number(cap.quantity) * Number(capacityPrice)) < 0.006, `capacity amount = demand × price (${cap.quantity} × ${capacityPrice} → ${cap.amount})`)
  // Shared area: this account's and the other's shares add up to the common meter's cost, split 60:40.
  const share = bill.lines.find((l) => l.kind === 'SHARED_AREA')
  const otherShare = other.lines.find((l) => l.kind === 'SHARED_AREA')
  assert.ok(share && otherShare, `a SHARED_AREA line on both bills; ${explain}`)
  assert.equal(share.meterId, meters[addrCommon].id)
  const cost = share.description.match(/([\d.]+) yuan ×/)?.[1]
  assert.ok(cost, `the shared-area line names the common meter's cost: ${share.description}`)
  assert.equal(fen(share.amount) + fen(otherShare.amount), fen(cost), 'the two shares add up to the cost')
  const W = BigInt(areas[0].floor) + BigInt(areas[1].floor)
  const diff = fen(share.amount) * W - fen(cost) * BigInt(areas[0].floor)
  assert.ok(diff > -W && diff < W, `60 m² of 100 get 60 % of the cost, to the fen (${share.amount} of ${cost})`)
  // The property fee typed when the account was opened.
  assert.deepEqual(bill.lines.filter((l) => l.kind === 'PROPERTY_FEE').map((l) => l.amount), [propertyFee])
  assert.ok(!other.lines.some((l) => l.kind === 'PROPERTY_FEE'), 'no property fee on the other account')
  assert.ok(['ENERGY', 'CAPACITY', 'SHARED_AREA', 'PROPERTY_FEE'].every((k) => kinds.includes(k)))
  // For the record (no check): the demand billed against the power the meter reported.
  const rs = (await q(await T(), `query($id: ID!, $f: DateTime!, $t: DateTime!) { meter(id: $id) { readings(from: $f, to: $t, first: 1000) { items { readAt energyTotal activePower maxDemand } } } }`, { id: meters[addr4g].id, f: new Date(Date.now() - 3600_000).toISOString(), t: new Date().toISOString() })).meter.readings.items
  const powers = rs.map((r) => Number(r.activePower)).filter((x) => !Number.isNaN(x))
  t.diagnostic(`4G bill: ${explain}`)
  t.diagnostic(`4G meter: ${rs.length} readings, active power ${Math.min(...powers)}–${Math.max(...powers)} kW, maxDemand register ${[...new Set(rs.map((r) => r.maxDemand))]}, billed demand ${cap.quantity} kW`)
  await calm(p)
  await shot(p, 'acceptance-7-bill')
})

test('8. a scoped operator sees a narrower portal than the administrator', async () => {
  const p = portal
  // A second property, so the scope has something to leave out.
  await p.goto(`${BASE}/sites`)
  await p.click('[data-test=new-property]')
  await fill(p, 'property-name', otherPropertyName)
  await fill(p, 'property-address', '验收路 2 号')
  await p.click('[data-test=save-property]')
  await p.waitForSelector(`[data-test=property-title] >> text="${otherPropertyName}"`)
  const allProperties = (await q(await T(), `{ properties { id name retiredAt } }`)).properties.filter((x) => !x.retiredAt)
  assert.equal(allProperties.length, 2)

  await p.goto(`${BASE}/people`)
  await p.waitForSelector('[data-test=operator-table] .el-table__row')
  await p.click('[data-test=new-operator]')
  await fill(p, 'op-username', opUser)
  await fill(p, 'op-display', '验收操作员')
  await fill(p, 'op-password', opPass)
  await p.click('[data-test=op-role]')
  await p.click('.el-select-dropdown__item:visible[data-role-option="operator"]')
  await p.click('[data-test=op-scope] [data-scope=some]')
  await pickOption(p, 'op-properties', propertyName)
  await p.keyboard.press('Escape')
  await p.click('[data-test=save-operator]')
  const opRow = `[data-test=operator-table] .el-table__row:has([data-operator="${opUser}"])`
  await p.waitForSelector(opRow)
  const op = (await q(await T(), `{ operators { id username propertyIds role { name permissions } } }`)).operators.find((o) => o.username === opUser)
  assert.ok(op, 'the operator exists on the server')
  assert.deepEqual(op.propertyIds, [property.id])
  assert.equal(op.role.name, 'operator')
  assert.equal(await text(p, `${opRow} [data-col=scope]`), propertyName)
  await shot(p, 'acceptance-8-people')

  // What the administrator is offered.
  const menuOf = (page) => page.$$eval('[data-menu]', (els) => els.map((e) => e.getAttribute('data-menu')))
  await p.goto(`${BASE}/sites`)
  await p.waitForSelector(`[data-test=property-table] [data-property="${otherPropertyName}"]`)
  const adminMenu = await menuOf(p)
  const adminSites = await p.$$eval('[data-test=property-table] [data-property]', (els) => els.map((e) => e.getAttribute('data-property')))
  assert.deepEqual(adminSites.sort(), allProperties.map((x) => x.name).sort())
  assert.equal(await p.locator('[data-test=property-select]').count(), 1, 'the administrator chooses among the properties')

  // The operator, signed in through the form in a browser of its own.
  opPage = await quiet(await page(b))
  const o = opPage
  await uiLogin(o, { tenant: slug, username: opUser, pass: opPass })
  await o.waitForURL(/\/dashboard/)
  await o.waitForSelector('[data-menu=dashboard]')
  // The menu once the session is known (the header names the one property).
  await o.waitForSelector('.single-property')
  const opMenu = await menuOf(o)
  const me = (await q(await portalToken(o), `{ me { permissions propertyIds } }`)).me
  assert.deepEqual(me.propertyIds, [property.id])
  assert.deepEqual([...me.permissions].sort(), [...op.role.permissions].sort())
  assert.ok(opMenu.every((x) => adminMenu.includes(x)), `the operator's menu is within the administrator's (${opMenu} ⊂ ${adminMenu})`)
  const hidden = adminMenu.filter((x) => !opMenu.includes(x))
  for (const x of ['people', 'settings', 'shared-areas', 'payees']) assert.ok(hidden.includes(x), `${x} is not offered to the operator (hidden: ${hidden})`)
  // One property: named in the header, the only one on the sites screen, nothing to add.
  assert.equal(await o.locator('[data-test=property-select]').count(), 0)
  assert.match(await text(o, '.single-property'), new RegExp(propertyName))
  await o.goto(`${BASE}/sites`)
  await o.waitForSelector(`[data-test=property-table] [data-property="${propertyName}"]`)
  const opSites = await o.$$eval('[data-test=property-table] [data-property]', (els) => els.map((e) => e.getAttribute('data-property')))
  assert.deepEqual(opSites, [propertyName])
  assert.equal(await o.locator('[data-test=new-property]').count(), 0)
  // Its meters are its property's; the people screen, by its address, says it is not offered.
  await o.goto(`${BASE}/monitor`)
  await o.waitForSelector(`[data-meter="${addr4g}"]`)
  const opMeters = (await q(await portalToken(o), `{ meters(pageSize: 100) { items { address propertyId } } }`)).meters.items
  assert.ok(opMeters.length === 3 && opMeters.every((m) => m.propertyId === property.id))
  await shot(o, 'acceptance-8-operator')
  await o.goto(`${BASE}/people`)
  await o.waitForSelector('.el-empty')
  assert.equal(await o.locator('[data-test=operator-table]').count(), 0)
})

test('9. the console suspends the tenant: its users are refused', async () => {
  const p = consolePage
  const adminToken = await T()
  const opToken = await portalToken(opPage)
  assert.ok((await q(adminToken, `{ me { name } }`)).me, 'the administrator is in before')
  await p.goto(`${BASE}/console/tenants`)
  const row = p.locator('[data-test=tenant-table] .el-table__body-wrapper tr', { has: p.locator(`[data-tenant="${slug}"]`) })
  await row.locator('[data-test=suspend]').click()
  await box(p)
  const msg = await text(p, '.el-message-box__message')
  assert.ok(msg.includes(tenantName) && msg.includes(slug), 'the confirmation names the tenant')
  await confirmBox(p)
  await row.locator('[data-status=SUSPENDED]').waitFor()
  const mine = (await q(await consoleToken(p), `{ platformTenants { slug status } }`)).platformTenants.find((x) => x.slug === slug)
  assert.equal(mine.status, 'SUSPENDED')
  await shot(p, 'acceptance-9-suspended')

  // Their next API calls are refused.
  for (const [who, token] of [['administrator', adminToken], ['operator', opToken]]) {
    const r = await gql(token, `{ me { name } }`)
    assert.ok(r.errors?.length && !r.data?.me, `the ${who}'s next call is refused`)
    assert.match(r.errors[0].extensions?.code ?? '', /FORBIDDEN|UNAUTHENTICATED/)
  }
  // A fresh login on the portal's form is refused, saying why.
  const fresh = await page(b)
  await uiLogin(fresh, { tenant: slug, username: adminUser, pass: adminPass })
  const err = await fresh.waitForSelector('[data-test=login-error]')
  assert.match(await err.innerText(), /暂停服务/)
  assert.match(fresh.url(), /\/login/)
  await shot(fresh, 'acceptance-9-login-refused')
  await fresh.context().close()
})

/** Waits for the toasts to go, so screenshots show the screen. */
async function calm(p) {
  await p.waitForSelector('.el-message', { state: 'detached', timeout: 8000 }).catch(() => undefined)
}
