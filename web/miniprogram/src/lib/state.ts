// An account's state in plain words: normal / alert 1 / alert 2 / arrears / power off, from
// the API's balanceState, the relay the platform wants and hold power.

import type { Key } from './i18n'
import type { MyAccount } from './queries'

export type Tone = 'ok' | 'warn' | 'bad' | 'muted'

export interface StateWords {
  /** The dictionary keys of the short word and its explanation. */
  word: Key
  hint: Key
  tone: Tone
}

export function isPostPaid(a: Pick<MyAccount, 'meters'>): boolean {
  return a.meters.length > 0 && a.meters.every((m) => m.billingMode === 'POST_PAID')
}

export function stateWords(a: Pick<MyAccount, 'state' | 'balanceState' | 'relay' | 'holdPower' | 'meters'>): StateWords {
  if (a.state === 'CLOSED') return { word: 'state_closed', hint: 'state_closed_hint', tone: 'muted' }
  if (a.relay === 'OPEN') return { word: 'state_tripped', hint: 'state_tripped_hint', tone: 'bad' }
  if (isPostPaid(a)) return { word: 'state_postpaid', hint: 'state_postpaid_hint', tone: 'ok' }
  switch (a.balanceState) {
    case 'NORMAL':
      return { word: 'state_normal', hint: 'state_normal_hint', tone: 'ok' }
    case 'LOW_1':
      return { word: 'state_alarm1', hint: 'state_alarm1_hint', tone: 'warn' }
    case 'LOW_2':
      return { word: 'state_alarm2', hint: 'state_alarm2_hint', tone: 'warn' }
    case 'ARREARS':
      return { word: 'state_arrears', hint: 'state_arrears_hint', tone: 'bad' }
    case 'EXHAUSTED':
      // The credit is used up: the power is off unless the property holds it on.
      return a.holdPower
        ? { word: 'state_held', hint: 'state_held_hint', tone: 'bad' }
        : { word: 'state_tripped', hint: 'state_tripped_hint', tone: 'bad' }
  }
}

/** The prices now of the account's meters, distinct, as sent (e.g. ["0.6475"]). */
export function pricesNow(a: Pick<MyAccount, 'meters'>): string[] {
  const out: string[] = []
  for (const m of a.meters) if (m.priceNow && out.indexOf(m.priceNow) < 0) out.push(m.priceNow)
  return out
}
