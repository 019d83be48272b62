// Forwarding and the meter import (16). Settings → 数据转发: a target created through the form,
// its secret shown once (64 hex characters, copy button, gone once the dialog is closed and
// never in `forwardTargets`), the row against the API; paused from its row (the API says
// PAUSED, the simulated meters' readings queue as PENDING deliveries), its delivery drawer
// against the page's own answer and the API's, the PENDING filter; resumed, the failed requests
// to an unreachable park in the requests tab (no answer, status 0, the error); a replay from a
// date-time with the number queued as the API answered it; retired after a confirmation (a
// cancelled one changes nothing). An operator with SETTINGS but not FORWARDING sees the
// permission notice, and the API refuses it the targets. The import (Sites → 批量导入电表):
// the template downloaded (a workbook), a CSV with a broken row refused with every error at
// its row and column as the API lists them for the same bytes (nothing written), then a good
// CSV (UTF-8 BOM, fresh 12-digit addresses in a demo property): the dry run's counts, the
// import, and the meters in `meters` with their property, area and shop number; retired at
// the end. Screenshots: docs/portal/forwarding*.png, meter-import*.png.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { BASE, apiLogin, browser, gql, page, q, shot, until } from './lib.mjs'

const stamp = Date.now().toString(36)
const targetName = `e2e-forward-${stamp}`
const targetUrl = `https://park-${stamp}.example.invalid/voltledger/events`
const username = `e2e-fwd-${stamp}`
const pass = `Forward-${stamp}-Pw1!`
let b
let admin
let operatorId
let targetId
const imported = []

const TARGETS = `{ forwardTargets { id name url events propertyIds state counts { pending delivered dead } } }`
const LOG = `query($state: String) { forwardTargets { id deliveries(state: $state, first: 100) { kind reference subject state } attempts(first: 100) { at status error events } } }`
const METERS = `query($q: String) { meters(filter: { q: $q }, pageSize: 50) { items { id address propertyId areaId shopNo linkType billingMode retiredAt } } }`

// Live alarm toasts of the simulated meters would cover the screenshots.
const hideToasts = (p) => p.addStyleTag({ content: '.el-notification { display: none !important; }' })
const row = (name) => `[data-test=target-table] .el-table__body-wrapper tr:has([data-target="${name}"])`

/** The CSV the server reads: UTF-8 with a BOM, CRLF lines, fields quoted when needed. */
function csv(rows) {
  const cell = (v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)
  return Buffer.from('\uFEFF' + rows.map((r) => r.map((v) => cell(String(v))).join(',')).join('\r\n') + '\r\n', 'utf8')
}

/** What the API answers to a dry run of the same bytes (same token). */
async function dryRun(token, bytes) {
  const res = await fetch(`${BASE}/imports/meters?dryRun=true`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/csv' }, body: bytes })
  return { status: res.status, body: await res.json() }
}

before(async () => {
  b = await browser()
  admin = await apiLogin()
  const t = admin.accessToken
  // What an interrupted run left behind.
  for (const x of (await q(t, TARGETS)).forwardTargets.filter((x) => x.name.startsWith('e2e-forward-')))
    await q(t, `mutation($id: ID!) { retireForwardTarget(id: $id) { id } }`, { id: x.id }).catch(() => undefined)
  for (const o of (await q(t, `{ operators { id username status } }`)).operators.filter((o) => o.username.startsWith('e2e-fwd-') && o.status === 'ACTIVE'))
    await q(t, `mutation($id: ID!) { setOperatorActive(input: { id: $id, active: false }) { id } }`, { id: o.id }).catch(() => undefined)
})
after(async () => {
  const t = admin?.accessToken
  if (t && targetId) await gql(t, `mutation($id: ID!) { retireForwardTarget(id: $id) { id } }`, { id: targetId }).catch(() => undefined)
  if (t && operatorId) await gql(t, `mutation($id: ID!) { setOperatorActive(input: { id: $id, active: false }) { id } }`, { id: operatorId }).catch(() => undefined)
  for (const id of imported) if (t) await gql(t, `mutation($id: ID!) { retireMeter(input: { id: $id }) { id } }`, { id }).catch(() => undefined)
  await b?.close()
})

test('forwarding: create (secret once), pause, deliveries, requests, replay, retire', async () => {
  const t = admin.accessToken
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/settings?tab=forwarding`)
  await hideToasts(p)
  await p.waitForSelector('[data-test=forwarding] [data-test=new-target]')
  assert.match(await p.innerText('[data-test=signature-hint]'), /X-VoltLedger-Signature/)
  assert.match(await p.innerText('[data-test=signature-hint]'), /HMAC-SHA256/)

  // A name is required: the server's message under the field, nothing created.
  const before = (await q(t, TARGETS)).forwardTargets.length
  await p.click('[data-test=new-target]')
  await p.fill('[data-test=target-url]', targetUrl)
  await p.click('[data-test=save-target]')
  await p.waitForSelector('[data-test=target-dialog] .el-form-item.is-error')
  assert.equal((await q(t, TARGETS)).forwardTargets.length, before)

  // Created: the secret shown once.
  await p.fill('[data-test=target-name]', targetName)
  await p.click('[data-test=save-target]')
  await p.waitForSelector('[data-test=forward-secret-dialog] [data-test=forward-secret]')
  const secret = (await p.innerText('[data-test=forward-secret]')).trim()
  assert.match(secret, /^[0-9a-f]{64}$/)
  assert.match(await p.innerText('[data-test=forward-secret-dialog]'), /只显示这一次/)
  assert.ok(await p.isVisible('[data-test=copy-forward-secret]'))
  await shot(p, 'forwarding-secret')
  await p.click('[data-test=forward-secret-done]')
  await p.waitForSelector('[data-test=forward-secret-dialog]', { state: 'hidden' })
  await p.waitForSelector(row(targetName))
  assert.ok(!(await p.content()).includes(secret), 'the secret is gone from the page')

  const api = (await q(t, TARGETS)).forwardTargets.find((x) => x.name === targetName)
  assert.ok(api, 'the target in forwardTargets')
  targetId = api.id
  assert.equal(api.url, targetUrl)
  assert.deepEqual([...api.events].sort(), ['ALARM', 'BILL', 'DAILY_ENERGY', 'READING', 'RECHARGE'], 'every event the screen offers, checked by default')
  assert.deepEqual(api.propertyIds, [])
  assert.ok(!JSON.stringify(await q(t, `{ forwardTargets { id name url } }`)).includes(secret))
  assert.equal(await p.getAttribute(`${row(targetName)} [data-col=state]`, 'data-state'), 'ACTIVE')

  // Paused from its row: the API says PAUSED.
  await p.click(`${row(targetName)} [data-test=pause]`)
  await p.waitForSelector(`${row(targetName)} [data-col=state][data-state=PAUSED]`)
  assert.equal((await q(t, TARGETS)).forwardTargets.find((x) => x.id === targetId).state, 'PAUSED')
  assert.equal(await p.innerText(`${row(targetName)} [data-col=state]`), '已暂停')
  // The simulated meters keep reporting: their readings wait as PENDING deliveries.
  await until(async () => (await q(t, TARGETS)).forwardTargets.find((x) => x.id === targetId).counts.pending > 0, { timeout: 60_000, what: 'pending deliveries' })
  await p.click('[data-test=forwarding-refresh]')
  await until(async () => Number(await p.innerText(`${row(targetName)} [data-count=pending]`)) > 0, { timeout: 15_000, every: 500, what: 'the pending count on screen' })
  await shot(p, 'forwarding')

  // Its delivery drawer: the page's own answer on screen, and that as the API's.
  const [res] = await Promise.all([
    p.waitForResponse((r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('"operationName":"ForwardLog"')),
    p.click(`${row(targetName)} [data-test=open-log]`),
  ])
  const own = (await res.json()).data.forwardTargets.find((x) => x.id === targetId)
  await p.waitForSelector('[data-test=log-drawer] [data-test=delivery-table]')
  await until(async () => (await p.locator('[data-test=delivery-table] .el-table__body-wrapper .el-table__row').count()) === own.deliveries.length, { timeout: 10_000, every: 300, what: 'the delivery rows' })
  assert.ok(own.deliveries.length > 0)
  const states = await p.$$eval('[data-test=delivery-table] [data-delivery-state]', (els) => els.map((e) => e.getAttribute('data-delivery-state')))
  assert.deepEqual(states, own.deliveries.map((d) => d.state))
  assert.ok(own.deliveries.every((d) => d.state === 'PENDING'), 'paused: everything waits')
  assert.ok(own.deliveries.some((d) => d.kind === 'READING'), 'the readings among them')
  const apiLog = (await q(t, LOG, {})).forwardTargets.find((x) => x.id === targetId)
  const apiRefs = new Set(apiLog.deliveries.map((d) => d.reference))
  assert.ok(own.deliveries.every((d) => apiRefs.has(d.reference) || apiLog.deliveries.length === 100), 'the API lists the same deliveries')
  // Filtered by state: the server's answer for PENDING, then DELIVERED (none while paused).
  const [pend] = await Promise.all([
    p.waitForResponse((r) => (r.request().postData() ?? '').includes('"operationName":"ForwardLog"') && (r.request().postData() ?? '').includes('"state":"PENDING"')),
    p.click('[data-test=delivery-state] [data-state=PENDING]'),
  ])
  assert.ok((await pend.json()).data.forwardTargets.find((x) => x.id === targetId).deliveries.every((d) => d.state === 'PENDING'))
  await Promise.all([
    p.waitForResponse((r) => (r.request().postData() ?? '').includes('"state":"DELIVERED"')),
    p.click('[data-test=delivery-state] [data-state=DELIVERED]'),
  ])
  await p.waitForSelector('[data-test=delivery-table] .el-table__empty-text')
  await p.click('[data-test=delivery-state] [data-state=""]')
  await p.waitForTimeout(500)
  await shot(p, 'forwarding-deliveries')
  await p.keyboard.press('Escape')
  await p.waitForSelector('[data-test=log-drawer]', { state: 'hidden' })

  // Resumed: the park is unreachable, so the requests come back without an answer (status 0).
  await p.click(`${row(targetName)} [data-test=resume]`)
  await p.waitForSelector(`${row(targetName)} [data-col=state][data-state=ACTIVE]`)
  assert.equal((await q(t, TARGETS)).forwardTargets.find((x) => x.id === targetId).state, 'ACTIVE')
  const attempts = await until(async () => {
    const a = (await q(t, LOG, {})).forwardTargets.find((x) => x.id === targetId).attempts
    return a.length > 0 && a
  }, { timeout: 60_000, what: 'a request to the park' })
  assert.equal(attempts[0].status, 0)
  assert.ok(attempts[0].error, 'the failure is named')
  await p.click(`${row(targetName)} [data-test=pause]`)
  await p.waitForSelector(`${row(targetName)} [data-col=state][data-state=PAUSED]`)
  await p.click(`${row(targetName)} [data-test=open-log]`)
  await p.click('[data-test=log-drawer] #tab-attempts')
  await p.waitForSelector('[data-test=attempt-table] [data-outcome=noAnswer]')
  const first = await p.innerText('[data-test=attempt-table] .el-table__body-wrapper .el-table__row >> nth=0')
  assert.match(first, /无应答/)
  assert.ok(first.includes(attempts[0].error.slice(0, 20)), `the error on screen: ${first}`)
  await shot(p, 'forwarding-requests')
  await p.keyboard.press('Escape')
  await p.waitForSelector('[data-test=log-drawer]', { state: 'hidden' })

  // Replay from an hour ago (the tenant's wall clock): the number the API answered.
  await p.click(`${row(targetName)} [data-test=replay]`)
  await p.waitForSelector('[data-test=run-replay]')
  const [rep] = await Promise.all([
    p.waitForResponse((r) => (r.request().postData() ?? '').includes('"operationName":"ReplayForwardTarget"')),
    p.click('[data-test=run-replay]'),
  ])
  const repBody = await rep.json()
  assert.ok(!repBody.errors, JSON.stringify(repBody.errors))
  const queued = repBody.data.replayForwardTarget
  const from = JSON.parse(rep.request().postData()).variables.from
  assert.ok(Math.abs(Date.parse(from) - (Date.now() - 3600_000)) < 5 * 60_000, `an hour ago: ${from}`)
  assert.ok(queued > 0, 'the readings of the last hour queued again')
  await p.waitForSelector(`[data-test=replay-result][data-queued="${queued}"]`)
  assert.match(await p.innerText('[data-test=replay-result]'), new RegExp(`已重新排队 ${queued} 条投递`))
  await shot(p, 'forwarding-replay')
  await p.click('[data-test=replay-dialog] .el-dialog__footer button:has-text("关闭")')

  // English.
  const en = await page(b, { tokens: admin, lang: 'en-US' })
  await en.goto(`${BASE}/settings?tab=forwarding`)
  await hideToasts(en)
  await en.waitForSelector(row(targetName))
  assert.equal(await en.innerText(`${row(targetName)} [data-col=state]`), 'Paused')
  assert.match(await en.innerText('[data-test=signature-hint]'), /X-VoltLedger-Signature/)
  await shot(en, 'forwarding', 'en-US')
  await en.close()

  // Retired after a confirmation; a cancelled one changes nothing.
  await p.click(`${row(targetName)} [data-test=retire]`)
  await p.click('.el-message-box__btns .el-button:not(.el-button--primary)')
  await p.waitForTimeout(500)
  assert.ok((await q(t, TARGETS)).forwardTargets.some((x) => x.id === targetId))
  await p.click(`${row(targetName)} [data-test=retire]`)
  await p.click('.el-message-box__btns .el-button--primary')
  await p.waitForSelector(row(targetName), { state: 'detached' })
  assert.ok(!(await q(t, TARGETS)).forwardTargets.some((x) => x.id === targetId), 'retired: out of forwardTargets')
  targetId = undefined
  await p.close()
})

test('forwarding without the permission: the notice, and the API refuses', async () => {
  const t = admin.accessToken
  const roles = (await q(t, `{ roles { id name permissions } }`)).roles
  let role = roles.find((r) => r.name === 'e2e-settings-only')
  role ??= (await q(t, `mutation($i: RoleInput!) { createRole(input: $i) { id name permissions } }`, { i: { name: 'e2e-settings-only', permissions: ['SETTINGS'] } })).createRole
  assert.deepEqual(role.permissions, ['SETTINGS'])
  operatorId = (await q(t, `mutation($i: CreateOperatorInput!) { createOperator(input: $i) { id } }`, { i: { username, displayName: 'E2E forwarding', password: pass, roleId: role.id } })).createOperator.id
  const tokens = await apiLogin(username, pass)
  const refused = await gql(tokens.accessToken, TARGETS)
  assert.equal(refused.errors?.[0]?.extensions?.code, 'FORBIDDEN')

  const p = await page(b, { tokens })
  await p.goto(`${BASE}/settings`)
  await hideToasts(p)
  await p.waitForSelector('#tab-sms')
  await p.click('#tab-forwarding')
  await p.waitForSelector('[data-test=forwarding-forbidden]')
  assert.match(await p.innerText('[data-test=forwarding-forbidden]'), /没有数据转发权限/)
  assert.equal(await p.locator('[data-test=new-target]').count(), 0)
  await shot(p, 'forwarding-forbidden')
  await p.close()
})

test('meter import: template, a broken file refused by row and column, a good file imported', async () => {
  const t = admin.accessToken
  const property = (await q(t, `{ properties { id name retiredAt } }`)).properties.find((x) => !x.retiredAt)
  assert.ok(property, 'a demo property')
  const area = (await q(t, `query($p: ID) { areas(propertyId: $p) { id name retiredAt } }`, { p: property.id })).areas.find((a) => !a.retiredAt)
  // Fresh 12-digit addresses.
  const base = 700000000000 + (Date.now() % 10_000_000_000) * 10
  const [a1, a2, a3] = [base, base + 1, base + 2].map((n) => String(n).padStart(12, '0'))
  assert.equal((await q(t, METERS, { q: a1 })).meters.items.length, 0)

  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/sites`)
  await hideToasts(p)
  await p.click('#tab-meters')
  await p.click('[data-test=open-import-meters]')
  await p.waitForURL(/\/sites\/import$/)
  await p.waitForSelector('[data-test=import][data-kind=meters][data-step="0"]')

  // The template: a workbook (a zip), as the server gives it.
  const [d] = await Promise.all([p.waitForEvent('download', { timeout: 30_000 }), p.click('[data-test=download-template]')])
  assert.equal(await d.failure(), null)
  assert.equal(d.suggestedFilename(), 'meters-import.xlsx')
  const xlsx = readFileSync(await d.path())
  assert.equal(xlsx.subarray(0, 2).toString('latin1'), 'PK')
  const direct = Buffer.from(await (await fetch(`${BASE}/imports/meters-template.xlsx?lang=zh`, { headers: { Authorization: `Bearer ${t}` } })).arrayBuffer())
  assert.equal(xlsx.length, direct.length, 'the server’s Chinese template')

  // A broken file: a short address (row 3, column C) and an unknown area (row 4, column B).
  const header = ['项目', '区域', '表地址', '接入方式', '计费方式', '铺位号']
  const broken = csv([
    header,
    [property.name, area?.name ?? '', a1, '4G', '平台预付费', 'E2E-1'],
    [property.name, '', a2.slice(1), '4G', '', 'E2E-2'],
    [property.name, 'Nowhere-e2e', a3, '4G', '', 'E2E-3'],
  ])
  const expected = await dryRun(t, broken)
  assert.equal(expected.status, 422)
  await p.setInputFiles('[data-test=import-file] input[type=file]', { name: 'broken.csv', mimeType: 'text/csv', buffer: broken })
  await p.waitForSelector('[data-test=import][data-kind=meters][data-step="1"]')
  await p.click('[data-test=dry-run]')
  await p.waitForSelector('[data-test=import-result][data-kind=errors]')
  const lines = await p.$$eval('[data-test=error-table] .el-table__body-wrapper .el-table__row', (trs) =>
    trs.map((tr) => ['row', 'column', 'field', 'message'].map((c) => tr.querySelector(`[data-col=${c}]`).textContent.trim())),
  )
  // Sheet order: by row, then column (B before AA).
  const byColumn = (x, y) => x.column.length - y.column.length || (x.column < y.column ? -1 : x.column > y.column ? 1 : 0)
  const apiLines = [...expected.body.errors].sort((x, y) => x.row - y.row || byColumn(x, y)).map((e) => [String(e.row), e.column || '—', e.field || '—', e.message])
  assert.deepEqual(lines, apiLines, 'every error as the API lists it')
  assert.ok(lines.some((l) => l[0] === '3' && l[1] === 'C' && l[2] === '表地址 / Meter address'), `the short address at C3: ${JSON.stringify(lines)}`)
  assert.ok(lines.some((l) => l[0] === '4' && l[1] === 'B' && l[3] === 'no area “Nowhere-e2e” in this property'), `the unknown area at B4: ${JSON.stringify(lines)}`)
  assert.ok(!lines.some((l) => l[0] === '2'), 'the good row is not among them')
  assert.equal(await p.getAttribute('[data-test=dry-errors]', 'data-count'), String(expected.body.errors.length))
  assert.ok(await p.isDisabled('[data-test=commit]'), 'no import after errors')
  assert.equal((await q(t, METERS, { q: a1 })).meters.items.length, 0, 'nothing written')
  await shot(p, 'meter-import-errors')

  // A good file: two 4G meters in the demo property.
  const good = csv([
    header,
    [property.name, area?.name ?? '', a1, '4G', '平台预付费', `E2E-${stamp}-1`],
    [property.name, '', a2, '4G', '', `E2E-${stamp}-2`],
  ])
  await p.setInputFiles('[data-test=import-file] input[type=file]', { name: 'good.csv', mimeType: 'text/csv', buffer: good })
  await p.waitForSelector('[data-test=import][data-kind=meters][data-step="1"]')
  assert.equal(await p.locator('[data-test=import-result]').count(), 0, 'a new file needs a new dry run')
  await p.click('[data-test=dry-run]')
  await p.waitForSelector('[data-test=import-result][data-kind=ok] [data-test=dry-clean]')
  assert.equal(await p.getAttribute('[data-test=dry-clean]', 'data-to-create'), '2')
  assert.equal(await p.getAttribute('[data-test=dry-clean]', 'data-unchanged'), '0')
  assert.equal(await p.innerText('[data-figure=toCreate]'), '2')
  assert.equal((await q(t, METERS, { q: a1 })).meters.items.length, 0, 'a dry run writes nothing')
  await shot(p, 'meter-import-checked')
  const [commit] = await Promise.all([p.waitForResponse((r) => r.url().includes('/imports/meters?dryRun=false')), p.click('[data-test=commit]')])
  assert.equal(commit.status(), 200)
  const answer = await commit.json()
  assert.equal(answer.created, 2)
  await p.waitForSelector('[data-test=import-done][data-created="2"]')
  assert.match(await p.innerText('[data-test=import-done]'), /已导入 2 块电表/)
  await shot(p, 'meter-import-done')

  // The meters exist, in the property (and area) the file named.
  for (const [address, shop, areaId] of [[a1, `E2E-${stamp}-1`, area?.id ?? null], [a2, `E2E-${stamp}-2`, null]]) {
    const m = (await q(t, METERS, { q: address })).meters.items.find((x) => x.address === address)
    assert.ok(m, `meter ${address} exists`)
    imported.push(m.id)
    assert.equal(m.propertyId, property.id)
    assert.equal(m.areaId, areaId)
    assert.equal(m.shopNo, shop)
    assert.equal(m.linkType, 'FOUR_G')
    assert.equal(m.billingMode, 'PLATFORM_PREPAID')
  }

  // The same file again: unchanged, nothing to import.
  await p.click('[data-test=import-another]')
  await p.setInputFiles('[data-test=import-file] input[type=file]', { name: 'good.csv', mimeType: 'text/csv', buffer: good })
  await p.click('[data-test=dry-run]')
  await p.waitForSelector('[data-test=dry-clean][data-to-create="0"][data-unchanged="2"]')
  assert.ok(await p.isDisabled('[data-test=commit]'))

  // English.
  const en = await page(b, { tokens: admin, lang: 'en-US' })
  await en.goto(`${BASE}/sites/import`)
  await hideToasts(en)
  await en.setInputFiles('[data-test=import-file] input[type=file]', { name: 'broken.csv', mimeType: 'text/csv', buffer: broken })
  await en.click('[data-test=dry-run]')
  await en.waitForSelector('[data-test=import-result][data-kind=errors]')
  assert.match(await en.innerText('[data-test=dry-errors]'), /nothing was written/)
  await shot(en, 'meter-import-errors', 'en-US')
  await en.close()
  await p.close()
})
