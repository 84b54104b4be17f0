import type {Actor} from './domain/user.js'

/** What every domain operation is told instead of finding out for itself: the time, the install's zone, who acts. */
export interface Context {
  now: number
  timeZone: string
  actor: Actor
}
