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

export type PayChannel = 'WECHAT' | 'ALIPAY'

export interface Order {
  id: string
  outTradeNo: string
  accountId: string
  amount: string
  state: 'CREATED' | 'PAID' | 'CLOSED'
  billId: string | null
  transactionId?: string | null
  /** WECHAT (service provider), WECHAT_DIRECT or ALIPAY (listed orders only). */
  channel?: string
  createdAt?: string
  paidAt?: string | null
  payment: PaymentParams | null
  /** Alipay with a `returnUrl`: the wap cashier to send the browser to. */
  payUrl?: string | null
}

/** How the order is paid: WeChat (the default) or Alipay; a `returnUrl` asks for Alipay's wap cashier. */
export interface OrderOptions {
  channel?: PayChannel
  returnUrl?: string
}

export interface Subscription {
  templateId: string
  remaining: number
}

const ACCOUNT = `id number balance state balanceState relay holdPower meters { id address billingMode priceNow }`
const BILL = `id accountId period version state total issuedAt paidAt lines { lineNo kind description quantity unitPrice amount }`
const ORDER = `id outTradeNo accountId amount state billId payment { appId timeStamp nonceStr package signType paySign }`

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

/** The order input's channel fields, and the fields to ask back (`payUrl` only with a return address). */
function orderParts(o: OrderOptions): { input: Record<string, string>; fields: string } {
  const input: Record<string, string> = { channel: o.channel || 'WECHAT' }
  if (o.returnUrl) input.returnUrl = o.returnUrl
  return { input, fields: o.returnUrl ? `${ORDER} payUrl` : ORDER }
}

export async function createRechargeOrder(accountId: string, amount: string, options: OrderOptions = {}): Promise<Order> {
  const { input, fields } = orderParts(options)
  const q = `mutation Recharge($i: CreateRechargeOrderInput!) { createRechargeOrder(input: $i) { ${fields} } }`
  return (await gql<{ createRechargeOrder: Order }>(q, { i: { accountId, amount, ...input } })).createRechargeOrder
}

export async function createBillOrder(billId: string, options: OrderOptions = {}): Promise<Order> {
  const { input, fields } = orderParts(options)
  const q = `mutation PayBill($i: CreateBillOrderInput!) { createBillOrder(input: $i) { ${fields} } }`
  return (await gql<{ createBillOrder: Order }>(q, { i: { billId, ...input } })).createBillOrder
}

/** The account's orders, newest first (the customer may read their own). */
export async function rechargeOrders(accountId: string): Promise<Order[]> {
  const q = `query Orders($a: ID!) { rechargeOrders(accountId: $a) { id outTradeNo accountId amount state billId transactionId channel createdAt paidAt } }`
  return (await gql<{ rechargeOrders: Order[] }>(q, { a: accountId })).rechargeOrders.map((o) => ({ ...o, payment: null }))
}

export async function reportSubscriptions(accepted: string[]): Promise<Subscription[]> {
  const q = `mutation Subscribe($i: ReportSubscriptionsInput!) { reportSubscriptions(input: $i) { templateId remaining } }`
  return (await gql<{ reportSubscriptions: Subscription[] }>(q, { i: { accepted } })).reportSubscriptions
}

export async function mySubscriptions(): Promise<Subscription[]> {
  return (await gql<{ mySubscriptions: Subscription[] }>(`query Subs { mySubscriptions { templateId remaining } }`)).mySubscriptions
}

export interface UsagePoint {
  /** The bucket's start (a local midnight, or the first of a month). */
  at: string
  /** kWh over the account's meters. */
  energy: string
  /** Yuan charged in the bucket. */
  cost: string
}

/** Energy and charges by day (up to 92 days) or by month (up to 24 months) in `[from, to)`. */
export async function myUsage(accountId: string, bucket: 'DAY' | 'MONTH', from: string, to: string): Promise<UsagePoint[]> {
  // The bucket is written as an enum literal (one of two), not a variable typed by the enum's name.
  const b = bucket === 'MONTH' ? 'MONTH' : 'DAY'
  const q = `query Usage($a: ID!, $f: DateTime!, $t: DateTime!) { myUsage(accountId: $a, bucket: ${b}, from: $f, to: $t) { at energy cost } }`
  return (await gql<{ myUsage: UsagePoint[] }>(q, { a: accountId, f: from, t: to })).myUsage
}

export interface RatePrice {
  rate: string
  price: string
}

export interface PriceChange {
  tariffName: string
  effectiveFrom: string
  before: RatePrice[]
  after: RatePrice[]
}

/** Tariff versions of the customer's meters taking effect from 30 days ago on (future ones too). */
export async function myPriceChanges(): Promise<PriceChange[]> {
  const q = `query Prices { myPriceChanges { tariffName effectiveFrom before { rate price } after { rate price } } }`
  return (await gql<{ myPriceChanges: PriceChange[] }>(q)).myPriceChanges
}

export interface PropertyContact {
  id: string
  name: string
  contactName: string
  contactPhone: string
}

/** The properties of the customer's accounts, with whom to call. */
export async function myProperties(): Promise<PropertyContact[]> {
  const q = `query Properties { myProperties { id name contactName contactPhone } }`
  return (await gql<{ myProperties: PropertyContact[] }>(q)).myProperties
}

export interface LedgerItem {
  id: string
  amount: string
  kind: string
  externalRef: string | null
  receiptNo: number | null
  createdAt: string
  /** For recharges and payments: CASH, TRANSFER, WECHAT or ALIPAY. */
  channel?: string | null
}

export interface LedgerPage {
  items: LedgerItem[]
  endCursor: string | null
  hasNextPage: boolean
}

/** One account's ledger entries, newest first, a page at a time. */
export async function myLedger(accountId: string, first = 30, after: string | null = null): Promise<LedgerPage> {
  const q = `query Ledger($n: Int!, $c: String) { myAccounts { id ledger(first: $n, after: $c) { items { id amount kind externalRef receiptNo createdAt channel } pageInfo { endCursor hasNextPage } } } }`
  type Answer = { myAccounts: { id: string; ledger: { items: LedgerItem[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } }[] }
  const a = (await gql<Answer>(q, { n: first, c: after })).myAccounts.find((x) => x.id === accountId)
  if (!a) return { items: [], endCursor: null, hasNextPage: false }
  return { items: a.ledger.items, endCursor: a.ledger.pageInfo.endCursor, hasNextPage: a.ledger.pageInfo.hasNextPage }
}

export interface Receipt {
  number: number
  total: string
  html: string
  entries: { kind: string; amount: string; note: string }[]
}

/** One of the customer's own receipts (电子收据); null when it is not theirs. */
export async function myReceipt(number: number): Promise<Receipt | null> {
  const q = `query Receipt($n: Int!) { myReceipt(number: $n) { number total html entries { kind amount note } } }`
  return (await gql<{ myReceipt: Receipt | null }>(q, { n: number })).myReceipt
}

export interface SubscriptionTemplate {
  alarmKind: string
  templateId: string
}

/** The subscription-message templates the property set up (for `wx.requestSubscribeMessage`). */
export async function mySubscriptionTemplates(): Promise<SubscriptionTemplate[]> {
  const q = `query Templates { mySubscriptionTemplates { alarmKind templateId } }`
  return (await gql<{ mySubscriptionTemplates: SubscriptionTemplate[] }>(q)).mySubscriptionTemplates
}
