// Paying from the mobile pages: the order from the server, then WeChat's JSAPI in place (in
// WeChat's browser) or Alipay's wap cashier (elsewhere; the browser leaves and comes back to
// `/m/pay/return?out_trade_no=…`). Either way the result page waits until the server says
// PAID (lib/pay.ts); the page never claims a payment. What the result page needs after the
// round trip through Alipay is kept under the order's number.

import { ApiError, type CustomerConfig } from '@mp/lib/api'
import { payOrder } from '@mp/lib/pay'
import { platform } from '@mp/lib/platform'
import { createBillOrder, createRechargeOrder, type Order, type PayChannel } from '@mp/lib/queries'

export interface Pending {
  outTradeNo: string
  orderId: string
  accountId: string
  kind: 'recharge' | 'bill'
  billId: string | null
  amount: string
  channel: PayChannel
  /** The power was off before paying: the result page waits for it to come back. */
  wasOff: boolean
  at: number
}

const PENDING = 'pending'
/** Orders remembered at most (the newest). */
const KEEP = 10

function pendings(): Pending[] {
  try {
    const list = JSON.parse(platform().getItem(PENDING) || '[]') as Pending[]
    return Array.isArray(list) ? list : []
  } catch {
    return []
  }
}

export function keepPending(p: Pending): void {
  const list = [p, ...pendings().filter((x) => x.outTradeNo !== p.outTradeNo)].slice(0, KEEP)
  platform().setItem(PENDING, JSON.stringify(list))
}

export function findPending(outTradeNo: string): Pending | undefined {
  return pendings().find((p) => p.outTradeNo === outTradeNo)
}

export type ChannelChoice = { channel: PayChannel } | { channel: null; why: 'm_channel_none_in_wechat' | 'm_channel_none_outside' | 'm_channel_none' }

/**
 * How this browser can pay: WeChat Pay only inside WeChat (JSAPI needs WeChat's browser, and
 * WeChat does not open Alipay's pages), Alipay only outside.
 */
export function channelFor(config: Pick<CustomerConfig, 'wechatPay' | 'alipay'>, wechat: boolean): ChannelChoice {
  if (!config.wechatPay && !config.alipay) return { channel: null, why: 'm_channel_none' }
  if (wechat) return config.wechatPay ? { channel: 'WECHAT' } : { channel: null, why: 'm_channel_none_in_wechat' }
  return config.alipay ? { channel: 'ALIPAY' } : { channel: null, why: 'm_channel_none_outside' }
}

/** Where Alipay sends the browser back to (the server adds `out_trade_no`). */
export function returnUrl(origin: string): string {
  return `${origin}/m/pay/return`
}

export interface What {
  kind: 'recharge' | 'bill'
  accountId: string
  amount: string
  billId?: string
  wasOff?: boolean
}

/**
 * Creates the order and pays it: WeChat Pay in place (resolves once WeChat says the customer
 * paid), or Alipay by leaving for its cashier (`leave`). The answer is the order; the caller
 * then shows the result page, which waits for the server.
 */
export async function startPayment(what: What, channel: PayChannel, origin: string, leave: (url: string) => void): Promise<Order> {
  const options = channel === 'ALIPAY' ? { channel, returnUrl: returnUrl(origin) } : { channel }
  const order =
    what.kind === 'recharge' ? await createRechargeOrder(what.accountId, what.amount, options) : await createBillOrder(what.billId ?? '', options)
  keepPending({
    outTradeNo: order.outTradeNo,
    orderId: order.id,
    accountId: order.accountId || what.accountId,
    kind: what.kind,
    billId: what.billId ?? null,
    amount: order.amount || what.amount,
    channel,
    wasOff: !!what.wasOff,
    at: Date.now(),
  })
  if (channel === 'WECHAT') {
    await payOrder(order)
    return order
  }
  if (!order.payUrl) throw new ApiError('server', 'the order carries no Alipay link', 'NO_PAYMENT')
  leave(order.payUrl)
  return order
}
