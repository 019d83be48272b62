// Money paid in, as the history page lists it (the account's ledger, newest first): online
// recharges, the desk's cash and transfers, bill payments and refunds, each with its receipt
// number; and a receipt (myReceipt) as its entries and total.

import { dict, fmt } from './i18n'
import { formatYuan } from './money'
import type { LedgerItem, Receipt } from './queries'
import { localTime } from './view'

/** The ledger kinds the history lists (energy charges and fees are the rest). */
export const PAID_IN = ['RECHARGE_CASH', 'RECHARGE_TRANSFER', 'RECHARGE_WECHAT', 'RECHARGE_ALIPAY', 'BILL_PAYMENT', 'REFUND']

export function isPaidIn(e: Pick<LedgerItem, 'kind'>): boolean {
  return PAID_IN.indexOf(e.kind) >= 0
}

function word(key: string, fallback: string): string {
  return (dict() as Record<string, string>)[key] || fallback
}

export function kindWord(kind: string): string {
  return word(`kind_${kind}`, kind)
}

export interface HistoryRow {
  id: string
  /** The kind, which names the channel for recharges (微信充值); bill payments add theirs. */
  title: string
  amount: string
  credit: boolean
  time: string
  receiptNo: number | null
  receipt: string
}

export function historyRow(e: LedgerItem): HistoryRow {
  const channel = e.channel && e.kind.indexOf('RECHARGE_') !== 0 ? word(`channel_${e.channel}`, e.channel) : ''
  const credit = !e.amount.startsWith('-')
  return {
    id: e.id,
    title: channel ? `${kindWord(e.kind)} · ${channel}` : kindWord(e.kind),
    amount: `${credit ? '+' : ''}${formatYuan(e.amount)}`,
    credit,
    time: localTime(e.createdAt),
    receiptNo: e.receiptNo,
    receipt: e.receiptNo === null ? '' : fmt('receipt_no', { no: e.receiptNo }),
  }
}

export interface ReceiptView {
  number: number
  title: string
  total: string
  entries: { no: number; kind: string; amount: string; note: string }[]
}

export function receiptView(r: Receipt): ReceiptView {
  return {
    number: r.number,
    title: fmt('receipt_no', { no: r.number }),
    total: formatYuan(r.total),
    entries: r.entries.map((e, no) => ({ no, kind: kindWord(e.kind), amount: formatYuan(e.amount), note: e.note })),
  }
}
