import { describe, expect, it } from 'vitest'
import { canonicalUrlOf, icannDomainOf, identifyTarget, targetKey } from '../../src/domain/target-identity.js'
import type { TargetType } from '../../src/schemas/common.js'

type Row = [TargetType, string, { host: string | null, hostUnicode?: string, registrableDomain: string | null, publicSuffix: string | null, canonicalUrl: string | null }]

const TABLE: Row[] = [
  // case and default ports
  ['url', 'HTTPS://Login.Example.COM:443/Secure/Path', { host: 'login.example.com', registrableDomain: 'example.com', publicSuffix: 'com', canonicalUrl: 'https://login.example.com/Secure/Path' }],
  ['url', 'http://example.com:80', { host: 'example.com', registrableDomain: 'example.com', publicSuffix: 'com', canonicalUrl: 'http://example.com/' }],
  ['url', 'https://example.com:8443/x', { host: 'example.com', registrableDomain: 'example.com', publicSuffix: 'com', canonicalUrl: 'https://example.com:8443/x' }],
  // fragment and tracking parameters go, meaningful query stays in its order
  ['url', 'https://acme-login.example.net/a?id=7&utm_source=mail&UTM_Campaign=x&gclid=1&fbclid=2&lang=en#top', { host: 'acme-login.example.net', registrableDomain: 'example.net', publicSuffix: 'net', canonicalUrl: 'https://acme-login.example.net/a?id=7&lang=en' }],
  ['url', 'https://example.com/?utm_medium=x', { host: 'example.com', registrableDomain: 'example.com', publicSuffix: 'com', canonicalUrl: 'https://example.com/' }],
  // trailing dots
  ['url', 'https://example.com./login', { host: 'example.com', registrableDomain: 'example.com', publicSuffix: 'com', canonicalUrl: 'https://example.com/login' }],
  ['domain', 'Example.COM.', { host: 'example.com', registrableDomain: 'example.com', publicSuffix: 'com', canonicalUrl: null }],
  // www. kept distinct
  ['domain', 'www.example.com', { host: 'www.example.com', registrableDomain: 'example.com', publicSuffix: 'com', canonicalUrl: null }],
  // IDN: ASCII host, Unicode for display, from either spelling
  ['url', 'https://bücher.example/', { host: 'xn--bcher-kva.example', hostUnicode: 'bücher.example', registrableDomain: 'xn--bcher-kva.example', publicSuffix: 'example', canonicalUrl: 'https://xn--bcher-kva.example/' }],
  ['domain', 'XN--MNCHEN-3YA.de', { host: 'xn--mnchen-3ya.de', hostUnicode: 'münchen.de', registrableDomain: 'xn--mnchen-3ya.de', publicSuffix: 'de', canonicalUrl: null }],
  // public suffixes, ICANN and private
  ['url', 'https://secure.login.acme.co.uk/', { host: 'secure.login.acme.co.uk', registrableDomain: 'acme.co.uk', publicSuffix: 'co.uk', canonicalUrl: 'https://secure.login.acme.co.uk/' }],
  ['url', 'https://acme-support.github.io/login', { host: 'acme-support.github.io', registrableDomain: 'acme-support.github.io', publicSuffix: 'github.io', canonicalUrl: 'https://acme-support.github.io/login' }],
  // IP literals
  ['ipv4', '203.0.113.7', { host: '203.0.113.7', registrableDomain: null, publicSuffix: null, canonicalUrl: null }],
  ['url', 'http://203.0.113.7:8080/panel/', { host: '203.0.113.7', registrableDomain: null, publicSuffix: null, canonicalUrl: 'http://203.0.113.7:8080/panel/' }],
  ['url', 'http://[2001:DB8:0:0::1]/x', { host: '2001:db8::1', registrableDomain: null, publicSuffix: null, canonicalUrl: 'http://[2001:db8::1]/x' }],
  // no host
  ['email', 'Phisher@Example.com', { host: null, registrableDomain: null, publicSuffix: null, canonicalUrl: null }],
  ['phone', '+14155550100', { host: null, registrableDomain: null, publicSuffix: null, canonicalUrl: null }],
  ['url', 'ftp://example.com/x', { host: null, registrableDomain: null, publicSuffix: null, canonicalUrl: null }]
]

describe('target identity', () => {
  it.each(TABLE)('%s %s', (type, value, want) => {
    const got = identifyTarget(type, value)
    expect(got).toMatchObject({ ...want, hostUnicode: want.hostUnicode ?? want.host })
  })

  it('the same page spelled differently has one key; a different path, www. or scheme does not', () => {
    const key = targetKey('url', 'https://Acme-Login.example.net:443/a?utm_source=x#frag')
    expect(targetKey('url', 'https://acme-login.example.net/a')).toBe(key)
    expect(targetKey('url', 'https://acme-login.example.net/a/')).not.toBe(key)
    expect(targetKey('url', 'https://www.acme-login.example.net/a')).not.toBe(key)
    expect(targetKey('url', 'http://acme-login.example.net/a')).not.toBe(key)
    expect(targetKey('domain', 'ACME-login.example.net.')).toBe('acme-login.example.net')
  })

  it('RDAP asks the ICANN registry: private suffixes do not count there', () => {
    expect(icannDomainOf('acme-support.github.io')).toBe('github.io')
    expect(icannDomainOf('a.b.acme.co.uk')).toBe('acme.co.uk')
    expect(icannDomainOf('203.0.113.7')).toBeNull()
  })

  it('a canonical URL keeps repeated and empty meaningful parameters', () => {
    expect(canonicalUrlOf('https://e.com/p?a=1&a=2&b=&utm_term=z')).toBe('https://e.com/p?a=1&a=2&b=')
  })
})

describe('identities are computed once per type and value', () => {
  it('the same target answers the same frozen identity; another type of the same value its own', () => {
    const a = identifyTarget('url', 'https://Login.Example-Bank.test/a')
    expect(identifyTarget('url', 'https://Login.Example-Bank.test/a')).toBe(a)
    expect(Object.isFrozen(a)).toBe(true)
    expect(a.host).toBe('login.example-bank.test')
    const asDomain = identifyTarget('domain', 'https://Login.Example-Bank.test/a')
    expect(asDomain).not.toBe(a)
    expect(asDomain.canonicalUrl).toBeNull()
    expect(identifyTarget('email', 'a@example.test').host).toBeNull()
  })
})
