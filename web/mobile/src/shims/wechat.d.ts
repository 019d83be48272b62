// The mobile pages compile the mini-program's `lib/` (web/miniprogram/src/lib). Its
// `lib/platform.ts` also holds the mini-program's `wx` adapter, typed by WeChat's typings
// (miniprogram-api-typings) — which declare globals (`console`, `setTimeout`) that clash with
// the DOM's, so the browser build cannot load them. The browser build sees these few shapes
// instead; the mini-program's own `tsc -p miniprogram/tsconfig.json` (its static test) keeps
// checking the adapter against the real typings.
declare namespace WechatMiniprogram {
  type IAnyObject = Record<string, unknown>
  interface GeneralCallbackResult {
    errMsg: string
  }
  interface LoginSuccessCallbackResult extends GeneralCallbackResult {
    code: string
  }
  interface RequestSuccessCallbackResult extends GeneralCallbackResult {
    statusCode: number
    data: unknown
  }
  type RequestSubscribeMessageSuccessCallbackResult = GeneralCallbackResult
  type Wx = Record<
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
    | 'makePhoneCall',
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    (...args: any[]) => any
  >
}
