import {Kysely, type Transaction, type TransactionBuilder} from 'kysely'

import {dialectOf} from './dialects.js'
import type {Database} from './schema.js'

const maxAttempts = 8

/**
 * sbq's Kysely: its transactions run again when they fail for a reason that is only another writer's timing (see
 * Dialect.isTransient), after a short random wait that grows, so that hosts which collided do not collide again.
 * Every transaction sbq runs is a function of what it reads inside, with no effect outside the database, so running
 * it again is safe.
 */
export class SbqKysely extends Kysely<Database> {
  override transaction(): TransactionBuilder<Database> {
    // Kysely's TransactionBuilder keeps its state private; this stands in for it with the three methods sbq uses.
    return new RetryingTransactionBuilder(super.transaction(), (error) =>
      dialectOf(this).isTransient(error),
    ) as unknown as TransactionBuilder<Database>
  }
}

class RetryingTransactionBuilder {
  constructor(
    private readonly inner: TransactionBuilder<Database>,
    private readonly isTransient: (error: unknown) => boolean,
  ) {}

  setAccessMode(...args: Parameters<TransactionBuilder<Database>['setAccessMode']>): RetryingTransactionBuilder {
    return new RetryingTransactionBuilder(this.inner.setAccessMode(...args), this.isTransient)
  }

  setIsolationLevel(
    ...args: Parameters<TransactionBuilder<Database>['setIsolationLevel']>
  ): RetryingTransactionBuilder {
    return new RetryingTransactionBuilder(this.inner.setIsolationLevel(...args), this.isTransient)
  }

  async execute<T>(callback: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.inner.execute(callback)
      } catch (error) {
        if (attempt >= maxAttempts || !this.isTransient(error)) throw error
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(1000, 10 * 2 ** attempt)))
      }
    }
  }
}
