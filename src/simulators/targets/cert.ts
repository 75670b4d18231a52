/**
 * A self-signed certificate made at start (ECDSA P-256, X.509 v3, DER written by hand: node:crypto signs and parses
 * certificates but does not build them), so the small internet's HTTPS answers carry real TLS facts: an issuer, an
 * expiry and, to a verifying client, the error of a self-signed chain. Nothing is written to disk.
 */
import { generateKeyPairSync, sign, X509Certificate } from 'node:crypto'

function len (n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

const tlv = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), len(body.length), body])
const seq = (...parts: Buffer[]): Buffer => tlv(0x30, Buffer.concat(parts))

function oid (dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number)
  const out = [40 * a + b]
  for (const n of rest) {
    const groups: number[] = []
    for (let v = n; ; v = Math.floor(v / 128)) { groups.unshift(v % 128); if (v < 128) break }
    out.push(...groups.map((g, i) => i < groups.length - 1 ? g | 0x80 : g))
  }
  return tlv(0x06, Buffer.from(out))
}

/** YYMMDDHHMMSSZ (certificates dated before 2050) */
const utcTime = (ms: number): Buffer => tlv(0x17, Buffer.from(new Date(ms).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'))

const name = (org: string, cn: string): Buffer => seq(
  tlv(0x31, seq(oid('2.5.4.10'), tlv(0x0c, Buffer.from(org)))),
  tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn))))
)

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'))
const DAY = 86_400_000

export interface SelfSigned { key: string, cert: string, issuer: string, validTo: string }

/** A certificate for `hosts` (subjectAltName dNSName entries; `*.x` wildcards allowed), valid from a day before `now` for `days`. */
export function selfSignedCertificate (hosts: readonly string[], now: number, days = 90): SelfSigned {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const org = 'Small Internet (sandbox)'
  const subject = name(org, hosts[0] ?? 'localhost')
  const san = seq(oid('2.5.29.17'), tlv(0x04, seq(...hosts.map(h => tlv(0x82, Buffer.from(h))))))
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, Buffer.from([0x01, ...Buffer.from(now.toString(16).padStart(12, '0'), 'hex')])),
    ECDSA_SHA256,
    subject,
    seq(utcTime(now - DAY), utcTime(now + days * DAY)),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(san))
  )
  const signature = sign('sha256', tbs, privateKey)
  const der = seq(tbs, ECDSA_SHA256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])))
  const cert = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd()}\n-----END CERTIFICATE-----\n`
  const parsed = new X509Certificate(cert)
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert, issuer: `${org} / ${hosts[0] ?? 'localhost'}`, validTo: new Date(parsed.validTo).toISOString() }
}
