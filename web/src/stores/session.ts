// The signed-in operator: permissions, property scope, the tenant (its time zone) and the
// property chosen in the header.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { request } from '@/api/graphql'
import { SessionInfoDocument, type Permission, type SessionInfoQuery } from '@/graphql/generated'
import { setTimeZone } from '@/lib/time'

const PROPERTY_KEY = 'voltledger.property'

export const useSession = defineStore('session', () => {
  const me = ref<SessionInfoQuery['me'] | null>(null)
  const tenant = ref<SessionInfoQuery['tenant'] | null>(null)
  const properties = ref<SessionInfoQuery['properties']>([])
  const selected = ref<string | null>(localStorage.getItem(PROPERTY_KEY) || null)
  const loaded = ref(false)

  const scoped = computed(() => !!me.value?.propertyIds)
  /** Properties the operator may pick: those in scope, live ones only. */
  const visibleProperties = computed(() => {
    const scope = me.value?.propertyIds
    return properties.value.filter((p) => !p.retiredAt && (!scope || scope.includes(p.id)))
  })
  /**
   * The property the screens are narrowed to: the chosen one; a scoped operator always has
   * one of theirs chosen (the server answers them with their properties only either way), an
   * unscoped one may choose "all".
   */
  const propertyId = computed<string | null>(() => {
    const vis = visibleProperties.value
    if (selected.value && vis.some((p) => p.id === selected.value)) return selected.value
    if (scoped.value) return vis[0]?.id ?? me.value?.propertyIds?.[0] ?? null
    return null
  })

  function has(p: Permission): boolean {
    return !!me.value?.permissions.includes(p)
  }

  function propertyName(id: string | null | undefined): string {
    if (!id) return ''
    return properties.value.find((p) => p.id === id)?.name ?? ''
  }

  async function load() {
    const data = await request(SessionInfoDocument, {})
    me.value = data.me
    tenant.value = data.tenant
    properties.value = data.properties
    setTimeZone(data.tenant.timeZone)
    loaded.value = true
  }

  function select(id: string | null) {
    selected.value = id
    if (id) localStorage.setItem(PROPERTY_KEY, id)
    else localStorage.removeItem(PROPERTY_KEY)
  }

  function clear() {
    me.value = null
    tenant.value = null
    properties.value = []
    loaded.value = false
  }

  return { me, tenant, properties, visibleProperties, propertyId, scoped, loaded, has, load, select, clear, propertyName }
})
