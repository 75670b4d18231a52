/**
 * The query every analytics report shares: a `from`/`to` window, providers, a target type and the `groupBy`
 * dimensions the report allows. Bad dimensions and an empty window are 400 problems naming the field.
 */
import { GatewayError } from '../domain/problems.js'
import { TARGET_TYPES, type TargetType } from '../schemas/common.js'
import { PROVIDER_IDS } from '../schemas/provider.js'
import { csv, providerList } from './cases.js'

export interface AnalyticsQuery { from?: string, to?: string, provider?: string, targetType?: TargetType, groupBy?: string }

export interface AnalyticsWindow<D extends string> {
  from: number | null
  to: number | null
  providers: string[]
  /** the target type's index in TARGET_TYPES (the rows' encoding), null for all */
  targetType: number | null
  groupBy: Set<D>
}

export function parseAnalyticsQuery<D extends string> (q: AnalyticsQuery, allowed: readonly D[]): AnalyticsWindow<D> {
  const providers: string[] = q.provider === undefined ? [] : providerList(q.provider)
  const dims = q.groupBy === undefined ? [] : csv(q.groupBy)
  const bad = dims.filter(d => !(allowed as readonly string[]).includes(d))
  if (bad.length > 0) {
    throw new GatewayError('GW_ERR_VALIDATION', `Unknown groupBy ${bad.join(', ')}; allowed: ${allowed.join(', ')}`, {
      errors: [{ path: '/groupBy', message: `must be a comma-separated list of ${allowed.join(', ')}` }],
      allowed: [...allowed]
    })
  }
  const from = q.from === undefined ? null : Date.parse(q.from)
  const to = q.to === undefined ? null : Date.parse(q.to)
  if (from !== null && to !== null && from >= to) {
    throw new GatewayError('GW_ERR_VALIDATION', '`from` must be before `to`', { errors: [{ path: '/from', message: 'must be before to' }] })
  }
  return {
    from,
    to,
    providers: providers.length === 0 ? [...PROVIDER_IDS] : providers,
    targetType: q.targetType === undefined ? null : TARGET_TYPES.indexOf(q.targetType),
    groupBy: new Set(dims as D[])
  }
}
