/** The one place store keys are built. The version segment lets a deploy walk away from old value shapes. */
const PREFIX = 'tgw:v1:'

export const keys = {
  reference: (provider: string, kind: string): string => `${PREFIX}ref:${provider}:${kind}`,
  referenceLock: (provider: string, kind: string): string => `${PREFIX}ref-lock:${provider}:${kind}`,
  idempotency: (client: string, key: string): string => `${PREFIX}idem:${client}:${key}`,
  rateLimit: (scope: string, id: string): string => `${PREFIX}rl:${scope}:${id}`
}
