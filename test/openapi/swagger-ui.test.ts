/**
 * Swagger UI at /docs, served from the package (no CDN), in a real headless Chromium: it lists the operations, and
 * "Try it out" on GET /v1/cases with the `sandbox` key (Authorize dialog) answers 200. Only loopback: every request
 * the page makes to anything but the gateway is refused and fails the test. A screenshot is saved to
 * test-artifacts/swagger-ui.png. Skipped, saying so, where /usr/bin/chromium is missing (`apt-get install chromium`).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listenSandboxGateway, type ListeningGateway } from '../support/sandbox-gateway.js'

const CHROMIUM = '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
const SCREENSHOT = fileURLToPath(new URL('../../test-artifacts/swagger-ui.png', import.meta.url))

describe('Swagger UI at /docs', () => {
  let gw: ListeningGateway
  let context: BrowserContext
  let profile: string
  const offLoopback: string[] = []

  beforeAll(async () => {
    gw = await listenSandboxGateway()
    if (!hasChromium) return
    profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'))
    // a persistent context is how Playwright takes a fresh --user-data-dir
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 1600 }
    })
    await context.route('**/*', async (route) => {
      const url = route.request().url()
      if (url.startsWith(`${gw.origin}/`) || url.startsWith('data:')) return await route.continue()
      offLoopback.push(url)
      return await route.abort()
    })
  }, 60_000)
  afterAll(async () => {
    await context?.close()
    await gw?.close()
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true })
  })

  it('serves the UI from the package: the page and its CSP reference only local assets', async () => {
    const res = await fetch(`${gw.origin}/docs`)
    expect(res.status).toBe(200)
    const html = await res.text()
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map(m => m[1] ?? '')
    expect(refs.length).toBeGreaterThanOrEqual(5)
    for (const ref of refs) expect(ref, ref).toMatch(/^(\.\/|\/docs\/)static\//)
    expect(html).not.toMatch(/https?:\/\//)
    // and the browser is told so: only 'self' (and inline data:), nothing upgraded to https
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'self'")
    expect(csp).not.toMatch(/https:|validator\.swagger\.io|upgrade-insecure-requests/)
  })

  it.skipIf(!hasChromium)(hasChromium
    ? 'lists the operations and runs "Try it out" on GET /v1/cases with the sandbox key (Chromium)'
    : `lists the operations and runs "Try it out" (skipped: ${CHROMIUM} not found; apt-get install chromium)`, async () => {
    const page = await context.newPage()
    await page.goto(`${gw.origin}/docs`)
    await page.locator('.opblock').first().waitFor({ timeout: 20_000 })

    const summaries = await page.locator('.opblock .opblock-summary-path').allInnerTexts()
    const doc = await (await fetch(`${gw.origin}/openapi.json`)).json() as { paths: Record<string, object> }
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map(() => path))
    expect(summaries.map(s => s.replace(/\u200b/g, '').trim()).sort()).toEqual(documented.sort())
    await expect.poll(async () => await page.locator('#operations-Cases-listCases').count()).toBe(1)

    // Authorize dialog: the bearer key
    await page.locator('.auth-wrapper .authorize').click()
    const dialog = page.locator('.dialog-ux')
    // the dialog lists every security scheme (the gateway key, and PhishFort's signature for its inbound webhooks)
    const bearer = dialog.locator('.auth-container').filter({ hasText: 'bearerAuth' })
    await bearer.locator('input').first().fill('sandbox')
    await bearer.locator('.auth-btn-wrapper .authorize').click()
    await dialog.locator('.close-modal').click()

    const op = page.locator('#operations-Cases-listCases')
    await op.locator('.opblock-summary').click()
    await op.locator('.try-out__btn').click()
    const answered = page.waitForResponse(r => new URL(r.url()).pathname === '/v1/cases' && r.request().method() === 'GET')
    await op.locator('.execute').click()
    const response = await answered
    expect(response.status()).toBe(200)
    expect(await response.request().headerValue('authorization')).toBe('Bearer sandbox')
    const body = await response.json() as { items: unknown[] }
    expect(body.items.length).toBeGreaterThan(0)
    await expect.poll(async () => await op.locator('.live-responses-table tbody .response-col_status').first().innerText()).toBe('200')

    mkdirSync(join(SCREENSHOT, '..'), { recursive: true })
    await op.scrollIntoViewIfNeeded()
    await page.screenshot({ path: SCREENSHOT })
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000)
    expect(offLoopback).toEqual([])
    await page.close()
  }, 60_000)
})
