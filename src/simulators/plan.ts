/**
 * The `/__sim/.../plan` control shared by the simulators whose cases move on a timeline: the vendor's own people
 * (analysts, the abuse desk) decide what happens next to a case, which no client API call can ask for. A plan is the
 * list of statuses the case will reach, each `afterMs` from now; it replaces the steps still in the future.
 */
export interface PlanStep<S extends string> { afterMs: number, status: S }

/** The plan in a control request's body, or the reason it is refused (unknown status, negative or unordered times). */
export function parsePlan<S extends string> (body: unknown, statuses: readonly S[]): Array<PlanStep<S>> | string {
  const steps = (body as { steps?: unknown } | null)?.steps
  if (!Array.isArray(steps) || steps.length === 0) return 'steps must be a non-empty array of {afterMs, status}'
  const out: Array<PlanStep<S>> = []
  for (const s of steps as Array<Record<string, unknown> | null>) {
    const afterMs = s?.afterMs
    const status = s?.status
    if (typeof afterMs !== 'number' || !Number.isInteger(afterMs) || afterMs < 0) return 'afterMs must be a whole number of milliseconds, at least 0'
    if (typeof status !== 'string' || !(statuses as readonly string[]).includes(status)) return `status must be one of ${statuses.join(', ')}`
    if (afterMs < (out.at(-1)?.afterMs ?? 0)) return 'steps must be in time order'
    out.push({ afterMs, status: status as S })
  }
  return out
}
