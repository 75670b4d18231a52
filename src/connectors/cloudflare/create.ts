/**
 * `providerOptions` (camelCase) → the submit body (snake_case) of `POST /accounts/{a}/abuse-reports/{act}`, with the
 * per-type rules of the Cloudflare API schema (SubmitAbuseReport) checked up front so the vendor's one-line errors become
 * field-level 400s. Unknown keys are refused with their path, never dropped.
 */
import { isIP } from 'node:net'
import { GatewayError } from '../../domain/problems.js'
import type { CreateCaseInput, FieldError, PreparedRequest } from '../connector.js'
import { REPORT_ACTS, type ReportAct } from './wire.js'
import { vendorPath } from '../vendor-path.js'

const OPT = '/providerOptions'
const SEND = ['send', 'send-anon'] as const
const SEND_NONE = ['send', 'send-anon', 'none'] as const
const SEND_ONLY = ['send'] as const

type Check =
  | { kind: 'string', min: number, max: number }
  | { kind: 'bool' }
  | { kind: 'agree' }
  | { kind: 'ips' }
  | { kind: 'ports' }
  | { kind: 'regWho' }

/** Per-type fields: camelCase option → wire name and rule. `justification` min length depends on the act. */
const FIELDS: Readonly<Record<string, { wire: string, check: Check }>> = {
  justification: { wire: 'justification', check: { kind: 'string', min: 1, max: 5000 } },
  originalWork: { wire: 'original_work', check: { kind: 'string', min: 1, max: 255 } },
  agentName: { wire: 'agent_name', check: { kind: 'string', min: 1, max: 60 } },
  address1: { wire: 'address1', check: { kind: 'string', min: 1, max: 100 } },
  city: { wire: 'city', check: { kind: 'string', min: 1, max: 255 } },
  state: { wire: 'state', check: { kind: 'string', min: 1, max: 255 } },
  country: { wire: 'country', check: { kind: 'string', min: 1, max: 255 } },
  agree: { wire: 'agree', check: { kind: 'agree' } },
  signature: { wire: 'signature', check: { kind: 'string', min: 1, max: 255 } },
  trademarkNumber: { wire: 'trademark_number', check: { kind: 'string', min: 1, max: 1000 } },
  trademarkOffice: { wire: 'trademark_office', check: { kind: 'string', min: 1, max: 1000 } },
  trademarkSymbol: { wire: 'trademark_symbol', check: { kind: 'string', min: 1, max: 1000 } },
  destinationIps: { wire: 'destination_ips', check: { kind: 'ips' } },
  sourceIps: { wire: 'source_ips', check: { kind: 'ips' } },
  portsProtocols: { wire: 'ports_protocols', check: { kind: 'ports' } },
  ncseiSubjectRepresentation: { wire: 'ncsei_subject_representation', check: { kind: 'bool' } },
  regWhoRequest: { wire: 'reg_who_request', check: { kind: 'regWho' } }
}

/** Base optional fields every type takes. */
const BASE_OPTIONAL: Readonly<Record<string, { wire: string, min: number, max: number }>> = {
  reportedCountry: { wire: 'reported_country', min: 2, max: 2 },
  reportedUserAgent: { wire: 'reported_user_agent', min: 1, max: 255 },
  title: { wire: 'title', min: 1, max: 255 }
}

interface ActRule {
  required: readonly string[]
  optional: readonly string[]
  host: readonly string[] | null
  owner: readonly string[]
  ncmec: readonly string[] | null
  justificationMin: number
}

/** Cloudflare API schema, SubmitAbuseReport "Per-type extra fields"; the notification enums are exact. */
export const ACT_RULES: Readonly<Record<ReportAct, ActRule>> = {
  abuse_dmca: {
    required: ['address1', 'agentName', 'agree', 'city', 'country', 'originalWork', 'signature', 'state'],
    optional: [],
    host: SEND_ONLY,
    owner: SEND_ONLY,
    ncmec: null,
    justificationMin: 1
  },
  abuse_trademark: {
    required: ['justification', 'trademarkNumber', 'trademarkOffice', 'trademarkSymbol'],
    optional: [],
    host: SEND_ONLY,
    owner: SEND_ONLY,
    ncmec: null,
    justificationMin: 1
  },
  abuse_general: {
    required: ['justification'],
    optional: ['destinationIps', 'sourceIps', 'portsProtocols'],
    host: SEND,
    owner: SEND,
    ncmec: null,
    justificationMin: 1
  },
  abuse_phishing: { required: ['justification'], optional: ['originalWork'], host: SEND, owner: SEND, ncmec: null, justificationMin: 20 },
  abuse_children: { required: ['justification'], optional: ['country'], host: SEND, owner: SEND_NONE, ncmec: SEND, justificationMin: 1 },
  abuse_threat: { required: ['justification'], optional: [], host: SEND, owner: SEND, ncmec: null, justificationMin: 1 },
  abuse_registrar_whois: { required: [], optional: ['regWhoRequest'], host: null, owner: SEND_NONE, ncmec: null, justificationMin: 1 },
  abuse_ncsei: { required: ['ncseiSubjectRepresentation'], optional: ['country'], host: SEND, owner: SEND_NONE, ncmec: null, justificationMin: 1 }
}

export const REG_WHO_ELEMENTS = [
  'registrant_name', 'registrant_organization', 'registrant_email', 'registrant_phone', 'registrant_address',
  'registrant_address_country', 'registrant_address_postal_code', 'admin_name', 'admin_organization', 'admin_email',
  'admin_phone', 'admin_address', 'tech_name', 'tech_organization', 'tech_email', 'tech_phone', 'tech_address'
] as const

const KNOWN_OPTIONS = new Set([
  'reportType', 'reporter', 'hostNotification', 'ownerNotification', 'ncmecNotification',
  ...Object.keys(FIELDS), ...Object.keys(BASE_OPTIONAL)
])
const REPORTER_KEYS = new Set(['name', 'email', 'company', 'phone'])
const REG_WHO_KEYS = new Set([
  'requestType', 'requestedDataElements', 'legalBasis', 'goodFaithAffirmation', 'lawfulProcessingAgreement',
  'authorizationStatement', 'requestorType'
])

export const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const PORT_RE = /^\d{1,5}\/[A-Za-z]{2,10}$/

function isRecord (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

class Collector {
  readonly errors: FieldError[] = []
  add (path: string, message: string): void { this.errors.push({ path, message }) }

  string (value: unknown, path: string, min: number, max: number): string | undefined {
    if (typeof value !== 'string') { this.add(path, 'must be a string'); return undefined }
    const len = value.trim().length
    if (len < min || value.length > max) {
      this.add(path, min === max ? `must be exactly ${min} characters` : `must be between ${min} and ${max} characters`)
      return undefined
    }
    return value
  }

  list (value: unknown, path: string): string[] | undefined {
    const items = typeof value === 'string' ? value.split(/[\n,]/).map(s => s.trim()).filter(s => s !== '') : value
    if (!Array.isArray(items) || items.some(i => typeof i !== 'string')) {
      this.add(path, 'must be an array of strings')
      return undefined
    }
    return (items as string[]).map(s => s.trim())
  }
}

/** The urls field: the target as one string; a domain becomes `https://<domain>/`. */
function targetUrl (input: CreateCaseInput, c: Collector): string | null {
  const value = input.target.value.trim()
  const url = input.target.type === 'domain' ? `https://${value.replace(/\.$/, '')}/` : value
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    c.add('/target/value', input.target.type === 'domain' ? 'must be a domain name' : 'must be an http or https URL')
    return null
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    c.add('/target/value', 'must be an http or https URL')
    return null
  }
  return url
}

function checkField (name: string, value: unknown, check: Check, rule: ActRule, c: Collector, body: Record<string, unknown>, wire: string): void {
  const path = `${OPT}/${name}`
  switch (check.kind) {
    case 'string': {
      const min = name === 'justification' ? rule.justificationMin : check.min
      const s = c.string(value, path, min, check.max)
      if (s !== undefined) body[wire] = s
      return
    }
    case 'bool':
      if (typeof value !== 'boolean') c.add(path, 'must be a boolean')
      else body[wire] = value
      return
    case 'agree':
      // Cloudflare API schema, SubmitAbuseReport: integer, must be 1 (the 512(f) acknowledgement)
      if (value !== 1 && value !== true) c.add(path, 'must be 1 (or true): the 512(f) acknowledgement')
      else body[wire] = 1
      return
    case 'ips': {
      const ips = c.list(value, path)
      if (ips === undefined) return
      if (ips.length === 0 || ips.length > 30) c.add(path, 'must hold 1 to 30 IP addresses')
      else if (new Set(ips).size !== ips.length) c.add(path, 'must not repeat an IP address')
      else if (ips.some(ip => isIP(ip) === 0)) c.add(path, 'must hold valid IPv4 or IPv6 addresses')
      else body[wire] = ips.join('\n')
      return
    }
    case 'ports': {
      const ports = c.list(value, path)
      if (ports === undefined) return
      const joined = ports.join(', ')
      if (ports.length === 0 || ports.length > 30) c.add(path, 'must hold 1 to 30 port/protocol pairs')
      else if (new Set(ports.map(p => p.toUpperCase())).size !== ports.length) c.add(path, 'must not repeat a port/protocol pair')
      else if (ports.some(p => p.length > 100 || !PORT_RE.test(p))) c.add(path, 'each entry must look like 80/TCP')
      else if (joined.length > 2000) c.add(path, 'must be at most 2000 characters in total')
      else body[wire] = joined
      return
    }
    case 'regWho': {
      const out = regWho(value, path, c)
      if (out !== undefined) body[wire] = out
    }
  }
}

function regWho (value: unknown, path: string, c: Collector): Record<string, unknown> | undefined {
  if (!isRecord(value)) { c.add(path, 'must be an object'); return undefined }
  const before = c.errors.length
  for (const key of Object.keys(value)) if (!REG_WHO_KEYS.has(key)) c.add(`${path}/${key}`, 'unknown field')
  const out: Record<string, unknown> = {}
  if (value.requestType !== 'disclosure' && value.requestType !== 'invalid_whois') {
    c.add(`${path}/requestType`, 'must be disclosure or invalid_whois')
  } else out.reg_who_request_type = value.requestType
  const elements = value.requestedDataElements
  if (!Array.isArray(elements) || elements.length < 1 || elements.length > 17 ||
    elements.some(e => !(REG_WHO_ELEMENTS as readonly unknown[]).includes(e))) {
    c.add(`${path}/requestedDataElements`, `must be 1 to 17 of ${REG_WHO_ELEMENTS.join(', ')}`)
  } else out.reg_who_requested_data_elements = elements
  const basis = c.string(value.legalBasis, `${path}/legalBasis`, 1, 5000)
  if (basis !== undefined) out.reg_who_legal_basis = basis
  if (value.goodFaithAffirmation !== true) c.add(`${path}/goodFaithAffirmation`, 'must be true')
  else out.reg_who_good_faith_affirmation = true
  if (value.lawfulProcessingAgreement !== true) c.add(`${path}/lawfulProcessingAgreement`, 'must be true')
  else out.reg_who_lawful_processing_agreement = true
  if (value.authorizationStatement !== undefined && value.authorizationStatement !== null) {
    const s = c.string(value.authorizationStatement, `${path}/authorizationStatement`, 1, 5000)
    if (s !== undefined) out.reg_who_authorization_statement = s
  }
  if (value.requestorType !== undefined && value.requestorType !== null) {
    if (!['government', 'corporation', 'individual'].includes(value.requestorType as string)) {
      c.add(`${path}/requestorType`, 'must be government, corporation or individual')
    } else out.reg_who_requestor_type = value.requestorType
  }
  return c.errors.length === before ? out : undefined
}

function notification (name: string, value: unknown, allowed: readonly string[] | null, act: ReportAct, c: Collector, body: Record<string, unknown>, wire: string): void {
  const path = `${OPT}/${name}`
  if (allowed === null) {
    if (value !== undefined && value !== null) c.add(path, `not used by ${act}`)
    return
  }
  // default `send`: every type that has the preference accepts it (Cloudflare API schema, SubmitAbuseReport)
  const v = value === undefined || value === null ? 'send' : value
  if (typeof v !== 'string' || !allowed.includes(v)) c.add(path, `must be one of ${allowed.join(', ')} for ${act}`)
  else body[wire] = v
}

/**
 * Validates a create for Cloudflare and builds the exact submit request. Throws GW_ERR_UNSUPPORTED for what
 * Cloudflare cannot do and GW_ERR_VALIDATION with every field error at once.
 */
export function prepareSubmit (input: CreateCaseInput, accountId: string): PreparedRequest {
  if (input.action !== 'takedown') {
    throw new GatewayError('GW_ERR_UNSUPPORTED', `cloudflare cannot ${input.action}: abuse reports are takedown requests only`, { provider: 'cloudflare' })
  }
  if (input.target.type !== 'url' && input.target.type !== 'domain') {
    throw new GatewayError('GW_ERR_UNSUPPORTED', `cloudflare abuse reports take url or domain targets, not ${input.target.type}`, { provider: 'cloudflare' })
  }
  if (input.attachments.length > 0) {
    throw new GatewayError('GW_ERR_UNSUPPORTED', 'cloudflare abuse reports take no attachments', { provider: 'cloudflare' })
  }
  const c = new Collector()
  const opts = input.providerOptions
  for (const key of Object.keys(opts)) if (!KNOWN_OPTIONS.has(key)) c.add(`${OPT}/${key}`, 'unknown field for cloudflare')

  const actValue = opts.reportType ?? 'abuse_phishing'
  if (typeof actValue !== 'string' || !(REPORT_ACTS as readonly string[]).includes(actValue)) {
    c.add(`${OPT}/reportType`, `must be one of ${REPORT_ACTS.join(', ')}`)
    throw invalidReport(c.errors)
  }
  const act = actValue as ReportAct
  const rule = ACT_RULES[act]
  const body: Record<string, unknown> = { act }

  // reporter → name, email, email2, company, tele
  const reporter = opts.reporter
  if (!isRecord(reporter)) {
    c.add(`${OPT}/reporter`, 'required: an object with name and email')
  } else {
    for (const key of Object.keys(reporter)) if (!REPORTER_KEYS.has(key)) c.add(`${OPT}/reporter/${key}`, 'unknown field')
    const name = c.string(reporter.name, `${OPT}/reporter/name`, 1, 255)
    if (name !== undefined) body.name = name
    const email = reporter.email ?? input.reportedBy
    if (typeof email !== 'string' || !EMAIL_RE.test(email)) c.add(`${OPT}/reporter/email`, 'required: a valid email address')
    else { body.email = email; body.email2 = email }
    if (reporter.company !== undefined && reporter.company !== null) {
      const company = c.string(reporter.company, `${OPT}/reporter/company`, 1, 100)
      if (company !== undefined) body.company = company
    }
    if (reporter.phone !== undefined && reporter.phone !== null) {
      const tele = c.string(reporter.phone, `${OPT}/reporter/phone`, 1, 20)
      if (tele !== undefined) body.tele = tele
    }
  }

  const urls = targetUrl(input, c)
  if (urls !== null) body.urls = urls

  if (input.comment !== null && input.comment !== '') {
    const comments = c.string(input.comment, '/comment', 1, 2000)
    if (comments !== undefined) body.comments = comments
  }

  for (const [name, spec] of Object.entries(BASE_OPTIONAL)) {
    const value = opts[name]
    if (value === undefined || value === null) continue
    const s = c.string(value, `${OPT}/${name}`, spec.min, spec.max)
    if (s !== undefined) body[spec.wire] = s
  }

  notification('hostNotification', opts.hostNotification, rule.host, act, c, body, 'host_notification')
  notification('ownerNotification', opts.ownerNotification, rule.owner, act, c, body, 'owner_notification')
  notification('ncmecNotification', opts.ncmecNotification, rule.ncmec, act, c, body, 'ncmec_notification')

  // phishing: the targeted brand defaults to the case's brand name
  const values: Record<string, unknown> = { ...opts }
  if (act === 'abuse_phishing' && (values.originalWork === undefined || values.originalWork === null) && input.brand.name !== null) {
    values.originalWork = input.brand.name
  }
  for (const [name, spec] of Object.entries(FIELDS)) {
    const value = values[name]
    const required = rule.required.includes(name)
    const allowed = required || rule.optional.includes(name)
    if (value === undefined || value === null) {
      if (required) c.add(`${OPT}/${name}`, `required for ${act}`)
      continue
    }
    if (!allowed) { c.add(`${OPT}/${name}`, `not used by ${act}`); continue }
    checkField(name, value, spec.check, rule, c, body, spec.wire)
  }
  if (act === 'abuse_dmca' && typeof body.signature === 'string' && typeof body.name === 'string' && body.signature !== body.name) {
    c.add(`${OPT}/signature`, 'must equal reporter.name')
  }

  if (c.errors.length > 0) {
    throw invalidReport(c.errors)
  }
  return {
    method: 'POST',
    path: vendorPath`/accounts/${accountId}/abuse-reports/${act}`,
    contentType: 'application/json',
    body,
    files: []
  }
}

/** The first reason in the detail, all of them in `errors`. */
function invalidReport (errors: Array<{ path: string, message: string }>): GatewayError {
  const [first] = errors
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more in errors)` : ''
  return new GatewayError('GW_ERR_VALIDATION', `The Cloudflare abuse report is invalid: ${first === undefined ? 'see errors' : `${first.path} ${first.message}`}${more}`, { errors, provider: 'cloudflare' })
}
