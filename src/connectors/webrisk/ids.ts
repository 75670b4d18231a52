/**
 * A Web Risk case is one submission's long-running operation, `projects/<project>/operations/<id>` on the wire. Its
 * native id is `<project>.<id>`: the project number (or id) and the operation id, both kept as strings (operation ids
 * are 18–20-digit decimals, past 2^53). Nothing else names an operation.
 */
export const WEBRISK_ID = /^(?:\d{1,20}|[a-z][a-z0-9-]{4,28}[a-z0-9])\.[A-Za-z0-9_-]{1,128}$/

/** a Google Cloud project number, or a project id (6–30 lower-case letters, digits and hyphens, a letter first) */
export const PROJECT = /^(?:\d{1,20}|[a-z][a-z0-9-]{4,28}[a-z0-9])$/

const OPERATION_NAME = /^projects\/(\d{1,20}|[a-z][a-z0-9-]{4,28}[a-z0-9])\/operations\/([A-Za-z0-9_-]{1,128})$/

/** `projects/508138417679/operations/11895063640312853845` → `508138417679.11895063640312853845`; null for another shape */
export function caseIdOfOperation (name: string): string | null {
  const m = OPERATION_NAME.exec(name)
  return m === null ? null : `${m[1] ?? ''}.${m[2] ?? ''}`
}

/** the operation name of a native id (which WEBRISK_ID has already accepted) */
export function operationOfCaseId (providerCaseId: string): { project: string, operation: string } {
  const dot = providerCaseId.indexOf('.')
  return { project: providerCaseId.slice(0, dot), operation: providerCaseId.slice(dot + 1) }
}
