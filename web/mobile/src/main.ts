// The customers' mobile pages (/m/): the mini-program's logic (web/miniprogram/src/lib) over a
// browser Platform, with Vue, Vant and vue-i18n for the pages.
import { createApp } from 'vue'
import { showToast } from 'vant'
import { configure } from '@mp/config'
import { signOut } from '@mp/lib/api'
import { setPlatform } from '@mp/lib/platform'
import App from './App.vue'
import { applyLang, i18n, savedLang } from './i18n'
import { browserPlatform, inWeChat, type WeixinBridge } from './platform'
import { router } from './router'
import { session } from './store'
import { resolveTenant } from './tenant'
import './vant'
import './styles.css'

declare global {
  interface Window {
    WeixinJSBridge?: WeixinBridge
  }
}

const platform = browserPlatform({
  fetch: (url, init) => window.fetch(url, init),
  storage: window.localStorage,
  navigate: (path, replace) => void (replace ? router.replace(path) : router.push(path)),
  back: () => router.back(),
  toast: (text) => void showToast({ message: text, wordBreak: 'break-word' }),
  setTitle: (text) => {
    document.title = text
  },
  bridge: () => window.WeixinJSBridge,
  onBridgeReady: (cb) => document.addEventListener('WeixinJSBridgeReady', cb, false),
  openUrl: (url) => {
    window.location.href = url
  },
})
setPlatform(platform)

// Same origin as the API: relative paths (the CSP allows connect-src 'self' only).
const { tenant, changed } = resolveTenant(window.location.search, platform)
if (changed) signOut()
configure({ apiBase: '', tenant: tenant ?? '', paymentWaitMs: 60000 })
session.tenant = tenant ?? ''
session.wechat = inWeChat(navigator.userAgent)

applyLang(savedLang())
createApp(App).use(i18n).use(router).mount('#app')
