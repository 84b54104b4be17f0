import {usersSorts, type UsersSort} from '../db/dashboard-repository.js'
import {userStatuses, type UserStatus} from '../db/schema.js'

/** The users table's state, all of it in the URL: `/?q=ali&status=limited&sort=used&dir=desc&page=2`. */
export interface UsersQuery {
  search: string
  status: UserStatus | null
  sort: UsersSort
  descending: boolean
  /** 1-based. */
  page: number
}

export const pageSize = 50

/** The orders the phone layout offers in a menu (it has no column headers to click), as `sort.dir`. */
export const menuOrders = [
  'name.asc',
  'used.desc',
  'lifetime.desc',
  'expires.asc',
  'status.asc',
  'created.desc',
] as const

/**
 * The table's state from a URL; anything unknown falls back to the default (all users by name, page 1). An `order`
 * from the menu (`used.desc`) overrides `sort` and `dir`.
 */
export function parseUsersQuery(params: URLSearchParams): UsersQuery {
  const status = params.get('status')
  const order = params.get('order')
  const [sort, dir] =
    order !== null && (menuOrders as readonly string[]).includes(order)
      ? order.split('.')
      : [params.get('sort'), params.get('dir')]
  const page = Number(params.get('page') ?? '1')
  return {
    search: (params.get('q') ?? '').trim().slice(0, 64),
    status: userStatuses.includes(status as UserStatus) ? (status as UserStatus) : null,
    sort: usersSorts.includes(sort as UsersSort) ? (sort as UsersSort) : 'name',
    descending: dir === 'desc',
    page: Number.isInteger(page) && page >= 1 && page <= 1_000_000 ? page : 1,
  }
}

/** The dashboard URL for a table state, leaving out what is the default. */
export function usersHref(query: UsersQuery): string {
  const params = new URLSearchParams()
  if (query.search !== '') params.set('q', query.search)
  if (query.status !== null) params.set('status', query.status)
  if (query.sort !== 'name') params.set('sort', query.sort)
  if (query.descending) params.set('dir', 'desc')
  if (query.page > 1) params.set('page', String(query.page))
  const text = params.toString()
  return text === '' ? '/' : `/?${text}`
}
