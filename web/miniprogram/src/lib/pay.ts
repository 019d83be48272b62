// Paying: an order from the server, `wx.requestPayment` with the fields it returned, then
// waiting for the channel's notification to credit it (the server credits only on the
// notification or its own query; the client never claims a payment itself). The mobile pages
// use the pieces: `payOrder` in WeChat's browser, or Alipay's cashier and back, then `settled`
// / `waitBillPaid`.

import { getConfig } from '../config'
import { ApiError, gql } from './api'
import { toFen } from './money'
import { platform } from './platform'
import { Order, createBillOrder, createRechargeOrder, myBills, rechargeOrders } from './queries'

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export interface Paid {
  order: Order
  /** False when the notification had not arrived within `paymentWaitMs`. */
  confirmed: boolean
  /** The recharge's credit after the service fee, from the ledger (null if not known). */
  creditedFen: number | null
}

/** Hands the order's WeChat Pay parameters to the platform (the mini-program's `wx.requestPayment`, WeChat's browser's JSAPI). */
export async function payOrder(order: Order): Promise<void> {
  if (!order.payment) throw new ApiError('server', 'the order carries no payment parameters', 'NO_PAYMENT')
  await platform().requestPayment(order.payment)
}

/**
 * Polls the account's orders until the one with this `outTradeNo` is PAID: that order as the
 * server lists it (with its transaction id), or null when `waitMs` passed first.
 */
export async function waitOrderPaid(accountId: string, outTradeNo: string, waitMs = getConfig().paymentWaitMs): Promise<Order | null> {
  const end = Date.now() + waitMs
  for (;;) {
    const mine = (await rechargeOrders(accountId)).find((o) => o.outTradeNo === outTradeNo)
    if (mine && mine.state === 'PAID') return mine
    if (Date.now() > end) return null
    await sleep(1000)
  }
}

interface Entry {
  amount: string
  externalRef: string | null
  receiptNo: number | null
}

/** The recharge entry (by the transaction id) and the fee posted with it (same receipt), in fen. */
export async function credited(accountId: string, transactionId: string): Promise<number | null> {
  const q = `query Ledger { myAccounts { id ledger(first: 20) { items { amount externalRef receiptNo } } } }`
  const r = await gql<{ myAccounts: { id: string; ledger: { items: Entry[] } }[] }>(q)
  const a = r.myAccounts.find((x) => x.id === accountId)
  if (!a) return null
  const main = a.ledger.items.find((e) => e.externalRef === transactionId)
  if (!main) return null
  const same = main.receiptNo === null ? [main] : a.ledger.items.filter((e) => e.receiptNo === main.receiptNo)
  return same.reduce((s, e) => s + toFen(e.amount), 0)
}

/** What a paid recharge order brought: confirmed with its credit, or not (yet) confirmed. */
export async function settled(order: Order, waitMs = getConfig().paymentWaitMs): Promise<Paid> {
  const paid = await waitOrderPaid(order.accountId, order.outTradeNo, waitMs)
  if (!paid) return { order, confirmed: false, creditedFen: null }
  const tx = paid.transactionId || ''
  return { order: paid, confirmed: true, creditedFen: tx ? await credited(order.accountId, tx) : null }
}

/** A recharge of `amount` ("20.00") into the account, paid by WeChat Pay. */
export async function recharge(accountId: string, amount: string): Promise<Paid> {
  const order = await createRechargeOrder(accountId, amount)
  await payOrder(order)
  return settled(order)
}

/** Polls the customer's bills until this one reads PAID (true), or `waitMs` passed (false). */
export async function waitBillPaid(billId: string, waitMs = getConfig().paymentWaitMs): Promise<boolean> {
  const end = Date.now() + waitMs
  for (;;) {
    const bill = (await myBills()).find((b) => b.id === billId)
    if (bill && bill.state === 'PAID') return true
    if (Date.now() > end) return false
    await sleep(1000)
  }
}

/** Pays an ISSUED bill for its total; confirmed when the bill reads PAID. */
export async function payBill(billId: string): Promise<Paid> {
  const order = await createBillOrder(billId)
  await payOrder(order)
  return { order, confirmed: await waitBillPaid(billId), creditedFen: null }
}
