import type { StatusTable } from '../../status/table.js'

// PLACEHOLDER: replaced by the bforeai connector work
export const bforeaiStatusTable: StatusTable = { kind: 'lookup', entries: {} }
