import {readFileSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'

/** What a line of the password file is matched on. */
export interface ConnectionKey {
  host: string
  port: number | string
  database: string
  user: string
}

/**
 * The password for a connection from PGPASSWORD or the password file (PGPASSFILE, else ~/.pgpass), as libpq finds
 * it: the first line `host:port:database:user:password` whose fields match, `*` matching anything. sbq reads the file
 * itself because node-postgres 8 prints a deprecation warning on every run that uses it, which cron would mail.
 */
export function passwordFor(key: ConnectionKey, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PGPASSWORD !== undefined) return env.PGPASSWORD
  const file = env.PGPASSFILE || join(env.HOME || homedir(), '.pgpass')
  let text: string
  try {
    const stats = statSync(file)
    // libpq ignores a file that is not private: a password others can read is not one.
    if (!stats.isFile() || (stats.mode & 0o077) !== 0) return undefined
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  const wanted = [key.host, String(key.port), key.database, key.user]
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue
    const fields = splitLine(line)
    if (fields.length !== 5 || fields[4] === '') continue
    const password = fields[4]
    if (wanted.every((value, index) => fields[index] === '*' || fields[index] === value)) return password
  }
  return undefined
}

/** Five fields split at unescaped colons; `\:` and `\\` are a colon and a backslash. */
function splitLine(line: string): string[] {
  const fields: string[] = []
  let field = ''
  for (let index = 0; index < line.length; index++) {
    const char = line[index]!
    if (char === '\\' && index + 1 < line.length) field += line[++index]
    else if (char === ':' && fields.length < 4) {
      fields.push(field)
      field = ''
    } else field += char
  }
  return [...fields, field]
}
