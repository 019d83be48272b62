// The only door to WeChat. The logic modules and pages call `platform()`; the app installs
// `wxPlatform(wx)` at launch, and the tests install the same adapter over a `wx` whose calls
// reach the real server and the WeChat stand-ins. Nothing else touches `wx`.

/** What `wx.requestPayment` needs (the server's `RequestPayment`); WeChat's browser's JSAPI also takes `appId`. */
export interface PaymentParams {
  appId?: string
  timeStamp: string
  nonceStr: string
  package: string
  signType: string
  paySign: string
}

export interface HttpAnswer {
  statusCode: number
  data: unknown
}

/** A WeChat call that failed: `errMsg` as WeChat gives it (`requestPayment:fail cancel`). */
export class WxError extends Error {
  constructor(
    readonly api: string,
    readonly errMsg: string,
  ) {
    super(errMsg)
  }
  /** The user closed the dialog (payment, subscription, phone). */
  get cancelled(): boolean {
    return /cancel|deny|denied/i.test(this.errMsg)
  }
}

export interface Platform {
  login(): Promise<string>
  request(url: string, method: 'GET' | 'POST', data: unknown, header: Record<string, string>): Promise<HttpAnswer>
  requestPayment(p: PaymentParams): Promise<void>
  /** Template id -> `accept`, `reject`, `ban` or `filter`. */
  requestSubscribeMessage(tmplIds: string[]): Promise<Record<string, string>>
  getItem(key: string): string
  setItem(key: string, value: string): void
  removeItem(key: string): void
  navigateTo(url: string): void
  redirectTo(url: string): void
  reLaunch(url: string): void
  navigateBack(): void
  toast(title: string): void
  setTitle(title: string): void
  /** Offers to call the number (the mini-program's dialog; a `tel:` link in the browser). */
  makePhoneCall(phoneNumber: string): Promise<void>
}

/** The subset of `wx` the adapter uses (the tests pass an object of this shape). */
export type WxLike = Pick<
  WechatMiniprogram.Wx,
  | 'login'
  | 'request'
  | 'requestPayment'
  | 'requestSubscribeMessage'
  | 'getStorageSync'
  | 'setStorageSync'
  | 'removeStorageSync'
  | 'navigateTo'
  | 'redirectTo'
  | 'reLaunch'
  | 'navigateBack'
  | 'showToast'
  | 'setNavigationBarTitle'
  | 'makePhoneCall'
>

/** A phone number as written ("0571-8800 1234") -> what a dialler takes ("057188001234"). */
export function dialable(phone: string): string {
  return String(phone || '').replace(/[^\d+]/g, '')
}

interface Callbacks<T> {
  success: (r: T) => void
  fail: (e: { errMsg: string }) => void
}

function call<T>(api: string, start: (cb: Callbacks<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    start({ success: resolve, fail: (e) => reject(new WxError(api, (e && e.errMsg) || `${api}:fail`)) })
  })
}

export function wxPlatform(w: WxLike): Platform {
  return {
    login: () => call<WechatMiniprogram.LoginSuccessCallbackResult>('login', (cb) => w.login(cb)).then((r) => r.code),
    request: (url, method, data, header) =>
      call<WechatMiniprogram.RequestSuccessCallbackResult>('request', (cb) =>
        w.request({ url, method, data: data as WechatMiniprogram.IAnyObject, header, dataType: 'json', timeout: 20000, ...cb }),
      ).then((r) => ({ statusCode: r.statusCode, data: r.data })),
    requestPayment: (p) =>
      call<WechatMiniprogram.GeneralCallbackResult>('requestPayment', (cb) =>
        w.requestPayment({ timeStamp: p.timeStamp, nonceStr: p.nonceStr, package: p.package, signType: p.signType as 'RSA', paySign: p.paySign, ...cb }),
      ).then(() => undefined),
    requestSubscribeMessage: (tmplIds) =>
      call<WechatMiniprogram.RequestSubscribeMessageSuccessCallbackResult>('requestSubscribeMessage', (cb) =>
        w.requestSubscribeMessage({ tmplIds, ...cb }),
      ).then((r) => {
        const out: Record<string, string> = {}
        for (const id of tmplIds) {
          const v = (r as unknown as Record<string, unknown>)[id]
          if (typeof v === 'string') out[id] = v
        }
        return out
      }),
    getItem: (key) => {
      const v = w.getStorageSync(key)
      return typeof v === 'string' ? v : ''
    },
    setItem: (key, value) => w.setStorageSync(key, value),
    removeItem: (key) => w.removeStorageSync(key),
    navigateTo: (url) => void w.navigateTo({ url }),
    redirectTo: (url) => void w.redirectTo({ url }),
    reLaunch: (url) => void w.reLaunch({ url }),
    navigateBack: () => void w.navigateBack({}),
    toast: (title) => void w.showToast({ title, icon: 'none', duration: 2500 }),
    setTitle: (title) => void w.setNavigationBarTitle({ title }),
    makePhoneCall: (phoneNumber) =>
      call<WechatMiniprogram.GeneralCallbackResult>('makePhoneCall', (cb) => w.makePhoneCall({ phoneNumber: dialable(phoneNumber), ...cb })).then(
        () => undefined,
      ),
  }
}

let current: Platform | null = null

export function setPlatform(p: Platform): void {
  current = p
}

export function platform(): Platform {
  if (!current) throw new Error('platform not installed: app.ts calls setPlatform(wxPlatform(wx))')
  return current
}
