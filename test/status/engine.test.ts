import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { STATUS_TABLES } from '../../src/providers/registry.js'
import { StatusEngine } from '../../src/status/engine.js'
import { loadStatusOverrides } from '../../src/status/overrides.js'
import { normaliseStatusName } from '../../src/status/table.js'
import { auth, testGateway } from '../support/app.js'

function file (content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'status-map-')), 'map.json')
  writeFileSync(path, content)
  return path
}

describe('status engine', () => {
  it('normalises names across case and separators', () => {
    expect(normaliseStatusName('Takedown_In-Progress ')).toBe(normaliseStatusName('takedown in progress'))
  })

  it('STATUS_MAP_FILE entries override and extend the tables; unmapped values are unknown and reported', () => {
    const problems: string[] = []
    const overrides = loadStatusOverrides(file(JSON.stringify({ bforeai: { 'Escalated to Partner': 'in_progress' }, phishfort: { closed: 'cancelled' } })), problems)
    expect(problems).toEqual([])
    const seen: string[] = []
    const engine = new StatusEngine(STATUS_TABLES, overrides, (p, s) => seen.push(`${p}:${s}`))
    expect(engine.map('bforeai', 'escalated_to_partner')).toEqual({ status: 'in_progress', terminal: false })
    expect(engine.map('phishfort', 'closed')).toEqual({ status: 'cancelled', terminal: true })
    expect(engine.map('phishfort', 'takedown_success')).toEqual({ status: 'taken_down', terminal: true })
    expect(engine.map('phishfort', 'brand_new_status')).toEqual({ status: 'unknown', terminal: false })
    expect(seen).toEqual(['phishfort:brand_new_status'])
  })

  it('a malformed STATUS_MAP_FILE is a configuration problem that names the entry and the allowed values', () => {
    const problemsOf = (path: string): string[] => { const found: string[] = []; loadStatusOverrides(path, found); return found }
    expect(problemsOf(file('{not json'))).toEqual([expect.stringMatching(/^STATUS_MAP_FILE .+: is not valid JSON/)])
    expect(problemsOf('/nonexistent/status-map.json')).toEqual(['STATUS_MAP_FILE /nonexistent/status-map.json: no such file'])
    const typo = problemsOf(file(JSON.stringify({ phishfort: { closed: 'cancelld' } })))
    expect(typo).toHaveLength(1)
    expect(typo[0]).toMatch(/phishfort "closed" maps to "cancelld", which is not a unified status \(allowed: received, .*cancelled, closed, unknown\)/)
    expect(problemsOf(file(JSON.stringify({ nosuch: {} })))[0]).toMatch(/unknown provider "nosuch" \(allowed: bforeai, phishfort, cloudflare/)
  })

  it('in the running gateway, an unmapped vendor status is listed as unknown with its vendor word kept, and counted', async () => {
    const gw = await testGateway()
    try {
      const res = await gw.app.inject({ url: '/v1/cases?provider=bforeai&status=unknown&limit=100', headers: auth() })
      const items = res.json().items as Array<{ status: string, providerStatus: string }>
      expect(items.length).toBeGreaterThan(0)
      for (const c of items) expect(c.providerStatus).toBe('Escalated to Partner')
      expect(gw.app.unknownStatuses.get('bforeai:Escalated to Partner')).toBeGreaterThan(0)
    } finally {
      await gw.close()
    }
  })
})
