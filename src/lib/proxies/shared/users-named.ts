/** `user "a"` or `users "a", "b"`, with at most a few names: a message naming them stays one line. */
export function usersNamed(names: readonly string[]): string {
  const shown = names
    .slice(0, 5)
    .map((name) => `"${name}"`)
    .join(', ')
  return `${names.length === 1 ? 'user' : 'users'} ${names.length > 5 ? `${shown} and ${names.length - 5} more` : shown}`
}
