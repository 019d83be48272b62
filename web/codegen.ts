import type { CodegenConfig } from '@graphql-codegen/cli'
import { existsSync } from 'node:fs'

// The committed server schema is the contract. `src/graphql/pending.graphql` holds fields
// announced for the server but not yet in its committed schema; it is removed once they land.
const schema = ['../server/schema.graphql']
if (existsSync('src/graphql/pending.graphql')) schema.push('src/graphql/pending.graphql')

const out = process.env.CODEGEN_OUT ?? 'src/graphql/generated.ts'

const config: CodegenConfig = {
  schema,
  documents: ['src/**/*.graphql', '!src/graphql/pending.graphql'],
  hooks: {},
  generates: {
    [out]: {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        // Documents travel as strings: no graphql-js parser/printer in the bundle.
        documentMode: 'string',
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
        scalars: {
          Decimal: { input: 'string', output: 'string' },
          DateTime: { input: 'string', output: 'string' },
          NaiveDate: { input: 'string', output: 'string' },
        },
        skipTypename: true,
        dedupeFragments: true,
      },
    },
  },
}

export default config
