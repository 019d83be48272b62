// Active alarms for the header bell, kept live by the alarms subscription; new ones pop up as
// notifications. The server answers with the operator's properties only (scope-aware); the
// bell and the toasts further follow the property chosen in the header.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { request } from '@/api/graphql'
import { subscribe } from '@/api/live'
import { ActiveAlarmsDocument, AlarmChangesDocument, type AlarmFieldsFragment } from '@/graphql/generated'
import { useSession } from './session'

export const ACTIVE_LIMIT = 500

/** Whether an alarm belongs to the chosen property (all when none; tenant-wide subjects always). */
export function inProperty(a: Pick<AlarmFieldsFragment, 'propertyId'>, propertyId: string | null): boolean {
  return !propertyId || !a.propertyId || a.propertyId === propertyId
}

export const useAlarms = defineStore('alarms', () => {
  const session = useSession()
  const all = ref<AlarmFieldsFragment[]>([])
  const lastChange = ref(0)
  let stop: (() => void) | null = null
  const listeners = new Set<(a: AlarmFieldsFragment, change: string) => void>()

  const active = computed(() => all.value.filter((a) => inProperty(a, session.propertyId)))
  const count = computed(() => active.value.length)
  const countLabel = computed(() => (all.value.length >= ACTIVE_LIMIT ? `${active.value.length}+` : String(active.value.length)))

  async function refresh() {
    try {
      all.value = (await request(ActiveAlarmsDocument, { first: ACTIVE_LIMIT })).alarms
    } catch {
      // Kept as it was; the next change or refresh fills it in.
    }
  }

  async function start() {
    if (stop) return
    stop = () => undefined
    await refresh()
    stop = subscribe(AlarmChangesDocument, {}, (data) => {
      const { change, alarm } = data.alarmChanges
      if (change === 'RAISED') {
        if (!all.value.some((a) => a.id === alarm.id)) all.value = [alarm, ...all.value]
      } else {
        all.value = all.value.filter((a) => a.id !== alarm.id)
      }
      lastChange.value = Date.now()
      listeners.forEach((l) => l(alarm, change))
    })
  }

  function stopLive() {
    stop?.()
    stop = null
    all.value = []
  }

  function onChange(l: (a: AlarmFieldsFragment, change: string) => void) {
    listeners.add(l)
    return () => listeners.delete(l)
  }

  function acknowledged(a: AlarmFieldsFragment) {
    all.value = all.value.map((x) => (x.id === a.id ? a : x))
  }

  return { active, count, countLabel, lastChange, refresh, start, stop: stopLive, onChange, acknowledged }
})
