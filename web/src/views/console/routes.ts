// The SaaS operator's console under /console: its own login page and layout, reached with the
// platform session only (api/platform.ts), never with a tenant operator's.
import type { RouteLocationNormalized, RouteRecordRaw } from 'vue-router'
import { isPlatformLoggedIn } from '@/api/platform'

export const consoleRoutes: RouteRecordRaw[] = [
  { path: '/console/login', name: 'console-login', component: () => import('./ConsoleLoginView.vue'), meta: { public: true, console: true, title: 'console.login.title' } },
  {
    path: '/console',
    component: () => import('./ConsoleLayout.vue'),
    meta: { public: true, console: true },
    children: [
      { path: '', redirect: '/console/tenants' },
      { path: 'tenants', name: 'console-tenants', component: () => import('./TenantsView.vue'), meta: { public: true, console: true, title: 'console.menu.tenants' } },
      { path: 'provider', name: 'console-provider', component: () => import('./ProviderView.vue'), meta: { public: true, console: true, title: 'console.menu.provider' } },
      { path: 'health', name: 'console-health', component: () => import('./HealthView.vue'), meta: { public: true, console: true, title: 'console.menu.health' } },
      { path: 'audit', name: 'console-audit', component: () => import('./AuditView.vue'), meta: { public: true, console: true, title: 'console.menu.audit' } },
      { path: ':rest(.*)*', redirect: '/console/tenants' },
    ],
  },
]

/**
 * The console's guard: its pages need the platform session (the tenant session does not
 * count), its login page sends a signed-in operator on. `undefined` for the portal's routes.
 */
export function consoleGuard(to: RouteLocationNormalized) {
  if (!to.meta.console) return undefined
  const inside = isPlatformLoggedIn()
  if (to.name === 'console-login') return inside ? { path: '/console/tenants' } : true
  if (!inside) return { name: 'console-login', query: to.fullPath !== '/console' && to.fullPath !== '/console/' ? { next: to.fullPath } : {} }
  return true
}
