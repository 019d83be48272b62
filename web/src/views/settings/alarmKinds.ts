// The alarm kinds a tenant sets an SMS template and a WeChat subscription template for.
export const ALARM_KINDS = [
  'GATEWAY_LOST', 'METER_LOST', 'TRIP_FAILED', 'PHASE_LOSS', 'UNDER_VOLTAGE', 'OVER_VOLTAGE', 'OVERLOAD', 'REVERSE_ENERGY', 'TRIPPED', 'CONSUMPTION_WHILE_TRIPPED',
  'TAMPER', 'SUDDEN_DROP', 'LOW_BALANCE_1', 'LOW_BALANCE_2', 'ARREARS', 'BALANCE_EXHAUSTED', 'BALANCE_RESTORED', 'PAYMENT_DIFFERENCE',
] as const

type T = (key: string) => string
type Te = (key: string) => boolean

/** The kind's name in the interface language (the alarm's own, else the settings' extra ones). */
export function kindLabel(t: T, te: Te, k: string): string {
  return te(`alarmKind.${k}`) ? t(`alarmKind.${k}`) : te(`settings.kind.${k}`) ? t(`settings.kind.${k}`) : k
}
