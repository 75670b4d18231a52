/**
 * Server-side submit validation, as Cloudflare words it (Cloudflare API schema, SubmitAbuseReport): every failure is a
 * 400 with the BARE `{result:"error", msg, err_code, error_code, request}` shape and one of the documented messages.
 * The `err_code` strings are ours: the real ones are not documented by Cloudflare, treat them as opaque.
 */
import { isIP } from 'node:net'
import { REPORT_ACTS, type ReportAct } from '../../connectors/cloudflare/wire.js'

export interface SubmitFailure { msg: string, code: string }

const SEND = ['send', 'send-anon']
const SEND_NONE = ['send', 'send-anon', 'none']

/** required extra fields and notification enums per act (Cloudflare API schema, SubmitAbuseReport) */
const RULES: Record<ReportAct, { required: string[], host: string[] | null, owner: string[], ncmec: string[] | null, justification: [number, number] | null }> = {
  abuse_dmca: { required: ['address1', 'agent_name', 'agree', 'city', 'country', 'original_work', 'signature', 'state'], host: ['send'], owner: ['send'], ncmec: null, justification: null },
  abuse_trademark: { required: ['justification', 'trademark_number', 'trademark_office', 'trademark_symbol'], host: ['send'], owner: ['send'], ncmec: null, justification: [1, 5000] },
  abuse_general: { required: ['justification'], host: SEND, owner: SEND, ncmec: null, justification: [1, 5000] },
  abuse_phishing: { required: ['justification'], host: SEND, owner: SEND, ncmec: null, justification: [20, 5000] },
  abuse_children: { required: ['justification'], host: SEND, owner: SEND_NONE, ncmec: SEND, justification: [1, 5000] },
  abuse_threat: { required: ['justification'], host: SEND, owner: SEND, ncmec: null, justification: [1, 5000] },
  abuse_registrar_whois: { required: [], host: null, owner: SEND_NONE, ncmec: null, justification: null },
  abuse_ncsei: { required: ['ncsei_subject_representation'], host: SEND, owner: SEND_NONE, ncmec: null, justification: null }
}

const SIZES: Record<string, [number, number]> = {
  name: [1, 255],
  company: [1, 100],
  reported_country: [2, 2],
  reported_user_agent: [1, 255],
  tele: [1, 20],
  title: [1, 255],
  agent_name: [1, 60],
  address1: [1, 100],
  city: [1, 255],
  state: [1, 255],
  country: [1, 255],
  trademark_number: [1, 1000],
  trademark_office: [1, 1000],
  trademark_symbol: [1, 1000]
}

const fail = (msg: string, code: string): SubmitFailure => ({ msg, code })
const present = (v: unknown): boolean => v !== undefined && v !== null && v !== ''

export function isReportAct (value: string): value is ReportAct {
  return (REPORT_ACTS as readonly string[]).includes(value)
}

/** null when the body is acceptable; the first failure otherwise (Cloudflare reports one problem at a time). */
export function validateSubmit (act: ReportAct, body: Record<string, unknown>): SubmitFailure | null {
  if (body.act !== act) return fail('Report has the wrong type', 'wrong_type')
  const rule = RULES[act]
  for (const field of ['email', 'email2', 'name', 'urls', ...rule.required]) {
    if (!present(body[field])) return fail('Missing a required field', 'missing_field')
  }
  if (rule.owner !== null && !present(body.owner_notification)) return fail('Missing a required field', 'missing_field')
  if (rule.host !== null && !present(body.host_notification)) return fail('Missing a required field', 'missing_field')
  if (rule.ncmec !== null && !present(body.ncmec_notification)) return fail('Missing a required field', 'missing_field')
  if (typeof body.email !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(body.email)) return fail('Provided email was invalid', 'invalid_email')
  if (body.email2 !== body.email) return fail('Provided emails did not match', 'email_mismatch')
  for (const [field, [min, max]] of Object.entries(SIZES)) {
    const v = body[field]
    if (v === undefined || v === null) continue
    if (typeof v !== 'string' || v.length < min || v.length > max) return fail('Provided value has invalid size', 'invalid_size')
  }
  if (body.comments !== undefined && body.comments !== null) {
    if (typeof body.comments !== 'string' || body.comments.length > 2000) return fail('Comment maximum length of 2000 characters exceeded', 'comment_too_long')
  }
  if (rule.justification !== null) {
    const j = body.justification
    const [min, max] = rule.justification
    if (typeof j !== 'string' || j.length < min || j.length > max) {
      return fail('Please provide a more detailed description of the infringement between 1 and 5000 characters', 'invalid_justification')
    }
  }
  const notif: Array<[string, string[] | null]> = [['host_notification', rule.host], ['owner_notification', rule.owner], ['ncmec_notification', rule.ncmec]]
  for (const [field, allowed] of notif) {
    const v = body[field]
    if (v === undefined || v === null) continue
    if (allowed === null || typeof v !== 'string' || !allowed.includes(v)) return fail('Invalid value for notification preference', 'invalid_notification')
  }
  if (body.original_work !== undefined && body.original_work !== null) {
    const ow = body.original_work
    if (typeof ow !== 'string' || ow.length < 1 || ow.length > 255) return fail('Original Work section must be between 1 and 2000 characters', 'invalid_original_work')
  }
  if (act === 'abuse_dmca') {
    if (body.agree !== 1) return fail('Must acknowledge that you are bound by 512(f)', 'must_agree')
    if (body.signature !== body.name) return fail('Signature must match your name', 'signature_mismatch')
  }
  if (act === 'abuse_ncsei' && typeof body.ncsei_subject_representation !== 'boolean') return fail('Missing a required field', 'missing_field')
  if (act === 'abuse_registrar_whois' && body.reg_who_request !== undefined) {
    const r = body.reg_who_request as Record<string, unknown> | null
    if (r === null || typeof r !== 'object' || !['disclosure', 'invalid_whois'].includes(r.reg_who_request_type as string) ||
      !Array.isArray(r.reg_who_requested_data_elements) || r.reg_who_requested_data_elements.length === 0 ||
      typeof r.reg_who_legal_basis !== 'string' || r.reg_who_good_faith_affirmation !== true || r.reg_who_lawful_processing_agreement !== true) {
      return fail('Missing a required field', 'missing_field')
    }
  }
  for (const field of ['destination_ips', 'source_ips']) {
    const v = body[field]
    if (v === undefined || v === null) continue
    const ips = typeof v === 'string' ? v.split('\n') : []
    if (ips.length === 0 || ips.length > 30 || new Set(ips).size !== ips.length || ips.some(ip => isIP(ip.trim()) === 0)) {
      return fail('Invalid IP passed to api', 'invalid_ip')
    }
  }
  if (body.ports_protocols !== undefined && body.ports_protocols !== null) {
    const v = body.ports_protocols
    const items = typeof v === 'string' ? v.split(',').map(s => s.trim()) : []
    if (typeof v !== 'string' || v.length > 2000 || items.length > 30 || items.some(p => !/^\d{1,5}\/[A-Za-z]+$/.test(p) || p.length > 100)) {
      return fail('Invalid Port and Protocol passed to api', 'invalid_port_protocol')
    }
  }
  return null
}

/** `urls` is ONE string, URLs separated by `\n`: at most 250, unique, http(s), one hostname (Cloudflare API schema, SubmitAbuseReport). */
export function parseUrls (value: string): { urls: string[], host: string } | SubmitFailure {
  const urls = value.split('\n').map(u => u.trim()).filter(u => u !== '')
  if (urls.length === 0 || urls.length > 250 || new Set(urls).size !== urls.length) return fail('Provided value has invalid size', 'invalid_size')
  const hosts = new Set<string>()
  for (const u of urls) {
    let parsed: URL
    try {
      parsed = new URL(u)
    } catch {
      return fail('Invalid URL', 'invalid_url')
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return fail('Invalid URL scheme', 'invalid_url_scheme')
    if (parsed.hostname === '') return fail('Invalid URL hostname', 'invalid_url_hostname')
    hosts.add(parsed.hostname.toLowerCase())
  }
  if (hosts.size > 1) return fail('More than 1 unique hostname in the URLs', 'multiple_hostnames')
  return { urls, host: [...hosts][0] ?? '' }
}
