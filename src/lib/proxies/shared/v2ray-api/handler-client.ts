/**
 * HandlerService: live add/remove of users through AlterInbound (Xray and V2Ray; sing-box has no such service).
 * Both operations are idempotent from sbq's side, since a cron run may repeat one that half-succeeded before.
 */
import {unreachable} from '../../../errors.js'
import type {InboundTarget, ManagedUser} from '../../proxy-driver.js'
import {encodeAccount} from './accounts.js'
import type {V2rayFlavor} from './flavor.js'
import {type GrpcConnection, RpcStatusError, unexpectedStatus} from './grpc-connection.js'
import {
  type TypedMessage,
  encodeAddUserOperation,
  encodeAlterInboundRequest,
  encodeRemoveUserOperation,
} from './messages.js'

export class HandlerClient {
  constructor(
    private readonly connection: GrpcConnection,
    private readonly flavor: V2rayFlavor,
    private readonly service: string,
    private readonly typePrefix: string,
  ) {}

  async addUser(inbound: InboundTarget, user: ManagedUser): Promise<void> {
    const operation: TypedMessage = {
      type: `${this.typePrefix}app.proxyman.command.AddUserOperation`,
      value: encodeAddUserOperation({
        level: 0,
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
      if (error instanceof RpcStatusError) {
        const details = error.details.toLowerCase()
        // Checked before alreadyDone: V2Ray's bad-tag text is "failed to get handler: <tag> > ... not found".
        if (details.includes('failed to get handler')) {
          throw unreachable(
            'INBOUND_UNKNOWN',
            `node api "${this.connection.address}" has no inbound tagged "${tag}"`,
            "check the inbound's tag in the proxy config matches the one sbq was given",
            error,
          )
        }
        if (details.includes(alreadyDone)) return
      }
      throw unexpectedStatus(this.connection.address, 'AlterInbound', error)
    }
  }
}
