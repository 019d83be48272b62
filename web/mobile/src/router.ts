import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { signedIn } from '@mp/lib/api'
import type { MessageKey } from './i18n'
import LoginView from './views/LoginView.vue'
import HomeView from './views/HomeView.vue'

// Route meta is one interface for every router in the build (the portal's too): the mobile
// pages' keys carry an `m` prefix; `public` is shared (open without a session).
declare module 'vue-router' {
  interface RouteMeta {
    /** The mobile page title's key. */
    mTitle?: MessageKey
    /** The bottom tab this mobile page belongs to. */
    mTab?: 'home' | 'usage' | 'bills' | 'me'
    /** A mobile page with a back arrow. */
    mBack?: boolean
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/login', component: LoginView, meta: { mTitle: 'm_login_title', public: true } },
  { path: '/', component: HomeView, meta: { mTitle: 'home_title', mTab: 'home' } },
  { path: '/bind', component: () => import('./views/BindView.vue'), meta: { mTitle: 'bind_title', mBack: true } },
  { path: '/usage', component: () => import('./views/UsageView.vue'), meta: { mTitle: 'm_usage_title', mTab: 'usage' } },
  { path: '/recharge', component: () => import('./views/RechargeView.vue'), meta: { mTitle: 'recharge_title', mBack: true } },
  { path: '/pay/return', component: () => import('./views/PayResultView.vue'), meta: { mTitle: 'm_result_title' } },
  { path: '/history', component: () => import('./views/HistoryView.vue'), meta: { mTitle: 'm_history_title', mBack: true } },
  { path: '/receipts/:no', component: () => import('./views/ReceiptView.vue'), meta: { mTitle: 'm_receipt_title', mBack: true } },
  { path: '/bills', component: () => import('./views/BillsView.vue'), meta: { mTitle: 'bills_title', mTab: 'bills' } },
  { path: '/bills/:id', component: () => import('./views/BillView.vue'), meta: { mTitle: 'bill_title', mBack: true } },
  { path: '/me', component: () => import('./views/SettingsView.vue'), meta: { mTitle: 'm_settings_title', mTab: 'me' } },
  { path: '/:rest(.*)*', redirect: '/' },
]

export const router = createRouter({
  history: createWebHistory('/m/'),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

router.beforeEach((to) => {
  if (!to.meta.public && !signedIn()) return { path: '/login', query: to.path === '/' ? {} : { next: to.fullPath } }
  return true
})
