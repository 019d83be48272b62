// Forwarding to the park's own MQTT broker and the site import (18). Settings → 数据转发: a
// target made through the form with the MQTT transport (the address's placeholder and help
// per transport, username and password asked) — a missing password and an `mqtt://` address
// with a `#` wildcard each refused under its field with the API's own answer for the same
// input, nothing created — then created (its secret shown once, the MQTT signature hint), in the
// table with its transport and username, `forwardTargets { transport username }` as typed and
// the password nowhere in the API's answer nor on the page. When a Mosquitto is installed
// (Debian's `mosquitto`; `MOSQUITTO` overrides /usr/sbin/mosquitto) the test runs one of its own
// on a free loopback port with a password file, points the target there and reads what arrives:
// topics `<prefix>/<kind lower-case>/<subject id>`, the MQTT 5 user properties
// X-VoltLedger-Timestamp / X-VoltLedger-Signature (the HMAC checked with the secret the dialog
// showed) / Idempotency-Key (the event's id), and the requests tab showing the acknowledged
// publishes (status 0, no error) as delivered, not "无应答"; without one, the target points at a
// closed port and the tab shows the broker failure. Retired after a confirmation. The site
// import (Sites → 导入, the wizard's 项目·区域·网关 choice): the template (no bearer needed), a
// CSV with broken rows refused with every error at its row and column as the API lists them for
// the same bytes (nothing written), a good CSV (a new property `e2e-site-<stamp>` with two
// areas and a gateway): the dry run's counts per kind as the API gives them, the import, the
// property, areas and gateway in `properties`, `areas` and `gateways`; the same file again
// changes nothing. Everything made is retired at the end. Screenshots:
// docs/portal/forwarding-mqtt*.png, site-import*.png.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BASE, apiLogin, browser, gql, page, q, shot, until } from './lib.mjs'

const stamp = Date.now().toString(36)
const targetName = `e2e-mqtt-${stamp}`
const prefix = `e2e/${stamp}/energy`
const brokerUser = `park-${stamp}`
const brokerPass = `Broker ${stamp}:Pw1!`
const siteName = `e2e-site-${stamp}`
const gatewaySerial = `E2E-GW-${stamp}`.toUpperCase()
let b
let admin
let targetId
let broker // { port, proc, dir } when a Mosquitto of our own runs

const TARGETS = `{ forwardTargets { id name url transport username events propertyIds state } }`
/** Every field a target has, with its log: the password must be in none of it. */
const EVERYTHING = `{ forwardTargets { id name url events propertyIds state createdAt transport username counts { pending delivered dead }
  deliveries(first: 20) { kind reference subject at state attempts nextAt lastError deliveredAt } attempts(first: 20) { at events status error durationMs } } }`
const ATTEMPTS = `{ forwardTargets { id attempts(first: 50) { at status error events } counts { pending delivered dead } } }`
const CREATE = `mutation($i: CreateForwardTargetInput!) { createForwardTarget(input: $i) { secret target { id } } }`

const hideToasts = (p) => p.addStyleTag({ content: '.el-notification { display: none !important; }' })
const row = (name) => `[data-test=target-table] .el-table__body-wrapper tr:has([data-target="${name}"])`
const dialog = '[data-test=target-dialog]'
const errorUnder = (input) => `${dialog} .el-form-item:has([data-test=${input}]) .el-form-item__error`

function csv(rows) {
  const cell = (v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)
  return Buffer.from('\uFEFF' + rows.map((r) => r.map((v) => cell(String(v))).join(',')).join('\r\n') + '\r\n', 'utf8')
}

async function siteDryRun(token, bytes) {
  const res = await fetch(`${BASE}/imports/sites?dryRun=true`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/csv' }, body: bytes })
  return { status: res.status, body: await res.json() }
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/** A Mosquitto of the test's own (MQTT 5, a password file with the target's login), or null. */
async function startBroker() {
  const bin = process.env.MOSQUITTO ?? '/usr/sbin/mosquitto'
  const passwd = process.env.MOSQUITTO_PASSWD ?? '/usr/bin/mosquitto_passwd'
  const sub = process.env.MOSQUITTO_SUB ?? '/usr/bin/mosquitto_sub'
  if (![bin, passwd, sub].every((f) => existsSync(f))) return null
  const dir = mkdtempSync(join(tmpdir(), 'vl-e2e-mqtt-'))
  // Mosquitto started as root reads its files as its own user.
  chmodSync(dir, 0o755)
  const pw = join(dir, 'passwd')
  await new Promise((resolve, reject) => {
    const c = spawn(passwd, ['-c', '-b', pw, brokerUser, brokerPass], { stdio: 'ignore' })
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mosquitto_passwd: ${code}`))))
    c.on('error', reject)
  })
  chmodSync(pw, 0o644)
  const port = await freePort()
  writeFileSync(join(dir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${pw}\npersistence false\n`)
  const proc = spawn(bin, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  proc.stderr.on('data', (d) => (log += d))
  await until(
    () =>
      new Promise((resolve) => {
        const s = createServer()
        // The port is taken once the broker listens.
        s.once('error', () => resolve(true))
        s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)))
      }),
    { timeout: 10_000, every: 200, what: `Mosquitto on ${port} (${log})` },
  )
  return { port, proc, dir, sub }
}

/** Subscribes to the prefix and collects `n` messages: topic, user properties, payload. */
function collect(n) {
  const args = ['-V', 'mqttv5', '-h', '127.0.0.1', '-p', String(broker.port), '-u', brokerUser, '-P', brokerPass, '-t', `${prefix}/#`, '-F', '%t\t%P\t%p', '-C', String(n), '-W', '120']
  const c = spawn(broker.sub, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  c.stdout.on('data', (d) => (out += d))
  c.stderr.on('data', (d) => (err += d))
  return new Promise((resolve, reject) => {
    c.on('exit', () => {
      const lines = out.split('\n').filter(Boolean)
      if (lines.length < n) return reject(new Error(`mosquitto_sub: ${lines.length} of ${n} messages (${err})`))
      resolve(
        lines.map((l) => {
          const [topic, props, ...payload] = l.split('\t')
          const properties = Object.fromEntries(props.split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf(':')), kv.slice(kv.indexOf(':') + 1)]))
          return { topic, properties, payload: payload.join('\t') }
        }),
      )
    })
  })
}

async function retireSites(t, names) {
  const props = (await q(t, `{ properties { id name retiredAt } }`)).properties.filter((p) => names(p.name) && !p.retiredAt)
  for (const p of props) {
    const gws = (await q(t, `query($p: ID) { gateways(propertyId: $p, pageSize: 100) { items { id retiredAt } } }`, { p: p.id })).gateways.items
    for (const g of gws.filter((g) => !g.retiredAt)) await gql(t, `mutation($id: ID!) { retireGateway(input: { id: $id }) { id } }`, { id: g.id })
    for (const a of (await q(t, `query($p: ID) { areas(propertyId: $p) { id retiredAt } }`, { p: p.id })).areas.filter((a) => !a.retiredAt))
      await gql(t, `mutation($id: ID!) { retireArea(input: { id: $id }) { id } }`, { id: a.id })
    await gql(t, `mutation($id: ID!) { retireProperty(input: { id: $id }) { id } }`, { id: p.id })
  }
}

before(async () => {
  b = await browser()
  admin = await apiLogin()
  const t = admin.accessToken
  // What an interrupted run left behind.
  for (const x of (await q(t, TARGETS)).forwardTargets.filter((x) => x.name.startsWith('e2e-mqtt-')))
    await gql(t, `mutation($id: ID!) { retireForwardTarget(id: $id) { id } }`, { id: x.id })
  await retireSites(t, (n) => n.startsWith('e2e-site-'))
  broker = await startBroker().catch((e) => {
    console.error(`no Mosquitto of our own (${e.message}): the MQTT target points at a closed port`)
    return null
  })
})

after(async () => {
  const t = admin?.accessToken
  if (t && targetId) await gql(t, `mutation($id: ID!) { retireForwardTarget(id: $id) { id } }`, { id: targetId }).catch(() => undefined)
  if (t) await retireSites(t, (n) => n === siteName).catch(() => undefined)
  if (broker) {
    broker.proc.kill()
    rmSync(broker.dir, { recursive: true, force: true })
  }
  await b?.close()
})

test('forwarding to an MQTT broker: the form, its refusals, the table, the API, the publishes, retire', async () => {
  const t = admin.accessToken
  const port = broker?.port ?? (await freePort())
  const goodUrl = `mqtt://127.0.0.1:${port}/${prefix}`
  const wildUrl = `mqtt://127.0.0.1:${port}/${prefix}/#`
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/settings?tab=forwarding`)
  await hideToasts(p)
  await p.waitForSelector('[data-test=forwarding] [data-test=new-target]')
  assert.match(await p.innerText('[data-test=signature-hint-mqtt]'), /MQTT 5.*X-VoltLedger-Signature.*Idempotency-Key/s)
  const count = (await q(t, TARGETS)).forwardTargets.length

  // The form: a webhook by default; MQTT asks for the broker's login, with its own placeholder and help.
  await p.click('[data-test=new-target]')
  await p.waitForSelector(`${dialog} [data-test=target-url]`)
  assert.equal(await p.getAttribute('[data-test=target-url]', 'placeholder'), 'https://park.example.com/voltledger/events')
  assert.equal(await p.locator('[data-test=target-password]').count(), 0, 'no login for a webhook')
  await p.fill('[data-test=target-name]', targetName)
  await p.click('[data-test=target-transport] [data-transport=MQTT]')
  await p.waitForSelector('[data-test=target-password]')
  assert.equal(await p.getAttribute('[data-test=target-url]', 'placeholder'), 'mqtts://mqtt.park.example.cn:8883/park/energy')
  assert.equal(await p.getAttribute('[data-test=target-password]', 'type'), 'password')
  assert.match(await p.innerText('[data-test=url-hint]'), /mqtts:\/\/.*park\/energy\/reading\/<id>/s)
  assert.match(await p.innerText('[data-test=transport-hint]'), /QoS 1/)
  await p.fill('[data-test=target-url]', goodUrl)
  await p.fill('[data-test=target-username]', brokerUser)
  assert.match(await p.innerText('[data-test=url-hint]'), new RegExp(`${prefix}/reading/<id>`), 'the topic example follows the prefix typed')

  // No password: the API's refusal for the same input, under the password.
  const input = { name: targetName, url: goodUrl, events: ['READING', 'RECHARGE', 'BILL', 'DAILY_ENERGY', 'ALARM'], propertyIds: [], transport: 'MQTT', username: brokerUser }
  const noPassword = await gql(t, CREATE, { i: { ...input, password: '' } })
  assert.equal(noPassword.errors?.[0]?.extensions?.field, 'password', JSON.stringify(noPassword))
  await p.click('[data-test=save-target]')
  await p.waitForSelector(errorUnder('target-password'))
  assert.equal(await p.innerText(errorUnder('target-password')), `输入有误: ${noPassword.errors[0].message}`)
  assert.equal(await p.locator(`${dialog} .el-form-item.is-error`).count(), 1, 'one field refused')
  assert.equal((await q(t, TARGETS)).forwardTargets.length, count, 'nothing created')

  // A wildcard in the topic prefix: the API's refusal, under the address; what was typed stays.
  await p.fill('[data-test=target-password]', brokerPass)
  await p.fill('[data-test=target-url]', wildUrl)
  const wild = await gql(t, CREATE, { i: { ...input, url: wildUrl, password: brokerPass } })
  assert.equal(wild.errors?.[0]?.extensions?.field, 'url', JSON.stringify(wild))
  await p.click('[data-test=save-target]')
  await p.waitForSelector(errorUnder('target-url'))
  assert.equal(await p.innerText(errorUnder('target-url')), `输入有误: ${wild.errors[0].message}`)
  await p.waitForSelector(errorUnder('target-password'), { state: 'detached' })
  assert.equal(await p.inputValue('[data-test=target-username]'), brokerUser)
  assert.equal(await p.inputValue('[data-test=target-password]'), brokerPass)
  assert.equal((await q(t, TARGETS)).forwardTargets.length, count, 'nothing created')
  await shot(p, 'forwarding-mqtt-form')

  // Created: the secret once, with the MQTT signature hint.
  await p.fill('[data-test=target-url]', goodUrl)
  const [created] = await Promise.all([
    p.waitForResponse((r) => (r.request().postData() ?? '').includes('"operationName":"CreateForwardTarget"')),
    p.click('[data-test=save-target]'),
  ])
  const sent = JSON.parse(created.request().postData()).variables.input
  assert.deepEqual({ transport: sent.transport, username: sent.username, password: sent.password, url: sent.url }, { transport: 'MQTT', username: brokerUser, password: brokerPass, url: goodUrl })
  await p.waitForSelector('[data-test=forward-secret-dialog] [data-test=forward-secret]')
  const secret = (await p.innerText('[data-test=forward-secret]')).trim()
  assert.match(secret, /^[0-9a-f]{64}$/)
  assert.match(await p.innerText('[data-test=forward-secret-dialog]'), /MQTT 5 用户属性/)
  await shot(p, 'forwarding-mqtt-secret')
  await p.click('[data-test=forward-secret-done]')
  await p.waitForSelector(row(targetName))

  // The table: transport and username.
  assert.equal(await p.getAttribute(`${row(targetName)} [data-col=transport]`, 'data-transport'), 'MQTT')
  assert.equal((await p.innerText(`${row(targetName)} [data-col=transport]`)).trim(), 'MQTT')
  assert.equal(await p.getAttribute(`${row(targetName)} [data-col=username]`, 'data-username'), brokerUser)
  assert.match(await p.innerText(`${row(targetName)} [data-col=username]`), new RegExp(brokerUser))
  assert.equal(await p.innerText(`${row(targetName)} [data-col=url]`), goodUrl)
  const html = await p.content()
  assert.ok(!html.includes(brokerPass) && !html.includes(secret), 'neither the password nor the secret on the page')

  // The API: as typed; the password in none of its answers.
  const api = (await q(t, TARGETS)).forwardTargets.find((x) => x.name === targetName)
  assert.ok(api, 'the target in forwardTargets')
  targetId = api.id
  assert.deepEqual({ transport: api.transport, username: api.username, url: api.url, state: api.state }, { transport: 'MQTT', username: brokerUser, url: goodUrl, state: 'ACTIVE' })
  assert.deepEqual([...api.events].sort(), ['ALARM', 'BILL', 'DAILY_ENERGY', 'READING', 'RECHARGE'])
  const everything = JSON.stringify(await q(t, EVERYTHING))
  assert.ok(!everything.includes(brokerPass), 'the password appears nowhere in the API answer')
  assert.ok(!everything.includes(secret), 'nor the secret')
  await shot(p, 'forwarding-mqtt')

  if (broker) {
    // What the park's broker receives: topic, signed user properties, the event as payload.
    const messages = await collect(3)
    for (const m of messages) {
      assert.match(m.topic, new RegExp(`^${prefix}/(reading|recharge|bill|daily_energy|alarm)/[^/]+$`), m.topic)
      const ts = m.properties['X-VoltLedger-Timestamp']
      assert.match(ts, /^\d{10}$/)
      const expected = 'v1=' + createHmac('sha256', secret).update(`${ts}.${m.payload}`).digest('hex')
      assert.equal(m.properties['X-VoltLedger-Signature'], expected, 'signed with the secret the dialog showed')
      const event = JSON.parse(m.payload)
      assert.equal(m.properties['Idempotency-Key'], event.id)
      assert.equal(m.topic.split('/').at(-2), event.kind.toLowerCase())
    }
    // Acknowledged publishes: status 0 and no error; the requests tab calls them delivered.
    const ok = await until(async () => {
      const a = (await q(t, ATTEMPTS)).forwardTargets.find((x) => x.id === targetId)
      return a.counts.delivered > 0 && a.attempts.find((x) => x.status === 0 && x.error === '')
    }, { timeout: 60_000, what: 'an acknowledged publish' })
    assert.equal(ok.status, 0)
    await p.click(`${row(targetName)} [data-test=pause]`)
    await p.waitForSelector(`${row(targetName)} [data-col=state][data-state=PAUSED]`)
    await p.waitForSelector('.el-message', { state: 'detached', timeout: 10_000 }).catch(() => undefined)
    // The drawer's own answer on screen: each try's outcome from its error alone.
    const [res] = await Promise.all([
      p.waitForResponse((r) => (r.request().postData() ?? '').includes('"operationName":"ForwardLog"')),
      p.click(`${row(targetName)} [data-test=open-log]`),
    ])
    const own = (await res.json()).data.forwardTargets.find((x) => x.id === targetId).attempts
    await p.click('[data-test=log-drawer] #tab-attempts')
    await until(async () => (await p.locator('[data-test=attempt-table] [data-outcome]').count()) === own.length, { timeout: 10_000, every: 300, what: 'the request rows' })
    const outcomes = await p.$$eval('[data-test=attempt-table] [data-outcome]', (els) => els.map((e) => e.getAttribute('data-outcome')))
    assert.deepEqual(outcomes, own.map((a) => (a.error ? 'failed' : 'ok')))
    assert.ok(own.every((a) => a.status === 0), 'an MQTT try has no HTTP status')
    assert.ok(outcomes.includes('ok'))
    const text = await p.innerText('[data-test=attempt-table]')
    assert.ok(!/无应答/.test(text), 'no acknowledged publish shown as "no answer"')
    assert.match(text, /已接收/)
    assert.match(text, /服务器已确认 \(PUBACK\)/)
    assert.equal(await p.locator('[data-test=attempt-table] [data-col=status]').count(), 0, 'no HTTP status column for MQTT')
  } else {
    // No broker there: the failure named, as "not delivered".
    await until(async () => (await q(t, ATTEMPTS)).forwardTargets.find((x) => x.id === targetId).attempts.some((a) => a.error), { timeout: 60_000, what: 'a failed publish' })
    await p.click(`${row(targetName)} [data-test=pause]`)
    await p.waitForSelector(`${row(targetName)} [data-col=state][data-state=PAUSED]`)
    await p.waitForSelector('.el-message', { state: 'detached', timeout: 10_000 }).catch(() => undefined)
    await p.click(`${row(targetName)} [data-test=open-log]`)
    await p.click('[data-test=log-drawer] #tab-attempts')
    await p.waitForSelector('[data-test=attempt-table] [data-outcome=failed]')
    assert.match(await p.innerText('[data-test=attempt-table]'), /未送达/)
  }
  await shot(p, 'forwarding-mqtt-requests')
  await p.keyboard.press('Escape')
  await p.waitForSelector('[data-test=log-drawer]', { state: 'hidden' })

  // English.
  const en = await page(b, { tokens: admin, lang: 'en-US' })
  await en.goto(`${BASE}/settings?tab=forwarding`)
  await hideToasts(en)
  await en.waitForSelector(row(targetName))
  assert.match(await en.innerText(`${row(targetName)} [data-col=username]`), new RegExp(`login ${brokerUser}`))
  await shot(en, 'forwarding-mqtt', 'en-US')
  await en.click('[data-test=new-target]')
  await en.click('[data-test=target-transport] [data-transport=MQTT]')
  await en.waitForSelector('[data-test=target-password]')
  assert.match(await en.innerText(dialog), /Broker and topic prefix/)
  await shot(en, 'forwarding-mqtt-form', 'en-US')
  await en.close()

  // Retired after a confirmation.
  await p.click(`${row(targetName)} [data-test=retire]`)
  await p.click('.el-message-box__btns .el-button--primary')
  await p.waitForSelector(row(targetName), { state: 'detached' })
  assert.ok(!(await q(t, TARGETS)).forwardTargets.some((x) => x.id === targetId), 'retired: out of forwardTargets')
  targetId = undefined
  await p.close()
})

test('site import: template, a broken file refused by row and column, a new property with areas and a gateway', async () => {
  const t = admin.accessToken
  const p = await page(b, { tokens: admin })
  await p.goto(`${BASE}/sites`)
  await hideToasts(p)
  await p.waitForSelector('[data-test=property-table] [data-property]')
  await shot(p, 'site-import-entry')
  await p.click('[data-test=open-import-sites]')
  await p.waitForURL(/\/sites\/import\?kind=sites$/)
  await p.waitForSelector('[data-test=import][data-kind=sites][data-step="0"]')
  assert.equal(await p.innerText('[data-test=import-title]'), '批量导入项目、区域和网关')
  assert.equal(await p.getAttribute('[data-test=import-kind] .is-active', 'data-kind'), 'sites')
  assert.match(await p.innerText('[data-test=import-rules]'), /区域和网关/)

  // The template: the server's workbook; no bearer needed for it.
  const [d] = await Promise.all([p.waitForEvent('download', { timeout: 30_000 }), p.click('[data-test=download-template]')])
  assert.equal(await d.failure(), null)
  assert.equal(d.suggestedFilename(), 'sites-import.xlsx')
  const xlsx = readFileSync(await d.path())
  assert.equal(xlsx.subarray(0, 2).toString('latin1'), 'PK')
  const direct = await fetch(`${BASE}/imports/sites-template.xlsx?lang=zh`)
  assert.equal(direct.status, 200)
  assert.equal(xlsx.length, (await direct.arrayBuffer()).byteLength, 'the server’s Chinese template')

  // A broken file: another address for the same new property (B3), a floor area that is no
  // number (F3), a serial with a space (G4), a row without its property (A5).
  const header = ['项目', '项目地址', '联系人', '联系电话', '区域', '面积', '网关序列号', '网关名称']
  const broken = csv([
    header,
    [siteName, '1 E2E Road', 'Ms. E2E', '0571-88886666', 'Building A', '120.5', gatewaySerial, 'E2E roof'],
    [siteName, '2 Other Road', '', '', 'Building B', 'abc', '', ''],
    [siteName, '', '', '', '', '', 'BAD SERIAL', ''],
    ['', '', '', '', 'Building C', '', '', ''],
  ])
  const expected = await siteDryRun(t, broken)
  assert.equal(expected.status, 422, JSON.stringify(expected.body))
  await p.setInputFiles('[data-test=import-file] input[type=file]', { name: 'sites-broken.csv', mimeType: 'text/csv', buffer: broken })
  await p.waitForSelector('[data-test=import][data-kind=sites][data-step="1"]')
  await p.click('[data-test=dry-run]')
  await p.waitForSelector('[data-test=import-result][data-kind=errors]')
  const lines = await p.$$eval('[data-test=error-table] .el-table__body-wrapper .el-table__row', (trs) =>
    trs.map((tr) => ['row', 'column', 'field', 'message'].map((c) => tr.querySelector(`[data-col=${c}]`).textContent.trim())),
  )
  const byColumn = (x, y) => x.column.length - y.column.length || (x.column < y.column ? -1 : x.column > y.column ? 1 : 0)
  const apiLines = [...expected.body.errors].sort((x, y) => x.row - y.row || byColumn(x, y)).map((e) => [String(e.row), e.column || '—', e.field || '—', e.message])
  assert.deepEqual(lines, apiLines, 'every error as the API lists it')
  const at = lines.map((l) => `${l[1]}${l[0]}`)
  for (const cell of ['B3', 'F3', 'G4', 'A5']) assert.ok(at.includes(cell), `an error at ${cell}: ${JSON.stringify(lines)}`)
  assert.ok(!lines.some((l) => l[0] === '2'), 'the good row is not among them')
  assert.equal(await p.getAttribute('[data-test=dry-errors]', 'data-count'), String(expected.body.errors.length))
  assert.ok(await p.isDisabled('[data-test=commit]'), 'no import after errors')
  assert.ok(!(await q(t, `{ properties { name } }`)).properties.some((x) => x.name === siteName), 'nothing written')
  await shot(p, 'site-import-errors')

  // A good file: the new property with two areas and a gateway.
  const good = csv([
    header,
    [siteName, '1 E2E Road', 'Ms. E2E', '0571-88886666', 'Building A', '120.5', gatewaySerial, 'E2E roof'],
    [siteName, '', '', '', 'Building B', '', '', ''],
  ])
  const clean = await siteDryRun(t, good)
  assert.equal(clean.status, 200, JSON.stringify(clean.body))
  assert.deepEqual(clean.body.counts, { properties: 1, areas: 2, gateways: 1 })
  await p.setInputFiles('[data-test=import-file] input[type=file]', { name: 'sites-good.csv', mimeType: 'text/csv', buffer: good })
  await p.waitForSelector('[data-test=import][data-kind=sites][data-step="1"]')
  assert.equal(await p.locator('[data-test=import-result]').count(), 0, 'a new file needs a new dry run')
  await p.click('[data-test=dry-run]')
  await p.waitForSelector('[data-test=import-result][data-kind=ok] [data-test=dry-clean]')
  const figures = async (scope) =>
    Object.fromEntries(await p.$$eval(`${scope} [data-figure]`, (els) => els.map((e) => [e.getAttribute('data-figure'), Number(e.textContent.trim())])))
  assert.deepEqual(await figures('[data-test=dry-figures]'), { ...clean.body.counts, unchanged: clean.body.unchanged, rows: clean.body.rows })
  assert.equal(await p.getAttribute('[data-test=dry-clean]', 'data-to-create'), String(clean.body.toCreate))
  assert.ok(!(await q(t, `{ properties { name } }`)).properties.some((x) => x.name === siteName), 'a dry run writes nothing')
  await shot(p, 'site-import-checked')

  // English.
  const en = await page(b, { tokens: admin, lang: 'en-US' })
  await en.goto(`${BASE}/sites/import?kind=sites`)
  await hideToasts(en)
  await en.setInputFiles('[data-test=import-file] input[type=file]', { name: 'sites-broken.csv', mimeType: 'text/csv', buffer: broken })
  await en.click('[data-test=dry-run]')
  await en.waitForSelector('[data-test=import-result][data-kind=errors]')
  assert.match(await en.innerText('[data-test=dry-errors]'), /nothing was written/)
  await shot(en, 'site-import-errors', 'en-US')
  await en.setInputFiles('[data-test=import-file] input[type=file]', { name: 'sites-good.csv', mimeType: 'text/csv', buffer: good })
  await en.click('[data-test=dry-run]')
  await en.waitForSelector(`[data-test=dry-clean][data-to-create="${clean.body.toCreate}"]`)
  assert.match(await en.innerText('[data-test=import-result]'), /Properties to create/)
  await shot(en, 'site-import-checked', 'en-US')
  await en.close()

  const [commit] = await Promise.all([p.waitForResponse((r) => r.url().includes('/imports/sites?dryRun=false')), p.click('[data-test=commit]')])
  assert.equal(commit.status(), 200)
  const answer = await commit.json()
  assert.deepEqual({ created: answer.created, counts: answer.counts }, { created: 4, counts: { properties: 1, areas: 2, gateways: 1 } })
  await p.waitForSelector('[data-test=import-done][data-created="4"]')
  assert.deepEqual(await figures('[data-test=done-figures]'), answer.counts)
  assert.match(await p.innerText('[data-test=import-done]'), /已导入 4 项/)
  await shot(p, 'site-import-done')

  // They exist: the property with its address and contact, both areas, the gateway.
  const property = (await q(t, `{ properties { id name address contactName contactPhone retiredAt } }`)).properties.find((x) => x.name === siteName && !x.retiredAt)
  assert.ok(property, `${siteName} in properties`)
  assert.deepEqual([property.address, property.contactName, property.contactPhone], ['1 E2E Road', 'Ms. E2E', '0571-88886666'])
  const areas = (await q(t, `query($p: ID) { areas(propertyId: $p) { id name floorArea retiredAt } }`, { p: property.id })).areas
  assert.deepEqual(areas.map((a) => a.name).sort(), ['Building A', 'Building B'])
  assert.equal(Number(areas.find((a) => a.name === 'Building A').floorArea), 120.5)
  assert.equal(areas.find((a) => a.name === 'Building B').floorArea, null)
  const gateways = (await q(t, `query($p: ID) { gateways(propertyId: $p, pageSize: 50) { items { id serial name propertyId } } }`, { p: property.id })).gateways.items
  assert.deepEqual(gateways.map((g) => [g.serial, g.name, g.propertyId]), [[gatewaySerial, 'E2E roof', property.id]])

  // The same file again: unchanged, nothing to import.
  await p.click('[data-test=import-another]')
  await p.setInputFiles('[data-test=import-file] input[type=file]', { name: 'sites-good.csv', mimeType: 'text/csv', buffer: good })
  await p.click('[data-test=dry-run]')
  await p.waitForSelector('[data-test=dry-clean][data-to-create="0"][data-unchanged="2"]')
  assert.deepEqual(await figures('[data-test=dry-figures]'), { properties: 0, areas: 0, gateways: 0, unchanged: 2, rows: 2 })
  assert.ok(await p.isDisabled('[data-test=commit]'))

  // The choice at the top switches to the meter import, starting over.
  await p.click('[data-test=import-kind] [data-kind=meters]')
  await p.waitForSelector('[data-test=import][data-kind=meters][data-step="0"]')
  assert.equal(await p.innerText('[data-test=import-title]'), '批量导入电表')
  assert.ok(!p.url().includes('kind='), p.url())
  await p.close()

  // Retired: the gateway, the areas, the property.
  for (const g of gateways) assert.ok((await q(t, `mutation($id: ID!) { retireGateway(input: { id: $id }) { retiredAt } }`, { id: g.id })).retireGateway.retiredAt)
  for (const a of areas) assert.ok((await q(t, `mutation($id: ID!) { retireArea(input: { id: $id }) { retiredAt } }`, { id: a.id })).retireArea.retiredAt)
  assert.ok((await q(t, `mutation($id: ID!) { retireProperty(input: { id: $id }) { retiredAt } }`, { id: property.id })).retireProperty.retiredAt)
})
