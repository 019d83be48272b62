// Any failure -> what to tell the customer: a sentence in their language saying whose fault
// it was (network, WeChat, payment, session, the server), and the server's or WeChat's own
// words as the detail.

import { ApiError } from './api'
import { dict } from './i18n'
import { WxError } from './platform'

export interface Shown {
  title: string
  detail: string
  /** The session is gone: the page should go back to the login page. */
  relogin: boolean
}

export function describe(e: unknown): Shown {
  const t = dict()
  if (e instanceof ApiError) {
    switch (e.kind) {
      case 'network':
        return { title: t.err_network, detail: e.message, relogin: false }
      case 'wechat':
        return { title: t.err_wechat, detail: e.message, relogin: false }
      case 'session':
        return { title: t.err_session, detail: '', relogin: true }
      case 'server':
        if (e.code === 'VALIDATION' && e.field === 'accountNumber') return { title: t.err_bind_mismatch, detail: e.message, relogin: false }
        if ((e.code === 'VALIDATION' && e.field === 'bindingCode') || e.code === 'BINDING_REFUSED')
          return { title: /too many|locked/i.test(e.message) ? t.err_bind_code_locked : t.err_bind_code, detail: e.message, relogin: false }
        if (e.code === 'TOO_MANY_ATTEMPTS' || e.code === '429') return { title: t.err_too_many, detail: e.message, relogin: false }
        if (e.code === 'FORBIDDEN') return { title: t.err_forbidden, detail: e.message, relogin: false }
        return { title: t.err_server, detail: e.message, relogin: false }
    }
  }
  if (e instanceof WxError) {
    if (e.api === 'requestPayment') return { title: e.cancelled ? t.err_pay_cancelled : t.err_pay_failed, detail: e.errMsg, relogin: false }
    if (e.api === 'requestSubscribeMessage') return { title: t.err_subscribe_failed, detail: e.errMsg, relogin: false }
    return { title: t.err_wechat, detail: e.errMsg, relogin: false }
  }
  return { title: t.err_server, detail: e instanceof Error ? e.message : String(e), relogin: false }
}
