import {insertNode} from '../../src/lib/db/nodes-repository.js'
import type {Db} from '../../src/lib/db/open-database.js'
import type {NodeRow} from '../../src/lib/db/schema.js'

/** A V2Ray node row with no config and an API nobody answers: what ledger and repository tests bill traffic to. */
export function insertV2rayNode(db: Db, name = 'n1', createdAt = 0): Promise<NodeRow> {
  return insertNode(db, {
    name,
    type: 'v2ray',
    api: '127.0.0.1:1',
    config_path: null,
    inbounds: null,
    apply_command: null,
    created_at: createdAt,
    last_pull_at: null,
    last_error: null,
  })
}
