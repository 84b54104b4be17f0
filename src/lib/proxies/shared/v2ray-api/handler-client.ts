/**
 * HandlerService: live add/remove of users through AlterInbound (Xray and V2Ray; sing-box has no such service).
 * Both operations are idempotent from sbq's side, since a cron run may repeat one that half-succeeded before.
 */
import {unreachable} from '../../../errors.js'
import type {ExpectedUsers, InboundTarget, ManagedUser} from '../../proxy-driver.js'
import {usersNamed} from '../users-named.js'
import {encodeAccount} from './accounts.js'
import type {V2rayFlavor} from './flavor.js'
import {type GrpcConnection, RpcStatusError, unexpectedStatus} from './grpc-connection.js'
import {
  type TypedMessage,
  decodeGetInboundUserResponse,
  encodeAddUserOperation,
  encodeAlterInboundRequest,
  encodeGetInboundUserRequest,
  encodeRemoveUserOperation,
} from './messages.js'

export class HandlerClient {
  constructor(
    private readonly connection: GrpcConnection,
    private readonly flavor: V2rayFlavor,
    private readonly service: string,
    private readonly typePrefix: string,
  ) {}

  /** `level` is the Xray/V2Ray user level: which `policy.levels` entry (timeouts, which stats) the user falls under. */
  async addUser(inbound: InboundTarget, user: ManagedUser, level = 0): Promise<void> {
    const operation: TypedMessage = {
      type: `${this.typePrefix}app.proxyman.command.AddUserOperation`,
      value: encodeAddUserOperation({
        level,
        email: user.name,
        account: encodeAccount(this.flavor, inbound, user.credentials),
      }),
    }
    await this.alterInbound(inbound.tag, operation, 'already exists')
  }

  async removeUser(inbound: InboundTarget, name: string): Promise<void> {
    const operation: TypedMessage = {
      type: `${this.typePrefix}app.proxyman.command.RemoveUserOperation`,
      value: encodeRemoveUserOperation(name),
    }
    await this.alterInbound(inbound.tag, operation, 'not found')
  }

  /**
   * Reads the inbound's users back (Xray's GetInboundUsers, v24.11.5+) and fails as the node's error when a removal or
   * an add did not take: Xray's RemoveUser answers success for a name it does not hold, so an answer proves nothing.
   * One call per inbound whatever the batch; a proxy without the method fails with NODE_API_UNIMPLEMENTED, for the
   * caller to fall back on.
   */
  async confirmUsers(inbound: InboundTarget, expected: ExpectedUsers): Promise<void> {
    let listed: Set<string>
    try {
      const users = await this.connection.call(
        this.service,
        'GetInboundUsers',
        encodeGetInboundUserRequest({tag: inbound.tag, email: ''}),
        decodeGetInboundUserResponse,
      )
      listed = new Set(users.map((user) => user.email))
    } catch (error) {
      throw this.handlerError(inbound.tag, 'GetInboundUsers', error)
    }
    const stillThere = expected.absent.filter((name) => listed.has(name))
    const missing = expected.present.filter((user) => !listed.has(user.name)).map((user) => user.name)
    const problems = [
      stillThere.length === 0 ? '' : `still has ${usersNamed(stillThere)} that sbq removed`,
      missing.length === 0 ? '' : `does not have ${usersNamed(missing)} that sbq added`,
    ].filter(Boolean)
    if (problems.length > 0) {
      throw unreachable(
        'NODE_CHANGE_NOT_APPLIED',
        `node api "${this.connection.address}" inbound "${inbound.tag}" ${problems.join('; ')}`,
        "check the proxy's log, and that nothing else changes this inbound's users",
      )
    }
  }

  /** `alreadyDone` is the proxy's error text meaning the desired state already holds. */
  private async alterInbound(tag: string, operation: TypedMessage, alreadyDone: string): Promise<void> {
    try {
      await this.connection.call(
        this.service,
        'AlterInbound',
        encodeAlterInboundRequest({tag, operation}),
        () => undefined,
      )
    } catch (error) {
      if (error instanceof RpcStatusError && error.details.toLowerCase().includes(alreadyDone)) {
        // V2Ray's bad-tag text is "failed to get handler: <tag> > ... not found": not the desired state at all.
        if (!error.details.toLowerCase().includes('failed to get handler')) return
      }
      throw this.handlerError(tag, 'AlterInbound', error)
    }
  }

  private handlerError(tag: string, method: string, error: unknown): unknown {
    if (error instanceof RpcStatusError && error.details.toLowerCase().includes('failed to get handler')) {
      return unreachable(
        'INBOUND_UNKNOWN',
        `node api "${this.connection.address}" has no inbound tagged "${tag}"`,
        "check the inbound's tag in the proxy config matches the one sbq was given",
        error,
      )
    }
    return unexpectedStatus(this.connection.address, method, error)
  }
}
