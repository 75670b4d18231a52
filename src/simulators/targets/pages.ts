/**
 * The pages of the small internet: a phishing kit per host (stable text, with the cosmetic churn real kits have: a
 * date, a session token, a visitor count, letter case and hyphens, styles, scripts and markup, all of which the
 * similarity fingerprint reads past), and what a taken-down site shows instead, written the way registrars, hosting
 * panels, parking services, Cloudflare and browsers word them. Each dead page is one the gateway's shipped signatures
 * recognise (test/simulators/small-internet.test.ts classifies every one).
 */
import { hash, type DeadPage } from './fates.js'

const BRANDS = ['Acme Bank', 'Globex Pay', 'Initech Mail', 'Umbrella Cloud', 'Example Wallet']

/** A landing host the `suspension_redirect` page sends its visitors to (off-site, as registrars do). */
export const SUSPENSION_LANDING = 'suspended-domain.example'

const esc = (s: string): string => s.replace(/[&<>"]/g, c => `&#${c.charCodeAt(0)};`)

/** The kit on `host`; `n` (the request count) and `now` only move cosmetic parts: the words that change hold digits. */
export function phishingPage (host: string, n: number, now: number): string {
  const brand = BRANDS[hash(`brand:${host}`) % BRANDS.length] as string
  const token = `${(hash(`${host}:${n}`) % 1_000_000).toString().padStart(6, '0')}x${n}`
  return `<!doctype html><html><head><title>${brand} | Sign in</title>` +
    `<style>.v${n % 5}{color:#0${n % 10}3}</style><script>window.sid="${token}"</script></head>` +
    `<body class="v${n % 5}"><header><h1>${brand} online banking</h1></header>` +
    '<p>Welcome back. Please sign in to continue to your account and review your recent activity, your statements and your saved payees.</p>' +
    `<form method="post" action="/session/${token}"><label>Customer number</label><input name="user">` +
    '<label>Password</label><input type="password" name="pass"><label>One-time code sent to your phone</label><input name="otp">' +
    `<input type="hidden" name="csrf" value="${token}"><button>${n % 2 === 0 ? 'SIGN IN SECURELY' : 'Sign in securely'}</button></form>` +
    '<p>For your protection we will never ask you to share your password with anyone. Forgot your customer number? Contact support.</p>' +
    `<footer><p>Session ${token} started ${new Date(now).toISOString()} for ${esc(host)}</p><p>Protected by ${n % 3 === 0 ? 'industry-standard' : 'industry standard'} encryption. ${1000 + hash(`online:${n}`) % 9000} customers online.</p></footer></body></html>`
}

export interface Answer { status: number, headers?: Record<string, string>, body: string }

const html = (status: number, title: string, body: string): Answer =>
  ({ status, headers: { 'content-type': 'text/html; charset=utf-8' }, body: `<!doctype html><html><head><title>${title}</title></head><body>${body}</body></html>` })

/** What a down host answers over HTTP (`nxdomain` and `refused` never get here: nothing answers for them). */
export function deadAnswer (page: Exclude<DeadPage, 'nxdomain' | 'refused'>, host: string): Answer {
  const h = esc(host)
  switch (page) {
    case 'not_found': return html(404, '404 Not Found', '<h1>Not Found</h1><p>The requested URL was not found on this server.</p><hr><address>Apache Server</address>')
    case 'registrar_suspended': return html(200, 'Domain Suspended', `<h1>${h}</h1><p>This domain has been suspended by the registrar for violation of the abuse policy.</p><p>If you are the registrant, contact your registrar.</p>`)
    case 'hosting_suspended': return html(200, 'Account Suspended', '<h1>This Account has been suspended.</h1><p>Contact your hosting provider for more information.</p>')
    case 'suspension_redirect': return { status: 302, headers: { location: `https://${SUSPENSION_LANDING}/?d=${encodeURIComponent(host)}` }, body: '' }
    case 'parked': return html(200, h, `<h1>${h}</h1><p>This domain may be for sale! Make an offer today.</p><p>Related searches: online banking login, secure payments, account verification</p>`)
    case 'site_not_found': return html(200, 'Site not found', '<h1>Site not found</h1><p>The site you were looking for could not be found. It may have been removed by its owner or the platform.</p>')
    case 'provider_interstitial': return html(403, 'Suspected phishing site | Cloudflare', '<h1>Warning: Suspected Phishing Site Ahead!</h1><p>This website has been reported for potential phishing.</p><p>Ignore and proceed at your own risk.</p><p>Performance &amp; security by Cloudflare</p>')
    case 'browser_warning': return html(200, 'Deceptive site ahead', `<h1>Deceptive site ahead</h1><p>Attackers on ${h} may trick you into doing something dangerous like installing software or revealing your personal information.</p>`)
  }
}

/** The registrar's landing page the suspension redirect ends on. */
export function landingAnswer (): Answer {
  return html(200, 'Suspended', '<h1>This site is not available</h1><p>The domain you tried to reach is not available at the moment.</p>')
}
