import type {NodeProbe, ProxyApi} from '../proxy-driver.js'

/** What `sbq node test` says of a node with an API: its uptime, who has counters, and which optional calls it offers. */
export async function probeApi(api: ProxyApi): Promise<NodeProbe> {
  try {
    const snapshot = await api.readStats()
    const userCounters = snapshot.counters.filter((counter) => counter.name.startsWith('user>>>'))
    const users = new Set(userCounters.map((counter) => counter.name.split('>>>')[1]))
    return {
      uptime: snapshot.uptimeSeconds,
      userCounters: userCounters.length,
      users: users.size,
      liveUserChanges: api.addUser !== undefined,
      onlineIps: api.onlineIps !== undefined,
    }
  } finally {
    api.close()
  }
}
