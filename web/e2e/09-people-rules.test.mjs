// People and rules: a custom role made in the permission matrix (a nameless one refused, nothing
// created); an operator with that role and a one-property scope (a weak password refused under
// its field, what was typed kept) who, signed in in a second browser, sees the narrower menu and
// one property; its password reset (old one refused, its session ended), then disabled (its
// login refused); a park client whose secret is shown once and works, then revoked; the audit
// log showing these with their before/after images; settings: friendly hours and the service
// fee changed and read back from the API, an invalid value refused and nothing changed; the
// time zone changed and back (a bad one refused under its field), the default balance
// thresholds set and read back (an inconsistent set refused), the reading schedule's stored
// value shown, a test SMS through the demo's SMS stand-in (a bad phone refused under its field).
// Operators and roles cannot be deleted (NOTES-API.md): each run adds disabled ones with
// unique names; settings are put back as they were.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, apiLogin, browser, gql, page, q, shot, uiLogin, until } from './lib.mjs'

const stamp = Date.now().toString(36)
const roleName = `E2E role ${stamp}`
const username = `e2e-people-${stamp}`
const pass1 = `People-${stamp}-Pw1!`
const pass2 = `People-${stamp}-Pw2!`
const clientName = `E2E park ${stamp}`
const windowName = `E2E window ${stamp}`
let b
let admin
let property
let operatorId
let operatorToken
let clientId
let savedHours
let savedMoney
let savedZone
let savedThresholds

const fill = (p, test, value) => p.fill(`input[data-test="${test}"], textarea[data-test="${test}"], [data-test="${test}"] input, [data-test="${test}"] textarea`, value)
const val = (p, test) => p.inputValue(`input[data-test="${test}"], [data-test="${test}"] input`)
const confirmBox = (p) => p.click('.el-message-box__btns .el-button--primary')
// Live alarm toasts of the demo's simulated meters would cover the screenshots.
const hideToasts = (p) => p.addStyleTag({ content: '.el-notification, .el-message { display: none !important; }' })
const OPERATORS = `{ operators { id username displayName status propertyIds role { id name permissions } } }`
const ours = async () => (await q(admin.accessToken, OPERATORS)).operators.find((o) => o.username === username)
const HOURS = `{ friendlyHours { name weekdays date start end } }`
const MONEY = `{ moneySettings { serviceFeePercent serviceFeeFixed } }`

before(async () => {
  b = await browser()
  admin = await apiLogin()
  const t = admin.accessToken
  const r = await q(t, `{ properties { id name retiredAt } parkClients { id name revokedAt } ${OPERATORS.slice(1, -1)} }`)
  property = r.properties.filter((x) => !x.retiredAt).sort((a, c) => a.name.localeCompare(c.name))[0]
  assert.ok(property)
  // What an interrupted run left behind.
  for (const o of r.operators.filter((o) => o.username.startsWith('e2e-people-') && o.status === 'ACTIVE'))
    await q(t, `mutation($id: ID!) { setOperatorActive(input: { id: $id, active: false }) { id } }`, { id: o.id }).catch(() => undefined)
  for (const c of r.parkClients.filter((c) => c.name.startsWith('E2E park ') && !c.revokedAt))
    await q(t, `mutation($id: ID!) { revokeParkClient(input: { id: $id }) { id } }`, { id: c.id }).catch(() => undefined)
  savedHours = (await q(t, HOURS)).friendlyHours.filter((w) => !w.name.startsWith('E2E window '))
  savedMoney = (await q(t, MONEY)).moneySettings
  const more = await q(t, `{ tenant { timeZone } moneySettings { defaultThresholds { creditLimit alarm1 alarm2 } } }`)
  savedZone = more.tenant.timeZone
  savedThresholds = more.moneySettings.defaultThresholds
})
after(async () => {
  const t = admin.accessToken
  if (operatorId) await q(t, `mutation($id: ID!) { setOperatorActive(input: { id: $id, active: false }) { id } }`, { id: operatorId }).catch(() => undefined)
  if (clientId) await q(t, `mutation($id: ID!) { revokeParkClient(input: { id: $id }) { id } }`, { id: clientId }).catch(() => undefined)
  if (savedHours) await q(t, `mutation($w: [FriendlyWindowInput!]!) { setFriendlyHours(windows: $w) { name } }`, { w: savedHours }).catch(() => undefined)
  if (savedMoney) await q(t, `mutation($i: ServiceFeeInput!) { setServiceFee(input: $i) { serviceFeePercent } }`, { i: { percent: savedMoney.serviceFeePercent, fixed: savedMoney.serviceFeeFixed } }).catch(() => undefined)
  // The time zone and the default thresholds as they were.
  if (savedThresholds) await q(t, `mutation($i: ThresholdsInput!) { setDefaultThresholds(input: $i) { settlementDay } }`, { i: savedThresholds }).catch(() => undefined)
  if (savedZone) {
    const now = (await q(t, `{ tenant { timeZone } moneySettings { jumpLimitKw settlementDay settlementHour } }`).catch(() => null))
    if (now && now.tenant.timeZone !== savedZone)
      await q(t, `mutation($i: BillingSettingsInput!) { setBillingSettings(input: $i) { settlementDay } }`, { i: { ...now.moneySettings, timeZone: savedZone } }).catch(() => undefined)
  }
  await b?.close()
})

test('a custom role made in the matrix, an operator with it and one property', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/people`)
  await p.waitForSelector('[data-test=operator-table] .el-table__row')
  await p.click('.el-tabs__item >> text=/角色权限/')
  const rolesBefore = (await q(admin.accessToken, `{ roles { id } }`)).roles.length

  // A role without a name is refused by the server; its message stays on the column.
  await p.click('[data-test=new-role]')
  await p.fill('.el-message-box__input input', '')
  await confirmBox(p)
  await p.click('[data-test=role-matrix] [data-cell="|METERS"]')
  await p.click('[data-test=role-matrix] [data-role=""] [data-test=save-role]')
  await p.waitForSelector('[data-test=role-error]')
  assert.match(await p.innerText('[data-test=role-error]'), /name/)
  assert.equal((await q(admin.accessToken, `{ roles { id } }`)).roles.length, rolesBefore, 'nothing created')
  await p.click('[data-test=role-matrix] [data-role=""] >> text=重命名')
  await p.fill('.el-message-box__input input', roleName)
  await confirmBox(p)
  await p.click(`[data-test=role-matrix] [data-role="${roleName}"] [data-test=save-role]`)
  const role = await until(async () => (await q(admin.accessToken, `{ roles { id name permissions builtin } }`)).roles.find((r) => r.name === roleName), { timeout: 10_000, every: 500, what: 'the role created' })
  assert.deepEqual(role.permissions, ['METERS'])
  assert.equal(role.builtin, false)
  // The matrix shows what the API holds, for every role and permission.
  const roles = (await q(admin.accessToken, `{ roles { name permissions } }`)).roles
  await p.waitForSelector(`[data-test=role-matrix] [data-role="${roleName}"]`)
  await p.waitForFunction((n) => !document.querySelector(`[data-role="${n}"] [data-test=save-role]`), roleName)
  for (const r of roles.filter((r) => r.name === roleName || !r.name.startsWith('E2E role '))) {
    for (const perm of ['SETTINGS', 'METERS', 'CONTROL', 'SALES', 'REFUNDS', 'REPORTS', 'OPERATORS', 'PAYEES', 'FORWARDING']) {
      const checked = await p.locator(`[data-cell="${r.name}|${perm}"].is-checked`).count()
      assert.equal(checked, r.permissions.includes(perm) ? 1 : 0, `${r.name} ${perm}`)
    }
  }
  await hideToasts(p)
  await shot(p, 'roles-matrix')

  // The operator: a weak password is refused under its field, the rest stays.
  await p.click('.el-tabs__item >> text=/操作员/')
  await p.click('[data-test=new-operator]')
  await fill(p, 'op-username', username)
  await fill(p, 'op-display', 'E2E 人员')
  await fill(p, 'op-password', 'short')
  await p.click('[data-test=op-role]')
  await p.click(`.el-select-dropdown__item:visible >> text="${roleName}"`)
  await p.click('[data-test=op-scope] [data-scope=some]')
  await p.click('[data-test=op-properties]')
  await p.click(`.el-select-dropdown__item:visible >> text="${property.name}"`)
  await p.keyboard.press('Escape')
  await p.click('[data-test=save-operator]')
  await p.waitForSelector('[data-test=operator-dialog] .el-form-item__error')
  assert.match(await p.innerText('[data-test=operator-dialog] .el-form-item.is-error'), /10 characters/)
  assert.equal(await val(p, 'op-username'), username)
  assert.equal(await ours(), undefined, 'nothing created')
  await fill(p, 'op-password', pass1)
  await p.click('[data-test=save-operator]')
  await p.waitForSelector(`[data-test=operator-table] [data-operator="${username}"]`)
  const op = await ours()
  operatorId = op.id
  assert.deepEqual(op.propertyIds, [property.id])
  assert.equal(op.role.name, roleName)
  const row = `[data-test=operator-table] .el-table__row:has([data-operator="${username}"])`
  assert.equal(await p.innerText(`${row} [data-col=scope]`), property.name)
  assert.equal(await p.innerText(`${row} [data-col=role]`), roleName)
  await hideToasts(p)
  await shot(p, 'people')
  await p.close()
})

test('signed in as the new operator: the narrower portal', async () => {
  const p = await page(b)
  await uiLogin(p, { username, pass: pass1 })
  await p.waitForSelector('[data-menu=dashboard]')
  const menu = await p.$$eval('[data-menu]', (els) => els.map((e) => e.getAttribute('data-menu')))
  // Reports: the meter readings and arrears are any operator's (sales statistics are not offered).
  assert.deepEqual(menu.sort(), ['alarms', 'bills', 'commands', 'customers', 'dashboard', 'monitor', 'reports', 'sites', 'tariffs'])
  assert.match(await p.innerText('.single-property'), new RegExp(property.name))
  // The browser's own token (logins from one address are rate-limited: no extra login here).
  operatorToken = await p.evaluate(() => JSON.parse(localStorage.getItem('voltledger.tokens') ?? '{}').accessToken)
  const me = (await q(operatorToken, `{ me { permissions propertyIds } }`)).me
  assert.deepEqual(me, { permissions: ['METERS'], propertyIds: [property.id] })
  // The people screen is not offered, and by its address it says so.
  await p.goto(`${BASE}/people`)
  await p.waitForSelector('.el-empty')
  assert.equal(await p.locator('[data-test=operator-table]').count(), 0)
  await p.close()
})

test('its password reset, then the operator disabled and its login refused', async () => {
  assert.ok(operatorToken, 'the operator signed in in the test before')
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/people`)
  const row = `[data-test=operator-table] .el-table__row:has([data-operator="${username}"])`
  await p.click(`${row} [data-test=reset-password]`)
  await fill(p, 'new-password', 'short')
  await p.click('[data-test=save-password]')
  await confirmBox(p)
  await p.waitForSelector('[data-test=password-dialog] .el-form-item__error')
  await fill(p, 'new-password', pass2)
  await p.click('[data-test=save-password]')
  await confirmBox(p)
  await p.waitForSelector('[data-test=password-dialog]', { state: 'hidden' })
  await assert.rejects(apiLogin(username, pass1), /401|invalid/i, 'the old password is refused')
  await apiLogin(username, pass2)
  const old = await gql(operatorToken, `{ me { id } }`)
  assert.equal(old.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', 'the old session ended')

  // Disabled, after confirmation: its login refused, on the form and in the API.
  await p.click(`${row} [data-test=disable-operator]`)
  await p.click('.el-message-box__btns .el-button:not(.el-button--primary)')
  assert.equal((await ours()).status, 'ACTIVE', 'cancelled: nothing changed')
  await p.click(`${row} [data-test=disable-operator]`)
  await confirmBox(p)
  await until(async () => (await ours()).status === 'DISABLED', { timeout: 10_000, every: 500, what: 'the operator disabled' })
  await p.waitForSelector(`${row} [data-test=enable-operator]`)
  const other = await page(b)
  await uiLogin(other, { username, pass: pass2 })
  await other.waitForSelector('[data-test=login-error]')
  assert.match(await other.innerText('[data-test=login-error]'), /停用/)
  await other.close()
  await p.close()
})

test('a park client with its secret shown once, then revoked', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/people`)
  await p.click('.el-tabs__item >> text=园区平台接口')
  await p.click('[data-test=new-client]')
  await fill(p, 'client-name', clientName)
  await p.click('[data-test=save-client]')
  // No property chosen: the server's message under the field; nothing created.
  await p.waitForSelector('[data-test=client-dialog] .el-form-item__error, [data-test=client-error]')
  assert.equal(await val(p, 'client-name'), clientName)
  const list = async () => (await q(admin.accessToken, `{ parkClients { id name clientId scopes propertyIds revokedAt } }`)).parkClients
  assert.ok(!(await list()).some((c) => c.name === clientName), 'nothing created')
  await p.click('[data-test=client-properties]')
  await p.click(`.el-select-dropdown__item:visible >> text="${property.name}"`)
  await p.keyboard.press('Escape')
  await p.click('[data-test=save-client]')
  await p.waitForSelector('[data-test=secret-dialog] [data-test=secret-value]')
  const secret = (await p.innerText('[data-test=secret-value]')).trim()
  const cid = (await p.innerText('[data-test=secret-client-id]')).trim()
  const client = (await list()).find((c) => c.name === clientName)
  clientId = client.id
  assert.equal(cid, client.clientId)
  assert.deepEqual(client.propertyIds, [property.id])
  assert.deepEqual(client.scopes, ['bills:read'])
  assert.ok(!JSON.stringify(await list()).includes(secret), 'the API never gives the secret back')
  const token = await fetch(`${BASE}/auth/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials', client_id: cid, client_secret: secret }) })
  assert.equal(token.status, 200, 'the secret shown works')
  await p.click('[data-test=secret-done]')
  await p.waitForSelector('[data-test=secret-dialog]', { state: 'hidden' })
  assert.ok(!(await p.content()).includes(secret), 'gone from the page once closed')
  const clientRow = `[data-test=client-table] .el-table__row:has([data-client="${clientName}"])`
  await p.waitForSelector(clientRow)
  assert.match(await p.innerText(clientRow), /读取账单/)
  assert.equal(await p.innerText(`${clientRow} [data-col=clientId]`), client.clientId)

  await p.click(`[data-test=client-table] .el-table__row:has([data-client="${clientName}"]) [data-test=revoke-client]`)
  await confirmBox(p)
  await until(async () => !!(await list()).find((c) => c.id === clientId)?.revokedAt, { timeout: 10_000, every: 500, what: 'the client revoked' })
  const refused = await fetch(`${BASE}/auth/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials', client_id: cid, client_secret: secret }) })
  assert.notEqual(refused.status, 200, 'a revoked client gets no token')
  await p.close()
})

test('the audit log shows these actions with their before and after images', async () => {
  const api = (await q(admin.accessToken, `query($f: AuditFilter) { auditLog(filter: $f, first: 50) { items { id action targetId before after outcome } } }`, { f: { targetId: operatorId } })).auditLog.items
  const disable = api.find((a) => a.action === 'setOperatorActive' && a.outcome === 'OK')
  assert.ok(disable, 'the API logged the disabling')
  assert.ok(api.some((a) => a.action === 'resetOperatorPassword'), 'and the reset')
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/people`)
  await p.click('.el-tabs__item >> text=操作日志')
  await fill(p, 'audit-target', operatorId)
  await p.click('[data-test=audit-search]')
  await p.waitForSelector('[data-test=audit-table] [data-action=setOperatorActive]')
  const shown = await p.$$eval('[data-test=audit-table] [data-action]', (els) => els.map((e) => e.getAttribute('data-action')))
  assert.deepEqual(shown, api.map((a) => a.action), 'the same entries, newest first')
  await p.click(`[data-test=audit-table] .el-table__row:has([data-action=setOperatorActive]) .el-table__expand-icon`)
  await p.waitForSelector(`[data-audit-detail="${disable.id}"]`)
  // Every key whose value changed is marked, with the API's before and after values.
  const before = JSON.parse(disable.before)
  const afterImg = JSON.parse(disable.after)
  const changed = Object.keys({ ...before, ...afterImg }).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(afterImg[k]))
  assert.ok(changed.length > 0, 'the disabling changed something')
  for (const k of changed) {
    const r = `[data-audit-detail="${disable.id}"] tr.changed[data-diff="${k}"]`
    const text = (v) => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v))
    assert.equal(await p.innerText(`${r} [data-side=before]`), text(before[k]))
    assert.equal(await p.innerText(`${r} [data-side=after]`), text(afterImg[k]))
  }
  // The park client's creation and the role's too, by action.
  await fill(p, 'audit-target', '')
  await fill(p, 'audit-action', 'createParkClient')
  await p.click('[data-test=audit-search]')
  await p.waitForSelector('[data-test=audit-table] [data-action=createParkClient]')
  await fill(p, 'audit-action', '')
  await p.click('[data-test=audit-search]')
  await p.waitForSelector('[data-test=audit-table] [data-action=revokeParkClient]')
  await p.click(`[data-test=audit-table] .el-table__row:has([data-action=revokeParkClient]) .el-table__expand-icon`)
  await p.evaluate(() => document.querySelector('.content')?.scrollTo(0, 0))
  await hideToasts(p)
  await shot(p, 'audit')
  // The server's CSV export, with the session's token.
  const [download] = await Promise.all([p.waitForEvent('download'), p.click('[data-test=audit-export]')])
  assert.match(download.suggestedFilename(), /^audit-.*\.csv$/)
  await p.close()
})

test('the people screen in English', async () => {
  const p = await page(b, { lang: 'en-US', tokens: admin })
  await p.goto(`${BASE}/people`)
  await p.waitForSelector(`[data-test=operator-table] [data-operator="${username}"]`)
  assert.match(await p.innerText('.el-tabs__nav'), /Operators.*Roles.*Audit log/s)
  await hideToasts(p)
  await shot(p, 'people', 'en-US')
  await p.close()
})

test('settings: friendly hours and the service fee saved and read back; invalid values change nothing', async () => {
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/settings`)
  await p.click('.el-tabs__item >> text=友好时段')
  await p.waitForSelector('[data-test=hours-table]')
  const n = (await q(admin.accessToken, HOURS)).friendlyHours.length
  await p.click('[data-test=add-window]')
  await fill(p, `window-name-${n}`, windowName)
  await fill(p, `window-start-${n}`, '25:00')
  await fill(p, `window-end-${n}`, '13:30')
  await p.click('[data-test=save-hours]')
  await p.waitForSelector('[data-test=hours-error]')
  assert.equal((await q(admin.accessToken, HOURS)).friendlyHours.length, n, 'refused: nothing changed')
  assert.equal(await val(p, `window-name-${n}`), windowName, 'what was typed stays')
  await fill(p, `window-start-${n}`, '12:00')
  await p.click('[data-test=save-hours]')
  const hours = await until(async () => (await q(admin.accessToken, HOURS)).friendlyHours.find((w) => w.name === windowName), { timeout: 10_000, every: 500, what: 'the window saved' })
  assert.deepEqual(hours, { name: windowName, weekdays: [1, 2, 3, 4, 5], date: null, start: '12:00', end: '13:30' })
  assert.equal((await q(admin.accessToken, HOURS)).friendlyHours.length, n + 1)

  await p.click('.el-tabs__item >> text=计费设置')
  await fill(p, 'fee-percent', '150')
  await p.click('[data-test=save-fee]')
  await p.waitForSelector('[data-test=fee-form] .el-form-item__error')
  assert.match(await p.innerText('[data-test=fee-form] .el-form-item.is-error'), /between 0 and 100/)
  assert.deepEqual((await q(admin.accessToken, MONEY)).moneySettings, savedMoney, 'refused: nothing changed')
  await fill(p, 'fee-percent', '1.5')
  await fill(p, 'fee-fixed', '0.50')
  await p.click('[data-test=save-fee]')
  const money = await until(async () => {
    const m = (await q(admin.accessToken, MONEY)).moneySettings
    return m.serviceFeePercent !== savedMoney.serviceFeePercent && m
  }, { timeout: 10_000, every: 500, what: 'the fee saved' })
  assert.equal(Number(money.serviceFeePercent), 1.5)
  assert.equal(money.serviceFeeFixed, '0.50')
  await p.waitForFunction(() => /1\.5% \+ ¥0\.50/.test(document.querySelector('[data-test=fee-current]')?.textContent ?? ''))
  await p.click('.el-tabs__item >> text=友好时段')
  await hideToasts(p)
  await shot(p, 'settings')
  await p.close()

  const en = await page(b, { lang: 'en-US', tokens: admin })
  await en.goto(`${BASE}/settings`)
  await en.click('.el-tabs__item >> text=Money')
  await en.waitForFunction(() => /1\.5% \+ ¥0\.50/.test(document.querySelector('[data-test=fee-current]')?.textContent ?? ''))
  await hideToasts(en)
  await shot(en, 'settings', 'en-US')
  await en.close()
})

test('settings: the time zone and back, default thresholds, the reading schedule, a test SMS', async () => {
  const t = admin.accessToken
  const ZONE = `{ tenant { timeZone lostAfterIntervals readingIntervalSeconds } }`
  const THRESHOLDS = `{ moneySettings { defaultThresholds { creditLimit alarm1 alarm2 } } }`
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/settings`)
  await hideToasts(p)
  await p.click('.el-tabs__item >> text=计费设置')

  // Default thresholds: the stored ones shown; an alarm 2 above alarm 1 refused under its field.
  await p.waitForSelector('[data-test=thresholds-form]')
  await until(async () => (await val(p, 'thr-alarm1')) === savedThresholds.alarm1, { timeout: 5000, every: 200, what: 'the stored thresholds' })
  assert.equal(await val(p, 'thr-credit'), savedThresholds.creditLimit)
  await fill(p, 'thr-alarm1', '50')
  await fill(p, 'thr-alarm2', '80')
  await fill(p, 'thr-credit', '10')
  await p.click('[data-test=save-thresholds]')
  const alarm2 = p.locator('[data-test=thresholds-form] .el-form-item.is-error', { has: p.locator('[data-test=thr-alarm2]') })
  await alarm2.locator('.el-form-item__error >> text=/alarm 1/').waitFor()
  assert.equal(await val(p, 'thr-alarm2'), '80', 'what was typed stays')
  assert.deepEqual((await q(t, THRESHOLDS)).moneySettings.defaultThresholds, savedThresholds, 'refused: nothing changed')
  await fill(p, 'thr-alarm2', '20')
  await p.click('[data-test=save-thresholds]')
  const set = await until(async () => {
    const d = (await q(t, THRESHOLDS)).moneySettings.defaultThresholds
    return d.alarm1 !== savedThresholds.alarm1 && d
  }, { timeout: 10_000, every: 500, what: 'the thresholds saved' })
  assert.deepEqual(set, { creditLimit: '10.00', alarm1: '50.00', alarm2: '20.00' })

  // The time zone: a zone that is none refused under its field, nothing changed.
  const zone = async () => (await q(t, ZONE)).tenant.timeZone
  assert.match(await p.innerText('[data-test=time-zone]'), new RegExp(savedZone))
  const pickZone = async (typed, option) => {
    await p.click('[data-test=time-zone]')
    await p.keyboard.type(typed)
    if (option) await p.click(`.el-select-dropdown__item:visible[data-zone="${option}"]`)
    else await p.keyboard.press('Enter')
  }
  await pickZone('Mars/Base')
  await p.click('[data-test=save-billing]')
  await confirmBox(p)
  const zoneItem = p.locator('[data-test=billing-form] .el-form-item.is-error', { has: p.locator('[data-test=time-zone]') })
  await zoneItem.locator('.el-form-item__error >> text=/IANA/').waitFor()
  assert.equal(await zone(), savedZone, 'refused: the zone is unchanged')
  // Another zone, confirmed, read back; then back again.
  await pickZone('Urumqi', 'Asia/Urumqi')
  await p.click('[data-test=save-billing]')
  await confirmBox(p)
  await until(async () => (await zone()) === 'Asia/Urumqi', { timeout: 10_000, every: 500, what: 'the zone changed' })
  await shot(p, 'settings-money')
  await pickZone('Shanghai', 'Asia/Shanghai')
  await p.click('[data-test=save-billing]')
  // A cancelled confirmation changes nothing.
  await p.click('.el-message-box__btns .el-button:not(.el-button--primary)')
  await p.waitForTimeout(500)
  assert.equal(await zone(), 'Asia/Urumqi', 'cancelled: unchanged')
  await p.click('[data-test=save-billing]')
  await confirmBox(p)
  await until(async () => (await zone()) === 'Asia/Shanghai', { timeout: 10_000, every: 500, what: 'the zone back' })

  // The reading schedule shows the stored value.
  const tenant = (await q(t, ZONE)).tenant
  await p.click('.el-tabs__item >> text=抄表计划')
  assert.equal(await val(p, 'reading-interval'), String(tenant.readingIntervalSeconds))
  assert.equal(await val(p, 'lost-after'), String(tenant.lostAfterIntervals))

  // A test SMS through the demo's stand-in provider: a bad phone refused under its field, then
  // the provider's reference shown. Kinds without a template offer no test.
  const templates = (await q(t, `{ notificationTemplates { alarmKind templateCode } }`)).notificationTemplates
  const tpl = templates.find((x) => x.alarmKind === 'PHASE_LOSS')
  assert.ok(tpl, 'the demo has a PHASE_LOSS template')
  await p.click('.el-tabs__item >> text=短信通知')
  await p.waitForSelector('[data-test=sms-templates]')
  const untemplated = ['TAMPER', 'OVERLOAD', 'SUDDEN_DROP'].find((k) => !templates.some((x) => x.alarmKind === k))
  if (untemplated) assert.equal(await p.locator(`[data-test-send=${untemplated}]`).count(), 0, 'no test without a template')
  await p.click('[data-test-send=PHASE_LOSS]')
  await p.waitForSelector('[data-test=test-sms-dialog]')
  await fill(p, 'test-phone', '123')
  await p.click('[data-test=test-send]')
  const phone = p.locator('[data-test=test-sms-dialog] .el-form-item.is-error', { has: p.locator('[data-test=test-phone]') })
  await phone.locator('.el-form-item__error >> text=/mobile/').waitFor()
  assert.equal(await p.locator('[data-test=test-sms-result]').count(), 0, 'nothing sent')
  await fill(p, 'test-phone', '13800000001')
  await p.click('[data-test=test-send]')
  await p.waitForSelector('[data-test=test-sms-result][data-sent=true]')
  assert.match(await p.innerText('[data-test=test-sms-result]'), new RegExp(tpl.templateCode))
  assert.ok((await p.innerText('[data-test=test-sms-ref]')).trim().length > 0, 'the provider\'s reference is shown')
  await shot(p, 'settings-test-sms')
  await p.close()
})
