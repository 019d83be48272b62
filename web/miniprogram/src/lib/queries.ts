// The customer's GraphQL operations (server/schema.graphql), typed by hand: the few fields
// the pages show.

import { ApiError, gql } from './api'
import type { PaymentParams } from './platform'

export type BalanceState = 'NORMAL' | 'LOW_1' | 'LOW_2' | 'ARREARS' | 'EXHAUSTED'
export type BillingMode = 'PLATFORM_PREPAID' | 'METER_PREPAID' | 'POST_PAID'

export interface MyMeter {
  id: string
  address: string
  billingMode: BillingMode
  priceNow: string | null
}

export interface MyAccount {
  id: string
  number: string
  balance: string
  state: 'OPEN' | 'CLOSED'
  balanceState: BalanceState
  relay: 'OPEN' | 'CLOSED'
  holdPower: boolean
  meters: MyMeter[]
}

export interface BillLine {
  lineNo: number
  kind: string
  description: string
  quantity: string
  unitPrice: string
  amount: string
}

export interface Bill {
  id: string
  accountId: string
  period: string
  version: number
  state: 'DRAFT' | 'ISSUED' | 'PAID' | 'SUPERSEDED'
  total: string
  issuedAt: string | null
  paidAt: string | null
  lines: BillLine[]
}

export interface Order {
  id: string
  outTradeNo: string
  accountId: string
  amount: string
  state: 'CREATED' | 'PAID' | 'CLOSED'
  billId: string | null
  transactionId?: string | null
  payment: PaymentParams | null
}

export interface Subscription {
  templateId: string
  remaining: number
}

const ACCOUNT = `id number balance state balanceState relay holdPower meters { id address billingMode priceNow }`
const BILL = `id accountId period version state total issuedAt paidAt lines { lineNo kind description quantity unitPrice amount }`
const ORDER = `id outTradeNo accountId amount state billId payment { timeStamp nonceStr package signType paySign }`

export async function myAccounts(): Promise<MyAccount[]> {
  return (await gql<{ myAccounts: MyAccount[] }>(`query MyAccounts { myAccounts { ${ACCOUNT} } }`)).myAccounts
}

/** Binds with the phone WeChat vouches for (`phoneCode`) or the code the property printed (`bindingCode`). */
export async function bindAccount(accountNumber: string, proof: { phoneCode: string } | { bindingCode: string }): Promise<MyAccount[]> {
  const q = `mutation Bind($i: BindAccountInput!) { bindAccount(input: $i) { ${ACCOUNT} } }`
  return (await gql<{ bindAccount: MyAccount[] }>(q, { i: { accountNumber, ...proof } })).bindAccount
}

export async function myBills(): Promise<Bill[]> {
  return (await gql<{ myBills: Bill[] }>(`query MyBills { myBills { ${BILL} } }`)).myBills
}

export type FeeQuote = { kind: 'amount'; fee: string } | { kind: 'policy' }

/**
 * The service fee a recharge would take. The server's guard lets only operators ask
 * (`rechargeFee` is `Read`); refused, the page shows the fee policy instead of a number.
 */
export async function rechargeFee(accountId: string, amount: string): Promise<FeeQuote> {
  try {
    const r = await gql<{ rechargeFee: string }>(`query Fee($a: ID!, $m: Decimal!) { rechargeFee(accountId: $a, amount: $m) }`, {
      a: accountId,
      m: amount,
    })
    return { kind: 'amount', fee: r.rechargeFee }
  } catch (e) {
    if (e instanceof ApiError && e.kind === 'server' && e.code === 'FORBIDDEN') return { kind: 'policy' }
    throw e
  }
}

export async function createRechargeOrder(accountId: string, amount: string): Promise<Order> {
  const q = `mutation Recharge($i: CreateRechargeOrderInput!) { createRechargeOrder(input: $i) { ${ORDER} } }`
  return (await gql<{ createRechargeOrder: Order }>(q, { i: { accountId, amount, channel: 'WECHAT' } })).createRechargeOrder
}

export async function createBillOrder(billId: string): Promise<Order> {
  const q = `mutation PayBill($i: CreateBillOrderInput!) { createBillOrder(input: $i) { ${ORDER} } }`
  return (await gql<{ createBillOrder: Order }>(q, { i: { billId, channel: 'WECHAT' } })).createBillOrder
}

/** The account's orders, newest first (the customer may read their own). */
export async function rechargeOrders(accountId: string): Promise<Order[]> {
  const q = `query Orders($a: ID!) { rechargeOrders(accountId: $a) { id outTradeNo accountId amount state billId transactionId } }`
  return (await gql<{ rechargeOrders: Order[] }>(q, { a: accountId })).rechargeOrders.map((o) => ({ ...o, payment: null }))
}

export async function reportSubscriptions(accepted: string[]): Promise<Subscription[]> {
  const q = `mutation Subscribe($i: ReportSubscriptionsInput!) { reportSubscriptions(input: $i) { templateId remaining } }`
  return (await gql<{ reportSubscriptions: Subscription[] }>(q, { i: { accepted } })).reportSubscriptions
}

export async function mySubscriptions(): Promise<Subscription[]> {
  return (await gql<{ mySubscriptions: Subscription[] }>(`query Subs { mySubscriptions { templateId remaining } }`)).mySubscriptions
}
