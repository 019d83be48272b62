// The meter monitor's colour by fee and link state (F26): one place, tested.
import type { FeeState, LinkState } from '@/graphql/generated'

export type Tone = 'normal' | 'alarm1' | 'alarm2' | 'arrears' | 'tripped' | 'hold' | 'lost' | 'notOpened' | 'neverSeen'

/** The row's tone: a lost link overrides everything (the values shown are stale). */
export function meterTone(fee: FeeState, link: LinkState): Tone {
  if (link === 'LOST') return 'lost'
  switch (fee) {
    case 'TRIPPED':
      return 'tripped'
    case 'ARREARS':
      return 'arrears'
    case 'ALARM_2':
      return 'alarm2'
    case 'ALARM_1':
      return 'alarm1'
    case 'HOLD_POWER':
      return 'hold'
    case 'NOT_OPENED':
      return link === 'NEVER_SEEN' ? 'neverSeen' : 'notOpened'
    default:
      return link === 'NEVER_SEEN' ? 'neverSeen' : 'normal'
  }
}

/** Colours (text on a tinted background) for tags and row accents. */
export const TONE_COLOURS: Record<Tone, { fg: string; bg: string }> = {
  normal: { fg: '#1f7a3a', bg: '#e8f6ec' },
  alarm1: { fg: '#8a6100', bg: '#fdf5e0' },
  alarm2: { fg: '#b35400', bg: '#fdebd9' },
  arrears: { fg: '#b3261e', bg: '#fde8e6' },
  tripped: { fg: '#ffffff', bg: '#c9362b' },
  hold: { fg: '#1d4ed8', bg: '#e4ecfd' },
  lost: { fg: '#5b6170', bg: '#e9ebef' },
  notOpened: { fg: '#6b7280', bg: '#f3f4f6' },
  neverSeen: { fg: '#6b7280', bg: '#f3f4f6' },
}

export const FEE_STATES: FeeState[] = ['NORMAL', 'ALARM_1', 'ALARM_2', 'ARREARS', 'TRIPPED', 'HOLD_POWER', 'NOT_OPENED']
