// Bills as the pages show them.

import { dict, fmt, Key } from './i18n'
import { formatYuan } from './money'
import type { Bill, BillLine } from './queries'
import { localTime } from './view'

export interface BillView {
  id: string
  title: string
  account: string
  total: string
  totalLabel: string
  state: string
  stateLabel: string
  payable: boolean
  payLabel: string
  paidAt: string
  lines: LineView[]
}

export interface LineView {
  no: number
  kind: string
  description: string
  quantity: string
  unitPrice: string
  amount: string
}

function word(key: string, fallback: string): string {
  const t = dict() as Record<string, string>
  return t[key] || fallback
}

export function lineView(l: BillLine): LineView {
  return {
    no: l.lineNo,
    kind: word(`line_${l.kind}`, l.kind),
    description: l.description,
    quantity: l.quantity,
    unitPrice: l.unitPrice,
    amount: formatYuan(l.amount),
  }
}

export function billView(b: Bill, accountNumber: string): BillView {
  return {
    id: b.id,
    title: fmt('bills_period', { period: b.period }),
    account: accountNumber ? fmt('home_account', { number: accountNumber }) : '',
    total: formatYuan(b.total),
    totalLabel: fmt('bills_total', { total: formatYuan(b.total) }),
    state: b.state,
    stateLabel: word(`bill_state_${b.state}`, b.state),
    payable: b.state === 'ISSUED',
    payLabel: fmt('bill_pay', { amount: formatYuan(b.total) }),
    paidAt: b.paidAt ? fmt('bill_paid_at', { time: localTime(b.paidAt) }) : '',
    lines: b.lines.map(lineView),
  }
}

export type { Key }
