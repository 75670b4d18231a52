/**
 * The port through which the target lookup shows the newest probe of a target's cases: verification fills it when
 * it is on (its store holds each case's probe history), target intelligence reads it. Features never import each
 * other (ADR 0037), so the port lives in the core; empty, it answers null (verification off).
 */
export interface LastProbe {
  caseId: string
  at: string
  outcome: 'live' | 'down' | 'blocked' | 'unknown' | 'unprobeable'
  reason: string
  url: string | null
  finalStatus: number | null
  title: string | null
}

export type LatestProbeOf = (caseId: string) => Promise<LastProbe | null>

export class LastProbePort {
  #latestOf: LatestProbeOf | null = null

  /** verification, when it is on: the newest probe of one case */
  provide (latestOf: LatestProbeOf): void { this.#latestOf = latestOf }

  get enabled (): boolean { return this.#latestOf !== null }

  /** the newest probe over these cases; null when verification is off or none of them was probed */
  async latest (caseIds: readonly string[]): Promise<LastProbe | null> {
    const latestOf = this.#latestOf
    if (latestOf === null || caseIds.length === 0) return null
    const probes = await Promise.all(caseIds.map(async id => await latestOf(id)))
    let newest: LastProbe | null = null
    for (const p of probes) if (p !== null && (newest === null || Date.parse(p.at) > Date.parse(newest.at))) newest = p
    return newest
  }
}
