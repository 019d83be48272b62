// Paying: an order from the server, `wx.requestPayment` with the fields it returned, then
// waiting for the channel's notification to credit it (the server credits only on the
// notification or its own query; the client never claims a payment itself).

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

async function payOrder(order: Order): Promise<void> {
  if (!order.payment) throw new ApiError('server', 'the order carries no payment parameters', 'NO_PAYMENT')
  await platform().requestPayment(order.payment)
}

/** Polls the account's orders until this one is PAID; its transaction id, or null. */
async function waitPaid(order: Order): Promise<string | null> {
  const end = Date.now() + getConfig().paymentWaitMs
  for (;;) {
    const mine = (await rechargeOrders(order.accountId)).find((o) => o.id === order.id)
    if (mine && mine.state === 'PAID') return mine.transactionId || ''
    if (Date.now() > end) return null
    await sleep(1000)
  }
}

interface Entry {
  amount: string
  externalRef: string | null
  receiptNo: number | null
}

/** The recharge entry (by the transaction id) and the fee posted with it (same receipt). */
async function credited(accountId: string, transactionId: string): Promise<number | null> {
  const q = `query Ledger { myAccounts { id ledger(first: 20) { items { amount externalRef receiptNo } } } }`
  const r = await gql<{ myAccounts: { id: string; ledger: { items: Entry[] } }[] }>(q)
  const a = r.myAccounts.find((x) => x.id === accountId)
  if (!a) return null
  const main = a.ledger.items.find((e) => e.externalRef === transactionId)
  if (!main) return null
  const same = main.receiptNo === null ? [main] : a.ledger.items.filter((e) => e.receiptNo === main.receiptNo)
  return same.reduce((s, e) => s + toFen(e.amount), 0)
}

/** A recharge of `amount` ("20.00") into the account, paid by WeChat Pay. */
export async function recharge(accountId: string, amount: string): Promise<Paid> {
  const order = await createRechargeOrder(accountId, amount)
  await payOrder(order)
  const tx = await waitPaid(order)
  if (tx === null) return { order, confirmed: false, creditedFen: null }
  return { order, confirmed: true, creditedFen: tx ? await credited(accountId, tx) : null }
}

/** Pays an ISSUED bill for its total; confirmed when the bill reads PAID. */
export async function payBill(billId: string): Promise<Paid> {
  const order = await createBillOrder(billId)
  await payOrder(order)
  const end = Date.now() + getConfig().paymentWaitMs
  for (;;) {
    const bill = (await myBills()).find((b) => b.id === billId)
    if (bill && bill.state === 'PAID') return { order, confirmed: true, creditedFen: null }
    if (Date.now() > end) return { order, confirmed: false, creditedFen: null }
    await sleep(1000)
  }
}
