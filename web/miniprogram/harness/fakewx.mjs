// A `wx` whose calls reach the real server and the stand-ins, never a canned answer:
//  - login: a code minted by the WeChat stand-in for this test's openid;
//  - request: a real fetch (and it remembers each order's prepay_id -> out_trade_no, as the
//    WeChat client knows which order a prepay_id is);
//  - requestPayment: checks the parameters the server gave (all present, package
//    `prepay_id=…`, RSA, a 2048-bit signature, a fresh timestamp) and pays the order as the
//    user through the WeChat Pay stand-in, which then notifies the server;
//  - requestSubscribeMessage: the user accepts every template (or as told);
//  - makePhoneCall: the number is kept (the user calls, or closes the dialog as told);
//  - getPhoneNumber codes come from `phoneCode(phone)`, minted by the stand-in.
// `log.sequence` keeps the order of the dialogs and orders: subscribe, order, pay.

export function fakeWx({ wechat, pay, appid, openid }) {
  const storage = new Map()
  const orders = new Map()
  const log = { requests: [], payments: [], navigations: [], toasts: [], subscribeAsked: [], calls: [], sequence: [], logins: 0 }
  const behaviour = { login: 'ok', payment: 'ok', subscribe: 'accept', call: 'ok' }

  const wx = {
    log,
    behaviour,
    storage,
    async phoneCode(phone) {
      const r = await fetch(`${wechat}/standin/phone-code?appid=${encodeURIComponent(appid)}&phone=${encodeURIComponent(phone)}`)
      return (await r.json()).code
    },
    login({ success, fail }) {
      log.logins++
      if (behaviour.login !== 'ok') return setTimeout(() => fail({ errMsg: `login:fail ${behaviour.login}` }))
      fetch(`${wechat}/standin/login-code?appid=${encodeURIComponent(appid)}&openid=${encodeURIComponent(openid)}`)
        .then((r) => r.json())
        .then((b) => success({ code: b.code, errMsg: 'login:ok' }), (e) => fail({ errMsg: `login:fail ${e.message}` }))
    },
    request({ url, method = 'GET', data, header = {}, success, fail }) {
      const entry = { url, method, body: data, status: 0, answer: null }
      log.requests.push(entry)
      if (/\bcreate(Recharge|Bill)Order\b/.test(String(data?.query ?? ''))) log.sequence.push('order')
      fetch(url, { method, headers: header, body: method === 'GET' ? undefined : JSON.stringify(data) })
        .then(async (r) => {
          const text = await r.text()
          let body
          try {
            body = JSON.parse(text)
          } catch {
            body = text
          }
          entry.status = r.status
          entry.answer = body
          for (const k of ['createRechargeOrder', 'createBillOrder']) {
            const o = body && body.data && body.data[k]
            if (o && o.payment) orders.set(o.payment.package, o.outTradeNo)
          }
          success({ statusCode: r.status, data: body, header: Object.fromEntries(r.headers), errMsg: 'request:ok' })
        })
        .catch((e) => fail({ errMsg: `request:fail ${e.cause?.code ?? e.message}` }))
    },
    requestPayment(p) {
      const { success, fail } = p
      const params = { timeStamp: p.timeStamp, nonceStr: p.nonceStr, package: p.package, signType: p.signType, paySign: p.paySign }
      log.payments.push(params)
      log.sequence.push('pay')
      const problems = []
      for (const [k, v] of Object.entries(params)) if (typeof v !== 'string' || !v) problems.push(`${k} missing`)
      if (!/^prepay_id=\S+$/.test(params.package ?? '')) problems.push(`package is not prepay_id=…: ${params.package}`)
      if (params.signType !== 'RSA') problems.push(`signType ${params.signType}`)
      if (Buffer.from(params.paySign ?? '', 'base64').length !== 256) problems.push('paySign is not a base64 RSA-2048 signature')
      if (!/^\d{10}$/.test(params.timeStamp ?? '') || Math.abs(Number(params.timeStamp) - Date.now() / 1000) > 300) problems.push('timeStamp not now')
      if (problems.length) return setTimeout(() => fail({ errMsg: `requestPayment:fail ${problems.join('; ')}` }))
      if (behaviour.payment === 'cancel') return setTimeout(() => fail({ errMsg: 'requestPayment:fail cancel' }))
      const outTradeNo = orders.get(params.package)
      if (!outTradeNo) return setTimeout(() => fail({ errMsg: 'requestPayment:fail no such prepay_id' }))
      fetch(`${pay}/standin/pay?out_trade_no=${encodeURIComponent(outTradeNo)}`, { method: 'POST' })
        .then(async (r) => {
          const b = await r.json()
          if (r.ok) success({ errMsg: 'requestPayment:ok' })
          else fail({ errMsg: `requestPayment:fail ${b.message ?? r.status}` })
        })
        .catch((e) => fail({ errMsg: `requestPayment:fail ${e.message}` }))
    },
    requestSubscribeMessage({ tmplIds, success }) {
      log.subscribeAsked.push(tmplIds)
      log.sequence.push('subscribe')
      const r = { errMsg: 'requestSubscribeMessage:ok' }
      for (const id of tmplIds) r[id] = behaviour.subscribe
      setTimeout(() => success(r))
    },
    makePhoneCall({ phoneNumber, success, fail }) {
      log.calls.push(phoneNumber)
      setTimeout(() => (behaviour.call === 'ok' ? success({ errMsg: 'makePhoneCall:ok' }) : fail({ errMsg: `makePhoneCall:fail ${behaviour.call}` })))
    },
    getStorageSync: (k) => (storage.has(k) ? storage.get(k) : ''),
    setStorageSync: (k, v) => void storage.set(k, v),
    removeStorageSync: (k) => void storage.delete(k),
    navigateTo: ({ url }) => void log.navigations.push(['navigateTo', url]),
    redirectTo: ({ url }) => void log.navigations.push(['redirectTo', url]),
    reLaunch: ({ url }) => void log.navigations.push(['reLaunch', url]),
    navigateBack: () => void log.navigations.push(['navigateBack', '']),
    showToast: ({ title }) => void log.toasts.push(title),
    setNavigationBarTitle: () => undefined,
  }
  /** GraphQL requests whose operation text contains `name`. */
  wx.graphql = (name) => log.requests.filter((r) => r.url.endsWith('/graphql') && String(r.body?.query ?? '').includes(name))
  wx.lastNavigation = () => log.navigations[log.navigations.length - 1]
  /** The customer's access token (as the app stored it). */
  wx.accessToken = () => JSON.parse(storage.get('voltledger.tokens')).accessToken
  return wx
}
