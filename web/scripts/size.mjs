// Sums the gzip size of the JavaScript index.html loads at first (entry scripts and their
// modulepreloads) and fails above the budget.
import { readFileSync, existsSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'

const BUDGET = 600 * 1024
const dist = process.argv[2] ?? 'dist'
const indexPath = join(dist, 'index.html')
if (!existsSync(indexPath)) {
  console.error(`${indexPath} not found: run \`npm run build\` first`)
  process.exit(2)
}
const html = readFileSync(indexPath, 'utf8')
const srcs = new Set()
for (const m of html.matchAll(/<script[^>]*\bsrc="([^"]+\.js)"/g)) srcs.add(m[1])
for (const m of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"/g)) srcs.add(m[1])
for (const m of html.matchAll(/<link[^>]*href="([^"]+\.js)"[^>]*rel="modulepreload"/g)) srcs.add(m[1])
let total = 0
for (const src of srcs) {
  const file = join(dist, src.replace(/^\//, ''))
  const size = gzipSync(readFileSync(file), { level: 9 }).length
  total += size
  console.log(`${(size / 1024).toFixed(1).padStart(8)} KB  ${src}`)
}
console.log(`${(total / 1024).toFixed(1).padStart(8)} KB  initial JS, gzipped (budget ${BUDGET / 1024} KB)`)
if (srcs.size === 0) {
  console.error('no script found in index.html')
  process.exit(1)
}
if (total > BUDGET) {
  console.error('over budget')
  process.exit(1)
}
