// Generated from src/providers/registry.ts by `npm run derive`: do not edit (test/app/derived.test.ts checks it).
/** Provider ids, in listing order: the registry's, as vocabulary that imports nothing of the app (ADR 0036). */
export const PROVIDER_IDS = ['bforeai', 'phishfort', 'cloudflare', 'netcraft', 'webrisk'] as const
