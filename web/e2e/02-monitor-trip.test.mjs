// Trip a meter from the monitor; its row turns tripped when the simulated relay confirms.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, apiLogin, browser, page, q, shot, until } from './lib.mjs'

let b
let tokens
let meter
before(async () => {
  b = await browser()
  tokens = await apiLogin()
  const r = await q(tokens.accessToken, `{ meters(filter: { feeState: NORMAL, status: ONLINE }, pageSize: 50) { items { id address accountId linkType } } }`)
  // A simulated sealed meter that pushes: the demo's field devices (a serial bus's meters, which
  // only answer reads, and a vendor JSON meter) hold profiles of their own.
  const sealed = []
  for (const m of r.meters.items.filter((m) => m.linkType !== 'SERIAL')) {
    if ((await q(tokens.accessToken, `query($m: ID!) { meterProfile(meterId: $m) { profileId } }`, { m: m.id })).meterProfile.profileId === 'builtin-vl3des-1') sealed.push(m)
    if (sealed.some((m) => m.accountId)) break
  }
  meter = sealed.find((m) => m.accountId) ?? sealed[0]
  assert.ok(meter, 'an online sealed meter in normal state')
})
after(async () => {
  // Power back on for the next run.
  if (meter) await q(tokens.accessToken, `mutation($id: ID!) { closeMeter(input: { meterId: $id, reason: "e2e cleanup" }) { id } }`, { id: meter.id }).catch(() => undefined)
  await b?.close()
})

test('trip from the monitor, row turns tripped', async () => {
  const p = await page(b, { tokens })
  await p.goto(`${BASE}/monitor`)
  await p.waitForSelector('[data-meter]')
  await shot(p, 'monitor')

  await p.fill('input[data-test=monitor-search], [data-test=monitor-search] input', meter.address)
  await p.keyboard.press('Enter')
  const row = `[data-meter="${meter.address}"]`
  await p.waitForSelector(row)
  // Fixed columns render their own rows: count distinct meters.
  const distinct = () => p.evaluate(() => new Set([...document.querySelectorAll('[data-meter]')].map((e) => e.getAttribute('data-meter'))).size)
  await until(async () => (await distinct()) === 1, { timeout: 15_000, every: 500, what: 'the search to narrow to one meter' })

  await p.click(`${row} [data-action=TRIP]`)
  await p.fill('.el-message-box input', 'e2e trip')
  await p.click('.el-message-box__btns .el-button--primary')
  await p.waitForSelector(`${row} [data-pending]`, { timeout: 10_000 }).catch(() => undefined)

  await until(async () => (await p.locator(`${row}[data-fee="TRIPPED"]`).count()) > 0, { timeout: 90_000, every: 2000, what: 'the row to show TRIPPED' })
  const api = await q(tokens.accessToken, `query($id: ID!) { meter(id: $id) { feeState live { relayOpen } } }`, { id: meter.id })
  assert.equal(api.meter.feeState, 'TRIPPED')
  await shot(p, 'monitor-tripped')

  // English labels on the same screen.
  await p.evaluate(() => localStorage.setItem('voltledger.lang', 'en-US'))
  await p.goto(`${BASE}/monitor`)
  await p.waitForSelector('[data-meter]')
  await shot(p, 'monitor', 'en-US')
  await p.evaluate(() => localStorage.setItem('voltledger.lang', 'zh-CN'))

  // A batch "read now" over two meters, with per-meter progress.
  await p.goto(`${BASE}/monitor`)
  await p.waitForSelector('[data-meter]')
  const addresses = await p.evaluate(() => [...new Set([...document.querySelectorAll('[data-meter]')].map((e) => e.getAttribute('data-meter')))].slice(0, 2))
  for (const a of addresses) await p.locator(`[data-meter="${a}"] .el-checkbox`).first().click()
  await p.click('[data-test=batch-READ]')
  await p.click('.el-message-box__btns .el-button--primary')
  await p.waitForSelector('[data-test=batch-progress]')
  await until(async () => (await p.innerText('[data-test=batch-finished]')) === '2', { timeout: 90_000, every: 2000, what: 'the batch to finish' })
  await shot(p, 'batch')
  await p.keyboard.press('Escape')

  // The meter's own page and the command queue.
  await p.goto(`${BASE}/meters/${meter.id}`)
  await p.waitForSelector('[data-test=meter-address]')
  await p.waitForSelector('[data-chart], .el-empty', { timeout: 15_000 })
  await shot(p, 'meter')
  await p.goto(`${BASE}/commands`)
  await p.waitForSelector('[data-test=commands-table] [data-status]')
  // Commands name their meter by address.
  const shownAddresses = await p.locator('[data-test=commands-table] [data-test=command-meter]').allInnerTexts()
  assert.ok(shownAddresses.length > 0 && shownAddresses.every((a) => /^\d{12}$/.test(a.trim())), 'meter addresses in the queue')
  await shot(p, 'commands')
  // The kind filter is the server's: only reads, as many as the API gives.
  await p.click('[data-test=command-kind]')
  await p.click('.el-select-dropdown__item:visible >> text="抄表"')
  const reads = (await q(tokens.accessToken, `{ commands(first: 200, kind: "READ") { id kind } }`)).commands
  assert.ok(reads.length > 0 && reads.every((c) => c.kind === 'READ'))
  await until(async () => {
    const kinds = await p.locator('[data-test=commands-table] .el-table__body-wrapper .el-table__row td:nth-child(3)').allInnerTexts()
    return kinds.length > 0 && kinds.every((k) => k.trim() === '抄表')
  }, { timeout: 15_000, every: 500, what: 'the queue to show reads only' })
  // The batches tab lists the batch started above, newest first, with its progress.
  const newest = (await q(tokens.accessToken, `{ commandBatches(first: 1) { id kind total finished } }`)).commandBatches[0]
  assert.equal(newest.kind, 'READ')
  assert.equal(newest.total, 2)
  await p.click('.el-tabs__item:has-text("批量指令")')
  await p.waitForSelector('[data-test=batches-table] .el-table__row')
  const first = p.locator('[data-test=batches-table] .el-table__body-wrapper .el-table__row').first()
  assert.match(await first.innerText(), /抄表/)
  await shot(p, 'commands-batches')
  await first.click()
  await p.waitForSelector('[data-test=batch-progress]')
  assert.equal(await p.innerText('[data-test=batch-finished]'), String(newest.finished))
  await p.keyboard.press('Escape')

  await p.goto(`${BASE}/alarms`)
  await p.waitForSelector('[data-test=alarms-table]')
  // The trip above raised an alarm named by the meter's address (history includes it).
  await p.click('[data-test=alarm-mode] >> text="历史报警"')
  await until(async () => (await p.locator(`[data-test=alarms-table] [data-test=alarm-subject] >> text="${meter.address}"`).count()) > 0, { timeout: 20_000, every: 1000, what: "the tripped meter's alarm" })
  await p.click('[data-test=alarm-mode] >> text="实时报警"')
  await p.waitForTimeout(800)
  await shot(p, 'alarms')
  await p.close()
})
