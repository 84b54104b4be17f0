/**
 * A write that found another writer's change in its way (a compare-and-set that matched no row). Thrown inside a
 * transaction, it rolls the transaction back, and the transaction runs again from the start with fresh reads.
 */
export class WriteConflict extends Error {
  override readonly name = 'WriteConflict'
}

export function writeConflict(error: unknown): boolean {
  return error instanceof WriteConflict
}
