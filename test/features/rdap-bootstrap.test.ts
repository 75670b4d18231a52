import { describe, expect, it } from 'vitest'
import { Bootstrap, readBootstrap, SHIPPED_BOOTSTRAP_DIR } from '../../src/features/targets/rdap/bootstrap.js'
import { eppStatus } from '../../src/features/targets/rdap/parse.js'

describe('RDAP bootstrap (the shipped IANA files)', () => {
  const b = new Bootstrap(readBootstrap(SHIPPED_BOOTSTRAP_DIR))

  it('finds the registry of a TLD and the RIR of an address by the longest prefix', () => {
    expect(b.domainServer('acme-login.com')).toBe('https://rdap.verisign.com/com/v1/')
    expect(b.domainServer('secure.acme.co.uk')).toBe('https://rdap.nominet.uk/uk/')
    expect(b.domainServer('acme.unknown-tld')).toBeNull()
    expect(b.ipServer('8.8.8.8')).toBe('https://rdap.arin.net/registry/')
    expect(b.ipServer('193.0.6.139')).toBe('https://rdap.db.ripe.net/')
    expect(b.ipServer('2a00:1450::1')).toBe('https://rdap.db.ripe.net/')
  })

  it('RDAP status words become EPP codes', () => {
    expect(['client hold', 'server hold', 'pending delete', 'active'].map(eppStatus)).toEqual(['clientHold', 'serverHold', 'pendingDelete', 'active'])
  })
})
