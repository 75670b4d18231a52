/** The VERIFY_* block: off by default in live mode, on in sandbox mode, every bad value named in the one report. */
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../../src/config.js'

const LIVE = { GATEWAY_API_KEYS: 'soc:Hq3xV7ZkP0mLr8TnY2wBcA:read+write', GATEWAY_SECRET: 'x'.repeat(40), NETCRAFT_API_KEY: 'k' }

describe('VERIFY_* configuration', () => {
  it('is off in live mode and on in sandbox mode by default, with the documented defaults', () => {
    expect(loadConfig(LIVE).verify).toMatchObject({
      enabled: false,
      dnsServers: [],
      timeoutMs: 10_000,
      proxyUrl: null,
      signaturesFile: null,
      confirmProbes: 3,
      confirmSpacingMs: 600_000,
      monitorDays: 7,
      onReappear: 'event'
    })
    expect(loadConfig({}).verify.enabled).toBe(true)
  })

  it('reads every setting', () => {
    const v = loadConfig({
      ...LIVE,
      VERIFY_ENABLED: 'true',
      VERIFY_DNS_SERVERS: '9.9.9.9, 1.1.1.1, 127.0.0.1:5353, [::1]:5353',
      VERIFY_CONFIRM_SPACING: '5m',
      VERIFY_ON_REAPPEAR: 'resubmit',
      VERIFY_PROXY_URL: 'http://proxy.internal:3128'
    }).verify
    expect(v).toMatchObject({ enabled: true, dnsServers: ['9.9.9.9', '1.1.1.1', '127.0.0.1:5353', '[::1]:5353'], confirmSpacingMs: 300_000, onReappear: 'resubmit', proxyUrl: 'http://proxy.internal:3128' })
  })

  it('names every bad value', () => {
    let err: unknown
    try {
      loadConfig({ ...LIVE, VERIFY_ENABLED: 'yes', VERIFY_DNS_SERVERS: 'dns.example,10.0.0.1:99999', VERIFY_CONFIRM_SPACING: 'soon', VERIFY_ON_REAPPEAR: 'shout', VERIFY_PROXY_URL: 'socks5://p' })
    } catch (e) { err = e }
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).problems).toEqual(expect.arrayContaining([
      'VERIFY_ENABLED must be true or false (got "yes")',
      'VERIFY_DNS_SERVERS: "dns.example", "10.0.0.1:99999" are not IP addresses (with an optional :port)',
      'VERIFY_CONFIRM_SPACING must be one wait of at least 1s, such as 10m (got "soon")',
      'VERIFY_ON_REAPPEAR must be one of event, reopen, resubmit (got "shout")',
      'VERIFY_PROXY_URL must be an http:// or https:// proxy URL'
    ]))
  })
})
