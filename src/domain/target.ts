/**
 * Edge validation of a create target: one rule per target type, field paths in the errors.
 * Also the normalised form used to look for duplicates.
 */
import { IsEmail, IsHostname, IsIPv4 } from 'typebox/format'
import type { TargetType } from '../schemas/common.js'

const E164 = /^\+[1-9]\d{1,14}$/

export function targetProblem (type: TargetType, value: string): string | null {
  switch (type) {
    case 'url':
    case 'social': {
      if (value.length > 2083) return 'must be at most 2083 characters'
      let u: URL
      try { u = new URL(value) } catch { return 'must be an absolute http(s) URL' }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must use http or https'
      if (u.hostname === '') return 'must have a host'
      return null
    }
    case 'domain': {
      const d = value.replace(/\.$/, '')
      if (d.length > 253 || !d.includes('.') || !IsHostname(d)) return 'must be a domain name such as login-acme.example'
      return null
    }
    case 'email':
      return IsEmail(value) ? null : 'must be an email address'
    case 'phone':
      return E164.test(value) ? null : 'must be an E.164 phone number such as +14155550100'
    case 'ipv4':
      return IsIPv4(value) ? null : 'must be an IPv4 address such as 203.0.113.7'
  }
}

/** The comparable form of a target: lower-case host, no default port, no trailing slash or dot. */
export function normaliseTarget (type: TargetType, value: string): string {
  switch (type) {
    case 'url':
    case 'social': {
      try {
        const u = new URL(value)
        u.hash = ''
        const s = u.toString()
        return s.endsWith('/') && u.search === '' ? s.slice(0, -1) : s
      } catch {
        return value.trim()
      }
    }
    case 'domain': return value.trim().toLowerCase().replace(/\.$/, '')
    case 'email': return value.trim().toLowerCase()
    default: return value.trim()
  }
}
