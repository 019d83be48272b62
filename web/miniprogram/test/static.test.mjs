// The project opens as is in WeChat DevTools: app.json lists every page, each page has its
// four files, project.config.json is what DevTools reads, and the TypeScript type-checks
// against miniprogram-api-typings. Also: every `{{t.key}}` in a WXML is in the dictionary,
// and every event handler a WXML names is a method of its page.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, SRC, TSC } from '../harness/build.mjs'

const json = (f) => JSON.parse(readFileSync(f, 'utf8'))
const app = json(join(SRC, 'app.json'))
const pageDirs = readdirSync(join(SRC, 'pages')).map((d) => `pages/${d}/index`)

test('app.json lists every page, login first, and each has .ts/.wxml/.wxss/.json', () => {
  assert.deepEqual([...app.pages].sort(), [...pageDirs].sort())
  assert.equal(app.pages[0], 'pages/login/index')
  for (const p of ['login', 'bind', 'home', 'recharge', 'bills', 'bill', 'usage', 'history', 'receipt']) assert.ok(app.pages.includes(`pages/${p}/index`), p)
  for (const p of app.pages) {
    for (const ext of ['ts', 'wxml', 'wxss', 'json']) assert.ok(existsSync(join(SRC, `${p}.${ext}`)), `${p}.${ext}`)
    assert.ok(json(join(SRC, `${p}.json`)).usingComponents, `${p}.json declares usingComponents (a page built with Component)`)
  }
  assert.ok(existsSync(join(SRC, 'app.ts')) && existsSync(join(SRC, 'app.wxss')))
  assert.ok(existsSync(join(SRC, app.sitemapLocation)))
})

test('project.config.json: a TypeScript mini-program with a placeholder AppID', () => {
  const c = json(join(ROOT, 'project.config.json'))
  assert.equal(c.compileType, 'miniprogram')
  assert.equal(c.miniprogramRoot, 'src/')
  assert.ok(existsSync(join(ROOT, c.miniprogramRoot, 'app.json')))
  assert.equal(c.appid, 'touristappid', 'the placeholder DevTools opens without an account; publishers put their AppID')
  assert.deepEqual(c.setting.useCompilerPlugins, ['typescript'])
  assert.equal(c.setting.urlCheck, true, 'request domains are checked as on the phone')
})

test('the API base is one https:// value in config.ts', () => {
  const src = readFileSync(join(SRC, 'config.ts'), 'utf8')
  assert.match(src, /apiBase: 'https:\/\/[^']+'/)
  for (const f of walk(SRC)) {
    if (f.endsWith('config.ts')) continue
    assert.doesNotMatch(readFileSync(f, 'utf8'), /https?:\/\/[a-z0-9.-]+[:/]/i, `${f} names no host`)
  }
})

test('only lib/platform.ts and app.ts touch wx', () => {
  for (const f of walk(SRC).filter((f) => f.endsWith('.ts'))) {
    if (f.endsWith('lib/platform.ts') || f.endsWith('/app.ts')) continue
    const code = readFileSync(f, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '')
    assert.doesNotMatch(code, /\bwx\./, `${f} calls wx directly`)
  }
})

test('TypeScript type-checks (tsc --noEmit -p web/miniprogram/tsconfig.json)', () => {
  execFileSync(TSC, ['--noEmit', '-p', join(ROOT, 'tsconfig.json')], { stdio: 'pipe' })
})

test('every {{t.key}} in the WXML exists and every handler is a page method', () => {
  const i18n = readFileSync(join(SRC, 'lib/i18n.ts'), 'utf8')
  const zhBlock = i18n.slice(i18n.indexOf('const zh = {'), i18n.indexOf('export type Dict'))
  const keys = new Set([...zhBlock.matchAll(/^\s+(\w+):/gm)].map((m) => m[1]))
  for (const p of app.pages) {
    const wxml = readFileSync(join(SRC, `${p}.wxml`), 'utf8')
    for (const m of wxml.matchAll(/\bt\.(\w+)/g)) assert.ok(keys.has(m[1]), `${p}.wxml: t.${m[1]}`)
    const ts = readFileSync(join(SRC, `${p}.ts`), 'utf8')
    for (const m of wxml.matchAll(/\bbind(?::)?(\w+)="(\w+)"/g)) assert.match(ts, new RegExp(`\\b${m[2]}(\\(|:)`), `${p}: handler ${m[2]}`)
  }
})

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]))
}
