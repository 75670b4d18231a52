import { Type } from 'typebox'

/** The eleven unified statuses (README 'Cases'), in lifecycle order. One tuple feeds the enum, the types and OpenAPI. */
export const UNIFIED_STATUSES = [
  'received', 'in_review', 'awaiting_customer', 'monitoring', 'in_progress',
  'mitigated', 'taken_down', 'failed', 'cancelled', 'closed', 'unknown'
] as const

export const TERMINAL_STATUSES = ['taken_down', 'failed', 'cancelled', 'closed'] as const satisfies readonly UnifiedStatus[]

export const UnifiedStatusSchema = Type.Enum(UNIFIED_STATUSES, {
  description: 'Gateway-wide case status. `unknown` means the provider sent a status the gateway has no mapping for; `providerStatus` keeps it.'
})
export type UnifiedStatus = (typeof UNIFIED_STATUSES)[number]

const terminal = new Set<string>(TERMINAL_STATUSES)
export function isTerminal (status: UnifiedStatus): boolean {
  return terminal.has(status)
}
export function isUnifiedStatus (value: string): value is UnifiedStatus {
  return (UNIFIED_STATUSES as readonly string[]).includes(value)
}
