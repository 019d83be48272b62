/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite'
import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { fileURLToPath, URL } from 'node:url'
import { existsSync, readdirSync } from 'node:fs'

const api = process.env.VOLTLEDGER_URL ?? 'http://127.0.0.1:8080'
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))

// The customers' mobile pages (`m/index.html`, sources in `mobile/`) are a second entry: the
// dev server answers `/m` and `/m/…` with their page, as the Rust server does (portal.rs).
const mobilePages: Plugin = {
  name: 'voltledger-mobile-pages',
  enforce: 'pre',
  configureServer(server) {
    server.middlewares.use((req, _res, next) => {
      const path = (req.url ?? '').split('?')[0] ?? ''
      const isPage = (path === '/m' || path.startsWith('/m/')) && !/\.[a-z0-9]+$/i.test(path)
      if (isPage && req.method === 'GET') req.url = '/m/index.html'
      next()
    })
  },
  // Vant's icon font is inline (woff2, a data: URL); its woff fallback names a CDN the CSP
  // refuses and no browser that runs these pages needs.
  transform(code, id) {
    if (!/vant[\\/]es[\\/]icon[\\/]index\.css/.test(id)) return undefined
    return { code: code.replace(/,\s*url\((?:https?:)?\/\/at\.alicdn\.com[^)]*\)\s*format\("woff"\)/g, ''), map: null }
  },
}

// Every Element Plus component style, pre-bundled when the dev server starts: discovered one by
// one as pages open, each discovery would reload the page.
const elementStyles = (() => {
  const dir = 'node_modules/element-plus/es/components'
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((c) => existsSync(`${dir}/${c}/style/css.mjs`))
    .map((c) => `element-plus/es/components/${c}/style/css`)
})()

export default defineConfig({
  base: '/',
  plugins: [
    vue(),
    mobilePages,
    // Element Plus components and their styles are imported where used, never the whole kit.
    AutoImport({
      resolvers: [ElementPlusResolver()],
      dts: 'src/auto-imports.d.ts',
    }),
    Components({
      resolvers: [ElementPlusResolver()],
      dts: 'src/components.d.ts',
    }),
  ],
  resolve: {
    alias: {
      '@mp': here('./miniprogram/src'),
      '@': here('./src'),
    },
  },
  optimizeDeps: {
    // Pre-bundled at start: on-demand discovery of Element Plus styles reloads the page.
    include: [
      'element-plus/es',
      ...elementStyles,
      'element-plus/es/locale/lang/zh-cn',
      'element-plus/es/locale/lang/en',
      '@element-plus/icons-vue',
      'echarts/core',
      'echarts/charts',
      'echarts/components',
      'echarts/renderers',
      'graphql-ws',
    ],
  },
  server: {
    proxy: {
      '/graphql': { target: api, ws: true, changeOrigin: true },
      '/auth': { target: api, changeOrigin: true },
      '/exports': { target: api, changeOrigin: true },
      '/imports/': { target: api, changeOrigin: true },
      '/readyz': { target: api, changeOrigin: true },
      // '/pay/' with its slash: '/payees' is the portal's own route.
      '/pay/': { target: api, changeOrigin: true },
      '/healthz': { target: api, changeOrigin: true },
    },
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      input: { main: here('./index.html'), m: here('./m/index.html') },
      output: {
        manualChunks(id) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender') || id.includes('node_modules/vue-echarts')) return 'echarts'
          // Vue, its router and vue-i18n: shared by the portal and the mobile pages.
          if (/node_modules\/(vue|@vue|vue-router|vue-i18n|@intlify)\//.test(id)) return 'vue'
          return undefined
        },
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.ts'],
  },
})
