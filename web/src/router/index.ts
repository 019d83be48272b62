import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { isLoggedIn } from '@/api/auth'
import type { Permission } from '@/graphql/generated'
import { consoleGuard, consoleRoutes } from '@/views/console/routes'

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title. */
    title?: string
    /** Hidden from operators without this permission. */
    perm?: Permission
    public?: boolean
    /** The SaaS operator's console (its own session). */
    console?: boolean
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('@/views/login/LoginView.vue'), meta: { public: true, title: 'login.title' } },
  {
    path: '/receipt/:number',
    name: 'receipt',
    component: () => import('@/views/sales/ReceiptPrintView.vue'),
    meta: { title: 'receipt.title' },
  },
  { path: '/bills/:id/print', name: 'bill-print', component: () => import('@/views/bills/BillPrintView.vue'), meta: { title: 'billPrint.title' } },
  { path: '/accounts/:id/statement', name: 'statement', component: () => import('@/views/statement/StatementView.vue'), meta: { title: 'statement.title' } },
  {
    path: '/',
    component: () => import('@/layout/AppLayout.vue'),
    children: [
      { path: '', redirect: '/dashboard' },
      { path: 'dashboard', name: 'dashboard', component: () => import('@/views/dashboard/DashboardView.vue'), meta: { title: 'menu.dashboard' } },
      { path: 'monitor', name: 'monitor', component: () => import('@/views/monitor/MonitorView.vue'), meta: { title: 'menu.monitor' } },
      { path: 'meters/:id', name: 'meter', component: () => import('@/views/meter/MeterDetailView.vue'), meta: { title: 'meter.title' } },
      { path: 'sites', name: 'sites', component: () => import('@/views/sites/SitesView.vue'), meta: { title: 'menu.sites' } },
      { path: 'sites/import', name: 'import', component: () => import('@/views/sites/ImportView.vue'), meta: { title: 'imports.pageTitle' } },
      { path: 'tariffs', name: 'tariffs', component: () => import('@/views/tariffs/TariffsView.vue'), meta: { title: 'menu.tariffs' } },
      { path: 'customers', name: 'customers', component: () => import('@/views/customers/CustomersView.vue'), meta: { title: 'menu.customers' } },
      { path: 'sales', name: 'sales', component: () => import('@/views/sales/SalesView.vue'), meta: { title: 'menu.sales' } },
      { path: 'finance', name: 'finance', component: () => import('@/views/finance/FinanceView.vue'), meta: { title: 'menu.finance' } },
      { path: 'reports', name: 'reports', component: () => import('@/views/reports/ReportsView.vue'), meta: { title: 'reports.title' } },
      { path: 'bills', name: 'bills', component: () => import('@/views/bills/BillsView.vue'), meta: { title: 'billingMenu.bills' } },
      { path: 'bills/:id', name: 'bill', component: () => import('@/views/bills/BillDetailView.vue'), meta: { title: 'billingMenu.bills' } },
      { path: 'shared-areas', name: 'shared-areas', component: () => import('@/views/shared/SharedAreasView.vue'), meta: { title: 'billingMenu.sharedAreas' } },
      { path: 'alarms', name: 'alarms', component: () => import('@/views/alarms/AlarmsView.vue'), meta: { title: 'menu.alarms' } },
      { path: 'commands', name: 'commands', component: () => import('@/views/commands/CommandsView.vue'), meta: { title: 'menu.commands' } },
      { path: 'payees', name: 'payees', component: () => import('@/views/payees/PayeesView.vue'), meta: { title: 'menuPeople.payees' } },
      { path: 'people', name: 'people', component: () => import('@/views/people/PeopleView.vue'), meta: { title: 'menuPeople.people' } },
      { path: 'settings', name: 'settings', component: () => import('@/views/settings/SettingsView.vue'), meta: { title: 'menuPeople.settings' } },
    ],
  },
  ...consoleRoutes,
  { path: '/:rest(.*)*', redirect: '/dashboard' },
]

export const router = createRouter({ history: createWebHistory('/'), routes })

router.beforeEach((to) => {
  const c = consoleGuard(to)
  if (c !== undefined) return c
  if (!to.meta.public && !isLoggedIn()) return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
  if (to.name === 'login' && isLoggedIn()) return { path: '/dashboard' }
  return true
})
