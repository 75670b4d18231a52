/** Cases: the merged listing and one case's detail (reads), create, cancel, comments and evidence (writes). */
import type { FastifyInstance } from 'fastify'
import type { Core } from '../../core/core.js'
import { caseReadRoutes } from './read-routes.js'
import { caseWriteRoutes } from './write-routes.js'

export async function casesFeature (app: FastifyInstance, { core }: { core: Core }): Promise<void> {
  await app.register(caseReadRoutes, { cases: core.cases })
  await app.register(caseWriteRoutes, { writes: core.writes, idempotency: core.idempotency })
}
