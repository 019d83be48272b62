// Fails when the generated GraphQL types differ from what is committed: regenerates into a
// temporary file and compares byte for byte.
import { execFileSync } from 'node:child_process'
import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dir = mkdtempSync(join(tmpdir(), 'vl-codegen-'))
const out = join(dir, 'generated.ts')
try {
  execFileSync('npx', ['graphql-codegen', '--config', 'codegen.ts', '--silent'], {
    stdio: 'inherit',
    env: { ...process.env, CODEGEN_OUT: out },
  })
  const fresh = readFileSync(out, 'utf8')
  const committed = readFileSync('src/graphql/generated.ts', 'utf8')
  if (fresh !== committed) {
    console.error('src/graphql/generated.ts is out of date: run `npm run codegen` and commit the result')
    process.exit(1)
  }
  console.log('generated GraphQL types are up to date')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
