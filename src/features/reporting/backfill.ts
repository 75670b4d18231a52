/**
 * Backfill: records the milestones of every case the vendors hold that the gateway never recorded (cases created
 * before it watched them, or while nobody recorded). It walks the listing like the export does and records each
 * case as first read now (sequence 0: a case already recorded is left as it is). Only vendor timestamps date the
 * milestones such a case is already past; a provider whose takedown times are on the detail view only (its module's
 * `timesOnDetail` in its module) has its cases read one by one.
 */
import type { CancelSignal } from '../../connectors/deadline.js'
import { mapLimit } from '../../connectors/map-limit.js'
import type { Clock } from '../../clock.js'
import type { Logger } from '../../logger.js'
import type { CaseService } from '../../services/cases.js'
import { caseBatches } from './export.js'
import type { MilestoneRecorder } from './milestones.js'
import { PROVIDER_MODULES } from '../../providers/registry.js'

export async function backfillMilestones (deps: { cases: CaseService, recorder: MilestoneRecorder, clock: Clock }, signal: CancelSignal, log: Logger): Promise<{ cases: number, recorded: number }> {
  let cases = 0
  let recorded = 0
  for await (const page of await caseBatches(deps.cases, {}, signal, log)) {
    await mapLimit(page, 4, async c => {
      const full = PROVIDER_MODULES[c.provider].timesOnDetail === true ? await deps.cases.get(c.id, { raw: false }, signal, log) : c
      const outcome = await deps.recorder.record({
        type: 'case.created',
        occurredAt: null,
        observedAt: new Date(deps.clock.now()).toISOString(),
        observedVia: 'read',
        case: full,
        previous: null,
        sequence: 0
      })
      cases++
      if (outcome === 'recorded') recorded++
    })
  }
  return { cases, recorded }
}
