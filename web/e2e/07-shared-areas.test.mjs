// Shared areas (公摊): a group is refused without a name (the server's message under the field,
// what was typed kept, nothing created), then created from the screen — a simulated demo meter
// as the common meter, two prepaid demo accounts weighted 120.5 m² and 80 m² — and compared
// with `allocationGroups`; a fixed-amount group by shares (a negative amount refused under its
// field first) and a group weighted by the members' own energy (no weights asked) made from
// the screen too. Each is run for the current period: every share on screen (weight, amount,
// where it went, the ledger entry) against the `runAllocation` answer the screen received,
// against `allocationGroups { runs }` and the ledger (same token); the shares sum to the
// amount exactly, each within a fen of its part; a second run is refused and posts nothing.
// The past runs are read back in the history. A group is retired from the screen: a cancelled
// confirmation changes nothing; retired, it leaves the list, and is shown again (tagged, with
// its runs) when asked. The other groups are retired and the charges reversed at the end.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, apiLogin, browser, gql, page, q, shot, until } from './lib.mjs'

const stamp = Date.now().toString(36)
const groupName = `E2E 公摊 ${stamp}`
const fixedName = `E2E 固定 ${stamp}`
const energyName = `E2E 电量 ${stamp}`
let b
let admin
let T
let period
let common
let members // [{ accountId, number, weight }]
let fixedMembers // [{ accountId, number, weight }]

const GROUPS = `query($r: Boolean!) { allocationGroups(includeRetired: $r) { id name meterId fixedAmount method retiredAt members { accountId weight }
  runs { groupId period energy amount createdAt shares { accountId weight amount disposition entryId } } } }`
const groups = async (includeRetired = false) => (await q(T, GROUPS, { r: includeRetired })).allocationGroups
const ENTRIES = `query($a: ID!) { ledgerEntries(filter: { accountId: $a, kind: SHARED_AREA_CHARGE }, first: 50) { items { entry { id amount note } } } }`
const fill = (p, test, value) => p.fill(`input[data-test="${test}"], [data-test="${test}"] input`, value)
const val = (p, test) => p.inputValue(`input[data-test="${test}"], [data-test="${test}"] input`)
const confirmBox = (p) => p.click('.el-message-box__btns .el-button--primary')
const cancelBox = (p) => p.click('.el-message-box__btns .el-button:not(.el-button--primary)')
const calm = async (p) => {
  await p.waitForSelector('.el-message', { state: 'detached', timeout: 8000 }).catch(() => undefined)
  // The demo's live alarm toasts are not this screen's.
  await p.evaluate(() => document.querySelectorAll('.el-notification').forEach((n) => n.remove()))
}
const money = (s) => {
  const neg = s.startsWith('-')
  const [i, f = ''] = s.replace('-', '').split('.')
  return (neg ? '-' : '') + i.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + '.' + (f + '00').slice(0, 2)
}
/** Yuan string → fen (BigInt), exactly. */
const fen = (s) => {
  const neg = s.startsWith('-')
  const [i, f = ''] = s.replace('-', '').split('.')
  const v = BigInt(i) * 100n + BigInt((f + '00').slice(0, 2))
  return neg ? -v : v
}
/** Decimal strings → BigInts on one scale (for exact weight arithmetic). */
const scaled = (values) => {
  const places = Math.max(0, ...values.map((v) => (v.split('.')[1] ?? '').length))
  return values.map((v) => {
    const [i, f = ''] = v.split('.')
    return BigInt(i + f.padEnd(places, '0'))
  })
}

function currentPeriod(tz) {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit' }).formatToParts(new Date())
  return `${parts.find((x) => x.type === 'year').value}-${parts.find((x) => x.type === 'month').value}`
}

before(async () => {
  b = await browser()
  admin = await apiLogin()
  T = admin.accessToken
  const base = await q(T, `{ tenant { timeZone } meters(filter: {}, pageSize: 20) { items { id address accountId account { id number } } } }`)
  period = currentPeriod(base.tenant.timeZone)
  const withAccounts = base.meters.items.filter((m) => m.account)
  common = withAccounts[5]
  members = [
    { accountId: withAccounts[6].account.id, number: withAccounts[6].account.number, weight: '120.5' },
    { accountId: withAccounts[7].account.id, number: withAccounts[7].account.number, weight: '80' },
  ]
  fixedMembers = [
    { accountId: withAccounts[8].account.id, number: withAccounts[8].account.number, weight: '1' },
    { accountId: withAccounts[9].account.id, number: withAccounts[9].account.number, weight: '2' },
  ]
  // Groups an interrupted run left behind.
  for (const g of (await groups()).filter((g) => /^E2E (公摊|固定|电量) /.test(g.name)))
    await gql(T, `mutation($id: ID!) { retireAllocationGroup(id: $id) { id } }`, { id: g.id })
})

after(async () => {
  // Give the charges back (a reversal each) and retire what is left of ours.
  for (const g of (await groups(true)).filter((g) => [groupName, fixedName, energyName].includes(g.name))) {
    for (const r of g.runs) for (const s of r.shares.filter((s) => s.entryId)) await gql(T, `mutation($id: ID!) { reverseEntry(entryId: $id, note: "e2e shared-area test") { receiptNo } }`, { id: s.entryId })
    if (!g.retiredAt) await gql(T, `mutation($id: ID!) { retireAllocationGroup(id: $id) { id } }`, { id: g.id })
  }
  await b?.close()
})

async function pickAccount(p, row, number) {
  await p.click(`[data-test=member-account-${row}]`)
  await p.keyboard.type(number)
  await p.click(`.el-select-dropdown__item:visible[data-account-option="${number}"]`)
}
async function pickMeter(p, address) {
  await p.click('[data-test=group-meter-select]')
  await p.keyboard.type(address)
  await p.click(`.el-select-dropdown__item:visible[data-meter-option="${address}"]`)
}
async function openGroup(p, name) {
  await p.click(`[data-test=group-table] [data-group="${name}"]`)
  await p.waitForSelector(`[data-test=group-title] >> text="${name}"`)
}

/**
 * Runs the chosen group for the period from the screen; returns the `runAllocation` answer
 * the screen received, after checking every share shown against it, the kept run and the
 * ledger, and the exact sum.
 */
async function runAndCompare(p, name) {
  const input = p.locator('[data-test=alloc-period] input')
  await input.click()
  await input.fill(period)
  await input.press('Enter')
  await until(async () => (await input.inputValue()) === period, { timeout: 5000, every: 200, what: 'the period' })
  await p.click('[data-test=run-allocation]')
  const [resp] = await Promise.all([
    p.waitForResponse((r) => r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes('mutation RunAllocation')),
    confirmBox(p),
  ])
  const body = await resp.json()
  assert.equal(body.errors, undefined, `the run of ${name} succeeded: ${JSON.stringify(body.errors)}`)
  const run = body.data.runAllocation
  assert.equal(run.period, period)
  await p.waitForSelector('[data-test=alloc-result] [data-test=share-table]')
  const g = (await groups()).find((x) => x.name === name)
  // The run is kept: the same shares read back through the group.
  const kept = g.runs.find((r) => r.period === period)
  assert.deepEqual(kept, run, 'allocationGroups { runs } holds what runAllocation answered')
  assert.equal(run.shares.length, g.members.length, 'a share for every member')
  const result = p.locator('[data-test=alloc-result]')
  const numbers = {}
  for (const m of [...members, ...fixedMembers]) numbers[m.accountId] = m.number
  let total = 0n
  for (const s of run.shares) {
    const number = numbers[s.accountId]
    assert.ok(number, 'a member of ours')
    assert.equal((await result.locator(`[data-share="${number}"]`).innerText()).trim(), money(s.amount), `share of ${number}`)
    assert.equal((await result.locator(`[data-share-weight="${number}"]`).innerText()).trim(), s.weight, `weight of ${number}`)
    assert.equal(await result.locator(`[data-disposition="${number}"]`).getAttribute('data-value'), s.disposition, `disposition of ${number}`)
    total += fen(s.amount)
    if (s.disposition === 'POSTED') {
      // The ledger entry the share names: the charge, on that account.
      assert.ok(s.entryId)
      const e = (await q(T, ENTRIES, { a: s.accountId })).ledgerEntries.items.map((x) => x.entry).find((x) => x.id === s.entryId)
      assert.ok(e, `the charge of ${number} is in its ledger`)
      assert.equal(fen(e.amount), -fen(s.amount))
      assert.ok(e.note.startsWith(`${name} ${period}`), e.note)
      const row = result.locator('.el-table__row', { has: p.locator(`[data-share="${number}"]`) })
      assert.equal(await row.locator('[data-test=share-entry]').getAttribute('data-entry'), s.entryId)
      assert.equal(await row.locator('[data-test=share-entry]').getAttribute('href'), `/finance?account=${s.accountId}`)
    } else {
      assert.equal(s.entryId, null)
      if (s.disposition === 'ZERO') assert.equal(fen(s.amount), 0n)
    }
  }
  assert.equal(total, fen(run.amount), 'the shares sum to the amount exactly')
  assert.equal((await result.locator('[data-test=alloc-total]').innerText()).trim(), money(run.amount))
  await result.locator('[data-test=sum-matches]').waitFor()
  assert.equal((await result.locator('[data-test=run-amount]').innerText()).trim(), money(run.amount))
  // Largest remainder: each share within a fen of amount × weight ÷ total weight.
  const w = scaled(run.shares.map((s) => s.weight))
  const W = w.reduce((a, x) => a + x, 0n)
  if (W > 0n)
    run.shares.forEach((s, i) => {
      const diff = fen(s.amount) * W - fen(run.amount) * w[i]
      assert.ok(diff > -W && diff < W, `share of ${numbers[s.accountId]} is within a fen of its part`)
    })
  return run
}

test('a group by floor area from the screen, refused first without a name', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/shared-areas`)
  await p.waitForSelector('[data-test=group-table]')
  const before = (await groups()).length
  await p.click('[data-test=new-group]')
  await pickMeter(p, common.address)
  await pickAccount(p, 0, members[0].number)
  await fill(p, 'member-weight-0', members[0].weight)
  await pickAccount(p, 1, members[1].number)
  await fill(p, 'member-weight-1', members[1].weight)
  await fill(p, 'group-name', '   ')
  await p.click('[data-test=save-group]')
  await p.waitForSelector('[data-test=group-dialog] .el-form-item__error')
  assert.equal(await val(p, 'member-weight-0'), members[0].weight, 'what was typed stays')
  assert.equal((await groups()).length, before, 'nothing created')

  await fill(p, 'group-name', groupName)
  await p.click('[data-test=save-group]')
  await p.waitForSelector(`[data-test=group-title] >> text="${groupName}"`)
  const g = (await groups()).find((x) => x.name === groupName)
  assert.ok(g, 'the group exists on the server')
  assert.equal(g.meterId, common.id)
  assert.equal(g.fixedAmount, null)
  assert.equal(g.method, 'AREA')
  const byAccount = Object.fromEntries(g.members.map((m) => [m.accountId, m.weight]))
  for (const m of members) assert.equal(Number(byAccount[m.accountId]), Number(m.weight))
  assert.equal(await p.innerText('[data-test=group-meter]'), common.address)
  for (const m of members) await p.waitForSelector(`[data-test=member-table] [data-member="${m.number}"]`)
  await p.close()
})

test('the run for the period: each share against the answer, the ledger and the kept run, summing to the amount', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/shared-areas`)
  await openGroup(p, groupName)
  const run = await runAndCompare(p, groupName)
  assert.ok(fen(run.amount) > 0n, 'the common meter used energy in the period')
  assert.ok(run.energy !== null, 'a metered run names its energy')
  assert.equal((await p.innerText('[data-test=alloc-result] [data-test=run-energy]')).trim(), run.energy)
  await calm(p)
  await shot(p, 'shared-areas')

  // Once per group and period: refused, nothing posted.
  await p.click('[data-test=run-allocation]')
  await confirmBox(p)
  await p.waitForSelector('[data-test=run-panel] [data-test=run-error]')
  assert.match(await p.innerText('[data-test=run-error]'), /already allocated/)
  await calm(p)
  await shot(p, 'shared-areas-refused')
  for (const m of members) {
    const n = (await q(T, ENTRIES, { a: m.accountId })).ledgerEntries.items.map((x) => x.entry).filter((x) => x.note.startsWith(`${groupName} ${period}`)).length
    assert.equal(n, run.shares.find((s) => s.accountId === m.accountId).disposition === 'POSTED' ? 1 : 0, `one charge at most for ${m.number}`)
  }
  const kept = (await groups()).find((x) => x.name === groupName).runs
  assert.equal(kept.length, 1, 'one run kept')
  await p.close()
})

test('a fixed amount by shares, made and run from the screen', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/shared-areas`)
  await p.waitForSelector('[data-test=group-table]')
  await p.click('[data-test=new-group]')
  await fill(p, 'group-name', fixedName)
  await p.click('[data-test=group-cost] [data-cost=FIXED]')
  assert.equal(await p.locator('[data-test=group-meter-select]').count(), 0, 'no common meter asked')
  await p.click('[data-test=group-method] [data-method=SHARES]')
  await pickAccount(p, 0, fixedMembers[0].number)
  await fill(p, 'member-weight-0', fixedMembers[0].weight)
  await pickAccount(p, 1, fixedMembers[1].number)
  await fill(p, 'member-weight-1', fixedMembers[1].weight)
  // A negative amount: the server's message under the amount; what was typed stays.
  await fill(p, 'group-fixed-amount', '-5')
  await p.click('[data-test=save-group]')
  const err = p.locator('[data-test=group-dialog] .el-form-item.is-error', { has: p.locator('[data-test=group-fixed-amount]') })
  await err.locator('.el-form-item__error >> text=/positive/').waitFor()
  assert.equal(await val(p, 'member-weight-1'), fixedMembers[1].weight)
  assert.ok(!(await groups()).some((g) => g.name === fixedName), 'nothing created')
  await fill(p, 'group-fixed-amount', '100.00')
  await p.click('[data-test=save-group]')
  await p.waitForSelector(`[data-test=group-title] >> text="${fixedName}"`)
  const g = (await groups()).find((x) => x.name === fixedName)
  assert.equal(g.meterId, null)
  assert.equal(g.fixedAmount, '100.00')
  assert.equal(g.method, 'SHARES')
  assert.equal((await p.innerText('[data-test=group-fixed]')).trim(), '100.00')

  const run = await runAndCompare(p, fixedName)
  assert.equal(run.energy, null, 'a fixed amount has no energy')
  assert.equal(run.amount, '100.00')
  assert.deepEqual(run.shares.map((s) => [s.accountId, s.amount]).sort(), [[fixedMembers[0].accountId, '33.33'], [fixedMembers[1].accountId, '66.67']].sort())
  await calm(p)
  await shot(p, 'shared-areas-run')
  await p.close()
})

test('a group weighted by the members\' own energy: no weights asked, the run names each member\'s kWh', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/shared-areas`)
  await p.waitForSelector('[data-test=group-table]')
  await p.click('[data-test=new-group]')
  await fill(p, 'group-name', energyName)
  await pickMeter(p, common.address)
  await p.click('[data-test=group-method] [data-method=ENERGY]')
  await p.waitForSelector('[data-test=energy-hint]')
  await pickAccount(p, 0, members[0].number)
  await pickAccount(p, 1, members[1].number)
  assert.equal(await p.locator('[data-test^=member-weight-]').count(), 0, 'no weight inputs for ENERGY')
  await calm(p)
  await shot(p, 'shared-areas-new')
  await p.click('[data-test=save-group]')
  await p.waitForSelector(`[data-test=group-title] >> text="${energyName}"`)
  const g = (await groups()).find((x) => x.name === energyName)
  assert.equal(g.method, 'ENERGY')
  assert.equal(g.meterId, common.id)
  assert.deepEqual(g.members.map((m) => m.accountId).sort(), members.map((m) => m.accountId).sort())

  // The members' energy may take a moment to show in the readings of a fresh server.
  const run = await runAndCompare(p, energyName)
  assert.ok(run.energy !== null)
  assert.ok(run.shares.every((s) => Number(s.weight) >= 0), 'weights are kWh')
  await p.close()
})

test('past runs read back in the history', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/shared-areas`)
  await openGroup(p, groupName)
  const kept = (await groups()).find((x) => x.name === groupName).runs
  const history = p.locator('[data-test=history-table] .el-table__body-wrapper .el-table__row:not(.el-table__expanded-cell)')
  await p.waitForSelector(`[data-test=history-table] [data-history="${period}"]`)
  assert.equal(await p.locator('[data-test=history-table] [data-history]').count(), kept.length)
  assert.equal((await p.innerText(`[data-test=history-table] [data-history-amount="${period}"]`)).trim(), money(kept[0].amount))
  await history.first().locator('.el-table__expand-icon').click()
  const run = p.locator(`[data-test=history-table] [data-run="${period}"]`)
  await run.waitFor()
  const numbers = Object.fromEntries(members.map((m) => [m.accountId, m.number]))
  for (const s of kept[0].shares) {
    assert.equal((await run.locator(`[data-share="${numbers[s.accountId]}"]`).innerText()).trim(), money(s.amount))
    assert.equal(await run.locator(`[data-disposition="${numbers[s.accountId]}"]`).getAttribute('data-value'), s.disposition)
  }
  assert.equal((await run.locator('[data-test=alloc-total]').innerText()).trim(), money(kept[0].amount))
  await p.close()
})

test('a group retired from the screen: a cancelled confirmation changes nothing', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/shared-areas`)
  await openGroup(p, fixedName)
  await p.click('[data-test=retire-group]')
  await cancelBox(p)
  await p.waitForTimeout(500)
  assert.equal((await groups()).find((x) => x.name === fixedName)?.retiredAt, null, 'cancelled: still in use')
  await p.click('[data-test=retire-group]')
  await confirmBox(p)
  await until(async () => (await groups(true)).find((x) => x.name === fixedName)?.retiredAt, { timeout: 10_000, every: 500, what: 'the group retired' })
  assert.ok(!(await groups()).some((x) => x.name === fixedName), 'out of the default list')
  await p.waitForSelector(`[data-test=group-table] [data-group="${fixedName}"]`, { state: 'detached' })
  // Shown again when asked, tagged, with its run and nothing to run.
  await p.click('[data-test=show-retired]')
  await openGroup(p, fixedName)
  await p.waitForSelector('[data-test=group-retired]')
  assert.equal(await p.locator('[data-test=run-panel]').count(), 0, 'a retired group is not run')
  assert.equal(await p.locator('[data-test=retire-group]').count(), 0)
  await p.waitForSelector(`[data-test=history-table] [data-history="${period}"]`)
  const refused = await gql(T, `mutation($g: ID!, $p: String!) { runAllocation(groupId: $g, period: $p) { amount } }`, { g: (await groups(true)).find((x) => x.name === fixedName).id, p: period })
  assert.equal(refused.errors?.[0]?.extensions?.code, 'CONFLICT', 'the server runs no retired group')
  await p.close()
})

test('the shared areas screen in English', async () => {
  const p = await page(b, { lang: 'en-US', tokens: admin })
  await p.goto(`${BASE}/shared-areas`)
  await openGroup(p, groupName)
  await p.waitForSelector('[data-test=method-explained] >> text=/By floor area/')
  await p.locator('[data-test=history-table] .el-table__expand-icon').first().click()
  await p.waitForSelector(`[data-test=history-table] [data-run="${period}"]`)
  await calm(p)
  await shot(p, 'shared-areas', 'en-US')
  await p.close()
})
