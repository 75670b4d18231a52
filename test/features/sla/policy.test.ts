/**
 * Service-level policies as data: ISO 8601 durations, the whole file checked at start (a typo is a line of the one
 * configuration report naming the rule and the field), the first matching rule wins, and the pure evaluator's states
 * and action times against a manual clock.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../../src/clock.js'
import { ConfigError, loadConfig } from '../../../src/config.js'
import { checkPolicy, parseDuration, ruleFor, SANDBOX_SLA_POLICY, type SlaRule } from '../../../src/domain/sla-policy.js'
import { evaluate, type SlaFacts } from '../../../src/features/sla/evaluate.js'
import { killAll, spawnGateway } from '../../support/gateway-process.js'

afterAll(async () => { await killAll() })

const dir = mkdtempSync(join(tmpdir(), 'sla-policy-'))
function file (doc: unknown): string {
  const path = join(dir, `p-${Math.random().toString(36).slice(2)}.json`)
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc))
  return path
}
function problems (env: Record<string, string>): string[] {
  try { loadConfig({ SANDBOX: 'true', ...env }) } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as ConfigError).problems
  }
  return []
}

const H = 3_600_000
const rule = (over: Partial<Record<string, unknown>> = {}): SlaRule => {
  const { policy, problems } = checkPolicy({ rules: [{ id: 'r', firstActionWithin: 'PT1H', downWithin: 'PT24H', warnBefore: 'PT30M', escalateAfter: 'PT12H', failoverAfter: 'P1D', ...over }] }, 'test')
  expect(problems).toEqual([])
  return policy.rules[0] as SlaRule
}

describe('durations', () => {
  it('reads weeks, days, hours, minutes and seconds; refuses years, months, zero and junk', () => {
    expect(parseDuration('PT24H')).toBe(24 * H)
    expect(parseDuration('P2D')).toBe(48 * H)
    expect(parseDuration('P1DT12H30M')).toBe(36.5 * H)
    expect(parseDuration('P1W')).toBe(7 * 24 * H)
    expect(parseDuration('PT90S')).toBe(90_000)
    for (const bad of ['P1Y', 'P1M', 'PT0S', 'P', 'PT', '24h', 'P1DT', '']) expect(parseDuration(bad), bad).toBeNull()
  })
})

describe('SLA_POLICY_FILE', () => {
  it('a typo stops the start with the configuration report naming the rule and the field', () => {
    const path = file({ rules: [{ id: 'urls', match: { provider: 'netcraf' }, firstActionWithin: 'PT24H', downWithin: 'P2X', escalateAftr: 'PT1H' }] })
    const p = problems({ SLA_POLICY_FILE: path })
    expect(p).toContain(`SLA_POLICY_FILE ${path}: rules[0] ("urls").match.provider: unknown provider "netcraf" (allowed: bforeai, phishfort, cloudflare, netcraft, webrisk)`)
    expect(p.some(l => l.includes('rules[0] ("urls").downWithin: "P2X" is not an ISO 8601 duration'))).toBe(true)
    expect(p.some(l => l.includes('rules[0]: unknown field "escalateAftr"'))).toBe(true)
    expect(problems({ SLA_POLICY_FILE: file('{"rules": [') })[0]).toMatch(/^SLA_POLICY_FILE: ".*" cannot be read as JSON/)
    expect(problems({ SLA_POLICY_FILE: join(dir, 'missing.json') })[0]).toMatch(/cannot be read as JSON/)
    expect(problems({ SLA_POLICY_FILE: file({ rules: [{ id: 'x', match: { targetType: 'fax' } }] }) }).join('\n'))
      .toMatch(/unknown targetType "fax"[\s\S]*needs firstActionWithin or downWithin/)
  })

  it('a gateway process given a policy file with a typo does not start: exit 78 (EX_CONFIG), the report names the rule and the field', async () => {
    const path = file({ rules: [{ id: 'urls', match: { provider: 'phishfrot' }, downWithin: 'P2D' }] })
    const gw = spawnGateway({ SANDBOX: 'true', LOG_LEVEL: 'silent', HOST: '127.0.0.1', PORT: '0', SLA_POLICY_FILE: path })
    expect(await gw.exited).toBe(78)
    expect(gw.stderr.join('')).toContain(`SLA_POLICY_FILE ${path}: rules[0] ("urls").match.provider: unknown provider "phishfrot"`)
  }, 30_000)

  it('a valid file is read into the configuration; `none` turns service levels off; sandbox mode has its default', () => {
    const path = file({ rules: [{ id: 'a', match: { provider: ['netcraft'], targetType: 'url' }, downWithin: 'P2D', dryRun: true }] })
    const c = loadConfig({ SANDBOX: 'true', SLA_POLICY_FILE: path })
    expect(c.sla.policy.origin).toBe(path)
    expect(c.sla.policy.rules.map(r => [r.id, r.downWithinMs, r.dryRun])).toEqual([['a', 48 * H, true]])
    expect(loadConfig({ SANDBOX: 'true', SLA_POLICY_FILE: 'none' }).sla.policy.rules).toEqual([])
    expect(loadConfig({ SANDBOX: 'true' }).sla.policy).toBe(SANDBOX_SLA_POLICY)
    expect(SANDBOX_SLA_POLICY.rules.length).toBeGreaterThan(0)
  })

  it('the first rule that matches applies, in file order', () => {
    const { policy } = checkPolicy({
      rules: [
        { id: 'acme-netcraft', match: { provider: 'netcraft', brand: 'Acme Bank' }, downWithin: 'PT4H' },
        { id: 'netcraft', match: { provider: 'netcraft' }, downWithin: 'PT8H' },
        { id: 'phishing', match: { threatClass: ['phishing'] }, downWithin: 'P1D' },
        { id: 'rest', downWithin: 'P2D' }
      ]
    }, 'test')
    const s = (provider: string, brand: string | null, threatClass: string | null = null): string | undefined =>
      ruleFor(policy, { provider, targetType: 'url', threatClass, brand: { id: null, name: brand } })?.id
    expect(s('netcraft', 'acme bank')).toBe('acme-netcraft')
    expect(s('netcraft', 'Other')).toBe('netcraft')
    expect(s('phishfort', null, 'Phishing')).toBe('phishing')
    expect(s('phishfort', null)).toBe('rest')
    expect(ruleFor(checkPolicy({ rules: [{ id: 'only', match: { provider: 'netcraft' }, downWithin: 'P1D' }] }, 't').policy, { provider: 'bforeai', targetType: 'url', threatClass: null, brand: { id: null, name: null } })).toBeNull()
  })
})

describe('evaluate', () => {
  const clock = new ManualClock(Date.parse('2026-03-02T00:00:00.000Z'))
  const created = clock.now()
  const facts = (over: Partial<SlaFacts> = {}): SlaFacts => ({
    caseId: 'netcraft:1',
    provider: 'netcraft',
    target: { type: 'url', value: 'https://x.example/' },
    threatClass: null,
    brand: { id: null, name: null },
    createdAt: created,
    status: 'received',
    terminal: false,
    firstActionAt: null,
    downAt: null,
    ...over
  })

  it('on track, then at risk within warnBefore, then breached at the first-action due time', () => {
    const r = rule()
    const at = (ms: number): ReturnType<typeof evaluate> => evaluate(r, facts(), created + ms)
    expect(at(0)).toMatchObject({ policy: 'r', state: 'on_track', firstActionDueAt: created + H, downDueAt: created + 24 * H, breachedAt: null })
    expect(at(0).actions).toEqual([
      { kind: 'warn-first', at: created + H / 2 }, { kind: 'breach-first', at: created + H }, { kind: 'escalate', at: created + 12 * H },
      { kind: 'warn-down', at: created + 23.5 * H }, { kind: 'breach-down', at: created + 24 * H }, { kind: 'failover', at: created + 24 * H }
    ])
    expect(evaluate(rule({ warnBefore: 'PT10M' }), facts(), created + 51 * 60_000).state).toBe('at_risk')
    expect(evaluate(rule({ warnBefore: 'PT10M' }), facts(), created + 40 * 60_000).state).toBe('on_track')
    expect(at(H)).toMatchObject({ state: 'breached', breachedAt: created + H })
  })

  it('a target down in time is met, and has no actions left; a late one is breached at the due time', () => {
    const met = evaluate(rule(), facts({ firstActionAt: created + 30 * 60_000, downAt: created + 20 * H, status: 'taken_down', terminal: true }), created + 30 * H)
    expect(met).toMatchObject({ state: 'met', breachedAt: null, actions: [] })
    const late = evaluate(rule(), facts({ firstActionAt: created + 30 * 60_000, downAt: created + 25 * H }), created + 30 * H)
    expect(late).toMatchObject({ state: 'breached', breachedAt: created + 24 * H })
    // the first action came late, the target went down in time: breached at the first due time
    expect(evaluate(rule(), facts({ firstActionAt: created + 2 * H, downAt: created + 3 * H }), created + 4 * H)).toMatchObject({ state: 'breached', breachedAt: created + H })
  })

  it('a terminal case without a takedown gets no warnings, escalation or failover, and still breaches', () => {
    const e = evaluate(rule(), facts({ firstActionAt: created + 60_000, status: 'failed', terminal: true }), created + 2 * H)
    expect(e.actions.map(a => a.kind)).toEqual(['breach-down'])
    expect(evaluate(rule(), facts({ firstActionAt: created + 60_000, status: 'failed', terminal: true }), created + 25 * H).state).toBe('breached')
  })
})
