import neostandard from 'neostandard'

export default neostandard({ ts: true, ignores: ['dist/**', 'coverage/**', 'bench/results/**', 'test-artifacts/**', 'openapi/client/schema.d.ts'] })
