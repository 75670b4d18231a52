/** Case-shaped objects of realistic size for the event-log sections: real canonical cases of the simulators, cloned under new ids. */
import type { FastifyInstance } from 'fastify'
import type { Case } from '../../src/schemas/case.js'
import type { UnifiedStatus } from '../../src/schemas/unified-status.js'
import { AUTH } from './env.js'

/** the statuses a tracked case moves through in the bench; the last is terminal */
export const STEPS: ReadonlyArray<readonly [UnifiedStatus, boolean]> = [['received', false], ['in_progress', false], ['taken_down', true]]

/** up to 100 canonical cases the gateway lists (every provider), as templates */
export async function templates (app: FastifyInstance): Promise<Case[]> {
  const res = await app.inject({ method: 'GET', url: '/v1/cases?limit=100', headers: AUTH })
  if (res.statusCode !== 200) throw new Error(`GET /v1/cases: ${res.statusCode} ${res.body}`)
  const items = res.json<{ items: Case[] }>().items
  if (items.length === 0) throw new Error('the simulators listed no case')
  return items
}

/** case `k` of run `tag` at step `step` of STEPS, shaped like template `k % n` */
export function scaleCase (tpl: readonly Case[], tag: string, k: number, step: number): Case {
  const t = tpl[k % tpl.length] as Case
  const native = `${tag}-${k}`
  const [status, terminal] = STEPS[Math.min(step, STEPS.length - 1)] as readonly [UnifiedStatus, boolean]
  return {
    ...t,
    id: `${t.provider}:${native}`,
    providerCaseId: native,
    status,
    terminal,
    providerStatus: `${status} (${step})`,
    updatedAt: null,
    links: { ...t.links, self: `/v1/cases/${t.provider}:${native}` }
  }
}
