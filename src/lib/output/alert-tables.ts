import type {ChalkInstance} from 'chalk'
import {table} from './grid.js'

import type {ChannelView} from '../alerts/channels.js'
import type {TestDelivery} from '../alerts/deliver.js'
import {formatInstant} from './format.js'

export function renderChannels(channels: ChannelView[], timeZone: string, style: ChalkInstance): string {
  if (channels.length === 0)
    return 'no alert channels yet (add one: sbq alert add webhook https://example.com/hook --secret S)'
  const out = table(['id', 'type', 'sends to', 'secret', 'added', 'pending', 'failed', 'last error'], style)
  for (const channel of channels) {
    out.push([
      String(channel.id),
      channel.type,
      channel.type === 'telegram' ? `chat ${channel.target}` : channel.target,
      channel.secret ?? '-',
      formatInstant(channel.createdAt, timeZone),
      channel.pending === 0 ? '0' : style.yellow(String(channel.pending)),
      channel.failed === 0 ? '0' : style.red(String(channel.failed)),
      channel.lastError ?? '',
    ])
  }
  return out.toString()
}

export function renderTestDeliveries(deliveries: TestDelivery[], style: ChalkInstance): string {
  return deliveries.map((delivery) => `${style.green('sent')} test alert through channel ${delivery.label}`).join('\n')
}
