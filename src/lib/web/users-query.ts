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

/** The table's state from a URL; anything unknown falls back to the default (all users by name, page 1). */
export function parseUsersQuery(params: URLSearchParams): UsersQuery {
  const status = params.get('status')
  const sort = params.get('sort')
  const page = Number(params.get('page') ?? '1')
  return {
    search: (params.get('q') ?? '').trim().slice(0, 64),
    status: userStatuses.includes(status as UserStatus) ? (status as UserStatus) : null,
    sort: usersSorts.includes(sort as UsersSort) ? (sort as UsersSort) : 'name',
    descending: params.get('dir') === 'desc',
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
