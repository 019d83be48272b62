// Renders pages with miniprogram-simulate (the official WXML compiler, j-component) in a
// jsdom window, and installs a `wx` as the platform of the compiled modules.
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { build, WEB } from './build.mjs'

const require = createRequire(join(WEB, 'package.json'))
const { JSDOM } = require('jsdom')

const dom = new JSDOM('<!doctype html><html><body></body></html>')
for (const k of ['window', 'document', 'Event', 'CustomEvent', 'Node', 'Element', 'HTMLElement', 'MutationObserver', 'navigator']) {
  globalThis[k] = k === 'window' ? dom.window : dom.window[k]
}
const simulate = require('miniprogram-simulate')

export const DIR = build()
const mod = (p) => require(join(DIR, p))
export const platformModule = mod('lib/platform.js')
export const configModule = mod('config.js')
export const i18n = mod('lib/i18n.js')
export const money = mod('lib/money.js')
/** A compiled lib module by name (`lib('usage')`). */
export const lib = (name) => mod(`lib/${name}.js`)

/** Installs `wx` (through the same adapter the app uses) and points the app at `apiBase`. */
export function install(wx, config) {
  platformModule.setPlatform(platformModule.wxPlatform(wx))
  configModule.configure(config)
  i18n.resetLang()
}

/** Loads and attaches a page; `page.instance` has its methods, `text(sel)` reads the DOM. */
export function open(name) {
  const id = simulate.load(join(DIR, 'pages', name, 'index'), { rootPath: DIR })
  const comp = simulate.render(id)
  comp.attach(document.createElement('parent-wrapper'))
  const el = (sel) => comp.querySelector(sel)
  return {
    comp,
    instance: comp.instance,
    data: () => comp.data,
    el,
    has: (sel) => !!el(sel),
    text: (sel) => {
      const e = el(sel)
      if (!e) throw new Error(`${name}: no ${sel} in ${comp.dom.innerHTML.slice(0, 2000)}`)
      return e.dom.textContent.replace(/\s+/g, ' ').trim()
    },
    tap: (sel) => {
      const e = el(sel)
      if (!e) throw new Error(`${name}: nothing to tap at ${sel}`)
      e.dispatchEvent('tap')
    },
    fire: (sel, event, detail) => el(sel).dispatchEvent(event, { detail }),
    html: () => comp.dom.innerHTML,
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Waits until `fn()` is truthy (polling), or fails naming `what`. */
export async function until(fn, what, timeout = 45000) {
  const end = Date.now() + timeout
  let last
  while (Date.now() < end) {
    try {
      last = await fn()
      if (last) return last
    } catch (e) {
      last = e
    }
    await sleep(100)
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`)
}
