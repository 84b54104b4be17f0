export type ChannelType = 'webhook' | 'telegram'
export const channelTypes: readonly ChannelType[] = ['webhook', 'telegram']
