// The browser's `Platform` (web/miniprogram/src/lib/platform.ts): what the mini-program gets
// from `wx`, the mobile pages get from the browser — `fetch` for requests, localStorage under
// a key prefix of their own (the portal on the same origin keeps `voltledger.tokens` and
// `voltledger.lang` for the operator; a customer's session must never mix with it), the
// router for navigation, Vant's toast, a `tel:` link for a phone call, and in WeChat's browser
// the JSAPI bridge (`WeixinJSBridge.invoke('getBrandWCPayRequest', …)`) for WeChat Pay.
// Failures are `WxError`s like WeChat's (`request:fail …`, `get_brand_wcpay_request:cancel`),
// so the lib's error words (lib/errors.ts) apply unchanged.

import { dialable, WxError, type HttpAnswer, type PaymentParams, type Platform } from '@mp/lib/platform'

/** WeChat's in-app browser bridge (only the call the pages use). */
export interface WeixinBridge {
  invoke(api: string, params: Record<string, string>, callback: (res: { err_msg?: string; errMsg?: string }) => void): void
}

/** Where the storage keys of the mobile pages live (never the portal's keys). */
export const STORAGE_PREFIX = 'voltledger.m.'

export interface BrowserDeps {
  fetch: (url: string, init: RequestInit) => Promise<Response>
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>
  /** The router: `path` is a mobile route (`/bills/1`), `replace` for redirectTo / reLaunch. */
  navigate(path: string, replace: boolean): void
  back(): void
  toast(text: string): void
  setTitle(text: string): void
  /** `window.WeixinJSBridge`, present in WeChat's browser once it is ready. */
  bridge(): WeixinBridge | undefined
  /** Calls `cb` on `WeixinJSBridgeReady` (the bridge may arrive after the page). */
  onBridgeReady(cb: () => void): void
  /** How long to wait for the bridge before saying the page is not in WeChat (ms). */
  bridgeWaitMs?: number
  /** How long a request may take (ms). */
  timeoutMs?: number
  /** Opens a link the browser hands to another app (`tel:`); default: `window.location.href`. */
  openUrl?: (url: string) => void
}

/** True in WeChat's in-app browser (its user agent names MicroMessenger). */
export function inWeChat(userAgent: string): boolean {
  return /MicroMessenger/i.test(userAgent)
}

/** The mini-program's page paths (lib/view.ts sends `/pages/login/index`) as mobile routes. */
export function routeOf(url: string): string {
  const m = /^\/pages\/(\w+)\/index(?:\?(.*))?$/.exec(url)
  if (!m) return url
  const [, page, query = ''] = m
  const params = new URLSearchParams(query)
  switch (page) {
    case 'home':
      return '/'
    case 'bill':
      return `/bills/${encodeURIComponent(params.get('id') ?? '')}`
    case 'recharge':
      return params.get('id') ? `/recharge?account=${encodeURIComponent(params.get('id') ?? '')}` : '/recharge'
    default:
      return `/${page}${query ? `?${query}` : ''}`
  }
}

async function answer(r: Response): Promise<HttpAnswer> {
  const text = await r.text()
  let data: unknown = text
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = text
    }
  }
  return { statusCode: r.status, data }
}

export function browserPlatform(d: BrowserDeps): Platform {
  const waitBridge = (): Promise<WeixinBridge> => {
    const now = d.bridge()
    if (now) return Promise.resolve(now)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new WxError('requestPayment', 'requestPayment:fail WeChat Pay is only available in WeChat')), d.bridgeWaitMs ?? 3000)
      d.onBridgeReady(() => {
        const b = d.bridge()
        if (!b) return
        clearTimeout(timer)
        resolve(b)
      })
    })
  }

  return {
    login: () => Promise.reject(new WxError('login', 'login:fail the mobile pages sign in through the official account or a binding code')),
    async request(url, method, data, header) {
      const ctl = new AbortController()
      const timer = setTimeout(() => ctl.abort(), d.timeoutMs ?? 20000)
      try {
        const r = await d.fetch(url, {
          method,
          headers: header,
          body: method === 'GET' || data === undefined ? undefined : JSON.stringify(data),
          signal: ctl.signal,
          credentials: 'omit',
        })
        return await answer(r)
      } catch (e) {
        const why = ctl.signal.aborted ? 'timeout' : e instanceof Error ? e.message : String(e)
        throw new WxError('request', `request:fail ${why}`)
      } finally {
        clearTimeout(timer)
      }
    },
    async requestPayment(p: PaymentParams) {
      const bridge = await waitBridge()
      const params: Record<string, string> = {
        appId: p.appId ?? '',
        timeStamp: p.timeStamp,
        nonceStr: p.nonceStr,
        package: p.package,
        signType: p.signType,
        paySign: p.paySign,
      }
      await new Promise<void>((resolve, reject) => {
        bridge.invoke('getBrandWCPayRequest', params, (res) => {
          const msg = (res && (res.err_msg || res.errMsg)) || 'get_brand_wcpay_request:fail'
          if (/:ok$/.test(msg)) resolve()
          else reject(new WxError('requestPayment', msg))
        })
      })
    },
    requestSubscribeMessage: () => Promise.reject(new WxError('requestSubscribeMessage', 'requestSubscribeMessage:fail not available in the browser')),
    getItem: (key) => d.storage.getItem(STORAGE_PREFIX + key) ?? '',
    setItem: (key, value) => d.storage.setItem(STORAGE_PREFIX + key, value),
    removeItem: (key) => d.storage.removeItem(STORAGE_PREFIX + key),
    navigateTo: (url) => d.navigate(routeOf(url), false),
    redirectTo: (url) => d.navigate(routeOf(url), true),
    reLaunch: (url) => d.navigate(routeOf(url), true),
    navigateBack: () => d.back(),
    toast: (title) => d.toast(title),
    setTitle: (title) => d.setTitle(title),
    // The mini-program's wx.makePhoneCall: a `tel:` link, which the phone offers to call.
    async makePhoneCall(phoneNumber) {
      const url = `tel:${dialable(phoneNumber)}`
      if (d.openUrl) d.openUrl(url)
      else window.location.href = url
    },
  }
}
