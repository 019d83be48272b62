// The browser Platform (mobile/src/platform.ts): requests through fetch with the lib's error
// shapes, its own storage keys (never the portal's), WeChat Pay through WeChat's JSAPI bridge
// (waiting for it, or saying it is not there), and the mini-program's page paths as routes.
import { describe, expect, it, vi } from 'vitest'
import { WxError } from '@mp/lib/platform'
import { browserPlatform, inWeChat, routeOf, STORAGE_PREFIX, type BrowserDeps, type WeixinBridge } from '../../mobile/src/platform'

function memory() {
  const m = new Map<string, string>()
  return { m, getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) }
}

function deps(over: Partial<BrowserDeps> = {}): BrowserDeps & { storage: ReturnType<typeof memory>; navigated: [string, boolean][]; readyCallbacks: (() => void)[] } {
  const navigated: [string, boolean][] = []
  const readyCallbacks: (() => void)[] = []
  return {
    fetch: vi.fn(),
    storage: memory(),
    navigate: (p: string, r: boolean) => void navigated.push([p, r]),
    back: vi.fn(),
    toast: vi.fn(),
    setTitle: vi.fn(),
    bridge: () => undefined,
    onBridgeReady: (cb: () => void) => void readyCallbacks.push(cb),
    bridgeWaitMs: 50,
    navigated,
    readyCallbacks,
    ...over,
  } as never
}

const payment = { appId: 'wxoa', timeStamp: '1700000000', nonceStr: 'n', package: 'prepay_id=wx1', signType: 'RSA', paySign: 'sig' }

describe('browser platform', () => {
  it('knows WeChat\'s browser by its user agent', () => {
    expect(inWeChat('Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 Mobile Safari/537.36 MicroMessenger/8.0.47.2560(0x28002F35) NetType/WIFI Language/zh_CN')).toBe(true)
    expect(inWeChat('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1')).toBe(false)
  })

  it('requests JSON through fetch and gives the status and body back', async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify({ accessToken: 'a' }), { status: 200 }))
    const p = browserPlatform(deps({ fetch }))
    const r = await p.request('/auth/binding-code', 'POST', { tenant: 'demo' }, { 'Content-Type': 'application/json' })
    expect(r).toEqual({ statusCode: 200, data: { accessToken: 'a' } })
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('/auth/binding-code')
    expect(init.method).toBe('POST')
    expect(init.body).toBe('{"tenant":"demo"}')
    expect(init.credentials).toBe('omit')
  })

  it('sends no body with GET and keeps a refusal\'s status and body', async () => {
    const fetch = vi.fn(async () => new Response(JSON.stringify({ error: 'BINDING_REFUSED', message: 'wrong code' }), { status: 401 }))
    const p = browserPlatform(deps({ fetch }))
    const r = await p.request('/auth/customer-config?tenant=demo', 'GET', undefined, {})
    expect(r.statusCode).toBe(401)
    expect(r.data).toEqual({ error: 'BINDING_REFUSED', message: 'wrong code' })
    expect((fetch.mock.calls[0] as unknown as [string, RequestInit])[1].body).toBeUndefined()
  })

  it('keeps a body that is not JSON as text', async () => {
    const p = browserPlatform(deps({ fetch: async () => new Response('Bad Gateway', { status: 502 }) }))
    expect(await p.request('/graphql', 'POST', {}, {})).toEqual({ statusCode: 502, data: 'Bad Gateway' })
  })

  it('turns a failed fetch into request:fail (the lib calls it a network failure)', async () => {
    const p = browserPlatform(deps({ fetch: async () => Promise.reject(new TypeError('Failed to fetch')) }))
    const e = await p.request('/graphql', 'POST', {}, {}).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(WxError)
    expect((e as WxError).api).toBe('request')
    expect((e as WxError).errMsg).toBe('request:fail Failed to fetch')
  })

  it('gives up on a request that takes too long', async () => {
    const fetch = (_u: string, init: RequestInit) =>
      new Promise<Response>((_r, reject) => init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))
    const p = browserPlatform(deps({ fetch, timeoutMs: 20 }))
    await expect(p.request('/graphql', 'POST', {}, {})).rejects.toMatchObject({ errMsg: 'request:fail timeout' })
  })

  it('stores under its own prefix, never the portal\'s keys', () => {
    const d = deps()
    d.storage.setItem('voltledger.tokens', 'the operator\'s')
    const p = browserPlatform(d)
    expect(p.getItem('voltledger.tokens')).toBe('')
    p.setItem('voltledger.tokens', 'the customer\'s')
    expect(d.storage.m.get('voltledger.tokens')).toBe('the operator\'s')
    expect(d.storage.m.get(`${STORAGE_PREFIX}voltledger.tokens`)).toBe('the customer\'s')
    p.removeItem('voltledger.tokens')
    expect(d.storage.m.has(`${STORAGE_PREFIX}voltledger.tokens`)).toBe(false)
    expect(d.storage.m.get('voltledger.tokens')).toBe('the operator\'s')
  })

  it('pays through WeixinJSBridge getBrandWCPayRequest with every parameter', async () => {
    const calls: [string, Record<string, string>][] = []
    const bridge: WeixinBridge = { invoke: (api, params, cb) => (calls.push([api, params]), setTimeout(() => cb({ err_msg: 'get_brand_wcpay_request:ok' }))) }
    const p = browserPlatform(deps({ bridge: () => bridge }))
    await p.requestPayment(payment)
    expect(calls).toEqual([['getBrandWCPayRequest', payment]])
  })

  it('a cancelled or failed JSAPI payment is a requestPayment WxError (cancelled is said as such)', async () => {
    for (const [msg, cancelled] of [
      ['get_brand_wcpay_request:cancel', true],
      ['get_brand_wcpay_request:fail', false],
    ] as const) {
      const bridge: WeixinBridge = { invoke: (_a, _p, cb) => cb({ err_msg: msg }) }
      const e = await browserPlatform(deps({ bridge: () => bridge })).requestPayment(payment).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(WxError)
      expect((e as WxError).api).toBe('requestPayment')
      expect((e as WxError).errMsg).toBe(msg)
      expect((e as WxError).cancelled).toBe(cancelled)
    }
  })

  it('waits for WeixinJSBridgeReady when the bridge comes after the page', async () => {
    let bridge: WeixinBridge | undefined
    const d = deps({ bridge: () => bridge, bridgeWaitMs: 1000 })
    const paid = browserPlatform(d).requestPayment(payment)
    bridge = { invoke: (_a, _p, cb) => cb({ err_msg: 'get_brand_wcpay_request:ok' }) }
    for (const cb of d.readyCallbacks) cb()
    await expect(paid).resolves.toBeUndefined()
  })

  it('outside WeChat there is no bridge: the payment fails saying so', async () => {
    const e = await browserPlatform(deps()).requestPayment(payment).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(WxError)
    expect((e as WxError).errMsg).toMatch(/only available in WeChat/)
  })

  it('maps the mini-program\'s page paths to mobile routes', () => {
    expect(routeOf('/pages/login/index')).toBe('/login')
    expect(routeOf('/pages/home/index')).toBe('/')
    expect(routeOf('/pages/bind/index')).toBe('/bind')
    expect(routeOf('/pages/bill/index?id=42')).toBe('/bills/42')
    expect(routeOf('/pages/recharge/index?id=7')).toBe('/recharge?account=7')
    expect(routeOf('/usage')).toBe('/usage')
    const d = deps()
    const p = browserPlatform(d)
    p.reLaunch('/pages/login/index')
    p.navigateTo('/pages/bills/index')
    expect(d.navigated).toEqual([
      ['/login', true],
      ['/bills', false],
    ])
  })

  it('calls the property through a tel: link, as wx.makePhoneCall dials', async () => {
    const opened: string[] = []
    const p = browserPlatform(deps({ openUrl: (url: string) => void opened.push(url) }))
    await p.makePhoneCall('0571-8800 1234')
    await p.makePhoneCall('+86 139 0000 1111')
    expect(opened).toEqual(['tel:057188001234', 'tel:+8613900001111'])
  })

  it('has no wx.login or subscription messages in the browser', async () => {
    const p = browserPlatform(deps())
    await expect(p.login()).rejects.toBeInstanceOf(WxError)
    await expect(p.requestSubscribeMessage(['t'])).rejects.toBeInstanceOf(WxError)
  })
})
