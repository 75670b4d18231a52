import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'coverage/**', 'bench/results/**', 'openapi/openapi.json'] }),
  {
    rules: {
      '@stylistic/max-len': ['warn', { code: 140, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreComments: true }]
    }
  }
]
