/** The one place store keys are built. The version segment lets a deploy walk away from old value shapes. */
const PREFIX = 'tgw:v1:'

export const keys = {
  reference: (provider: string, kind: string): string => `${PREFIX}ref:${provider}:${kind}`,
  referenceLock: (provider: string, kind: string): string => `${PREFIX}ref-lock:${provider}:${kind}`,
  idempotency: (client: string, key: string): string => `${PREFIX}idem:${client}:${key}`,
  rateLimit: (scope: string, id: string): string => `${PREFIX}rl:${scope}:${id}`,
  /** outbound budget counter of one vendor credential (a hash, never the credential) for one fixed window */
  outboundBudget: (credentialHash: string, window: number): string => `${PREFIX}ob:${credentialHash}:${window}`,
  /** prefix of the inbound rate-limit counters per gateway key (@fastify/rate-limit appends the key name) */
  inboundRateLimit: (): string => `${PREFIX}rl:in:`,
  /** the case a detection became detection id → case id */
  detectionCase: (detectionId: string): string => `${PREFIX}det-case:${detectionId}`,
  /** analytics milestones (ADR 0020): case id → slot, and the rows string, of one `<provider>:<YYYY-MM>` shard (one cluster slot) */
  milestoneSlots: (shard: string): string => `${PREFIX}ms:{${shard}}:slots`,
  milestoneRows: (shard: string): string => `${PREFIX}ms:{${shard}}:rows`,
  /** the set of milestone shard names */
  milestoneShards: (): string => `${PREFIX}ms:shards`
}
