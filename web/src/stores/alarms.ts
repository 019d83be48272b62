// Active alarms for the header bell, kept live by the alarms subscription; new ones pop up as
// notifications.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { request } from '@/api/graphql'
import { subscribe } from '@/api/live'
import { ActiveAlarmsDocument, AlarmChangesDocument, type AlarmFieldsFragment } from '@/graphql/generated'

export const ACTIVE_LIMIT = 500

export const useAlarms = defineStore('alarms', () => {
  const active = ref<AlarmFieldsFragment[]>([])
  const available = ref(true)
  const lastChange = ref(0)
  let stop: (() => void) | null = null
  const listeners = new Set<(a: AlarmFieldsFragment, change: string) => void>()

  const count = computed(() => active.value.length)
  const countLabel = computed(() => (active.value.length >= ACTIVE_LIMIT ? `${ACTIVE_LIMIT}+` : String(active.value.length)))

  async function refresh() {
    try {
      const data = await request(ActiveAlarmsDocument, { first: ACTIVE_LIMIT })
      active.value = data.alarms
      available.value = true
    } catch {
      // Property-scoped operators cannot list alarms tenant-wide (see NOTES-API.md).
      available.value = false
    }
  }

  async function start() {
    if (stop) return
    stop = () => undefined
    await refresh()
    // Refused for property-scoped operators: no subscription then either.
    if (!available.value) return
    stop = subscribe(AlarmChangesDocument, {}, (data) => {
      const { change, alarm } = data.alarmChanges
      if (change === 'RAISED') {
        if (!active.value.some((a) => a.id === alarm.id)) active.value = [alarm, ...active.value]
      } else {
        active.value = active.value.filter((a) => a.id !== alarm.id)
      }
      lastChange.value = Date.now()
      listeners.forEach((l) => l(alarm, change))
    }, () => {
      available.value = false
    })
  }

  function stopLive() {
    stop?.()
    stop = null
    active.value = []
  }

  function onChange(l: (a: AlarmFieldsFragment, change: string) => void) {
    listeners.add(l)
    return () => listeners.delete(l)
  }

  function acknowledged(a: AlarmFieldsFragment) {
    active.value = active.value.map((x) => (x.id === a.id ? a : x))
  }

  return { active, count, countLabel, available, lastChange, refresh, start, stop: stopLive, onChange, acknowledged }
})
