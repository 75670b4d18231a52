/**
 * `{ ...base, more }` without the object spread. On Node 20 (V8 11.3) an object literal that starts with a spread and
 * adds properties after it is built on a slow path whose objects survive young-generation GCs: in isolation a loop of
 * `{ ...{ a, b }, c }` promotes ~2 MB per scavenge where Object.assign or a plain literal promotes nothing, and on the
 * case-read path (`{ ...toCase(…), history, … }`) it was ~600-900 KB per scavenge, ~3 KB per request, which grew the
 * old generation to ~120 MB between full GCs (bench/README.md). Use this on per-request and per-item paths.
 */
export function extend<A extends object, B extends object> (base: A, more: B): A & B {
  return Object.assign({}, base, more)
}
