import type {ProxyApi, ProxyNode} from '../../proxy-driver.js'
import type {V2rayFlavor} from './flavor.js'

/** The gRPC client loads on first use: @grpc/grpc-js is most of the cost of a command that talks to a node. */
export async function connectV2rayApi(
  flavor: V2rayFlavor,
  node: Pick<ProxyNode, 'api'>,
  timeoutMs?: number,
): Promise<ProxyApi> {
  const {createV2rayApi} = await import('./index.js')
  return createV2rayApi({flavor, address: node.api, timeoutMs})
}
