// Compiles the mini-program's TypeScript (the tsconfig WeChat DevTools also reads) into a
// temporary directory with its WXML, WXSS and JSON beside it: what the tests load.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const SRC = join(ROOT, 'src')
export const WEB = resolve(ROOT, '..')
export const TSC = join(WEB, 'node_modules', '.bin', 'tsc')

let built = null

function copyStatic(from, to) {
  for (const name of readdirSync(from)) {
    const f = join(from, name)
    if (statSync(f).isDirectory()) copyStatic(f, join(to, name))
    else if (!name.endsWith('.ts')) cpSync(f, join(to, name))
  }
}

/** The compiled mini-program's directory (built once per test process). */
export function build() {
  if (built) return built
  const out = mkdtempSync(join(tmpdir(), 'vl-miniprogram-'))
  execFileSync(TSC, ['-p', join(ROOT, 'tsconfig.json'), '--outDir', out], { stdio: 'inherit' })
  copyStatic(SRC, out)
  built = out
  return out
}
