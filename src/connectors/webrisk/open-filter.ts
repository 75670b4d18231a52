/** The vendor filter of the watcher's open-set walk: the record's submissions open as last seen, due ones read first. */
export const OPEN_FILTER_QUERY = { open: 'true' } as const
