/// <reference types="vitest/config" />
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { fileURLToPath, URL } from 'node:url'
import { existsSync, readdirSync } from 'node:fs'

const api = process.env.VOLTLEDGER_URL ?? 'http://127.0.0.1:8080'

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
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
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
      output: {
        manualChunks(id) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender') || id.includes('node_modules/vue-echarts')) return 'echarts'
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
