import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {chmodSync, cpSync, existsSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import BetterSqlite3 from 'better-sqlite3'

import {assertJsonError} from '../support/assertions.js'
import {repoRoot, sbqBin} from '../support/paths.js'
import {runSbq, tempWorkspace, type SbqResult} from '../support/run-sbq.js'
import {startServe} from '../support/run-serve.js'
import {sqliteOnly} from '../support/test-database.js'

/** The plain (no --json) failure: exit code, nothing on stdout, one `error:` line on stderr. */
function assertErrorLine(result: SbqResult, exit: number, pattern: RegExp): void {
  assert.equal(result.code, exit, result.stderr)
  assert.equal(result.stdout, '')
  assert.match(result.stderr, /^error: [^\n]+\n$/)
  assert.match(result.stderr, pattern)
}

// Errors about the SQLite file itself (and a few that need no database); PostgreSQL's own are in postgres-errors.test.ts.
describe('clear errors (real bin/sbq)', {skip: sqliteOnly}, () => {
  const workspace = tempWorkspace('sbq-errors-')
  const sbq = (db: string, ...args: string[]) => runSbq(args, {db})
  let healthy: Buffer
  before(async () => {
    assert.equal((await sbq(workspace.db, 'user', 'add', 'alice', '--json')).code, 0)
    healthy = readFileSync(workspace.db)
  })
  after(() => workspace.cleanup())

  describe('a damaged database is exit 2 with its path and the way back, and is left as it was', () => {
    it('valid header and schema, garbage in the users table', async () => {
      const db = join(workspace.dir, 'garbage.db')
      const {rootpage} = new BetterSqlite3(workspace.db, {readonly: true})
        .prepare("select rootpage from sqlite_master where name = 'users'")
        .get() as {rootpage: number}
      const bytes = Buffer.from(healthy)
      bytes.fill(0xa5, (rootpage - 1) * 4096, rootpage * 4096)
      writeFileSync(db, bytes)
      assertJsonError(
        await sbq(db, 'user', 'list', '--json'),
        2,
        'DATABASE_CORRUPT',
        /database ".*garbage\.db" is damaged/,
      )
      const plain = await sbq(db, 'user', 'list')
      assertErrorLine(plain, 2, /sbq backup/)
      assert.deepEqual(readFileSync(db), bytes)
    })

    it('a truncated file', async () => {
      const db = join(workspace.dir, 'truncated.db')
      writeFileSync(db, healthy)
      truncateSync(db, 3 * 4096)
      const before = readFileSync(db)
      const result = await sbq(db, 'user', 'add', 'bob', '--json')
      assertJsonError(result, 2, 'DATABASE_CORRUPT', /database ".*truncated\.db" is damaged/)
      assert.match(result.json.error.hint, /sbq backup/)
      assert.deepEqual(readFileSync(db), before)
    })
  })

  /** Another program's SQLite file, made by `script`, and its bytes. */
  function otherAppDatabase(name: string, script: string): {db: string; bytes: Buffer} {
    const db = join(workspace.dir, name)
    const other = new BetterSqlite3(db)
    other.exec(script)
    other.close()
    chmodSync(db, 0o644)
    return {db, bytes: readFileSync(db)}
  }

  it("refuses another application's SQLite file before writing anything to it, WAL included", async () => {
    const {db, bytes} = otherAppDatabase(
      'other-app.db',
      "create table notes (body text); insert into notes values ('keep me')",
    )
    assertJsonError(
      await sbq(db, 'user', 'add', 'bob', '--json'),
      2,
      'DATABASE_NOT_SBQ',
      /database ".*other-app\.db" is not an sbq database/,
    )
    assertErrorLine(await sbq(db, 'user', 'list'), 2, /not an sbq database/)
    assert.deepEqual(readFileSync(db), bytes)
    assert.equal(statSync(db).mode & 0o777, 0o644, 'not even its mode')
    const after = new BetterSqlite3(db, {readonly: true})
    assert.deepEqual(after.prepare("select name from sqlite_master where type = 'table'").pluck().all(), ['notes'])
    assert.equal(after.pragma('journal_mode', {simple: true}), 'delete')
    after.close()
  })

  it("refuses another kysely application's database: its migrations are not sbq's", async () => {
    const {db, bytes} = otherAppDatabase(
      'other-kysely-app.db',
      "create table kysely_migration (name varchar(255) primary key, timestamp varchar(255)); insert into kysely_migration values ('2024-01-init', '2024-01-01'); create table notes (body text)",
    )
    assertJsonError(
      await sbq(db, 'user', 'add', 'bob', '--json'),
      2,
      'DATABASE_NOT_SBQ',
      /is not an sbq database: it has other tables \(kysely_migration, notes\)/,
    )
    assert.deepEqual(readFileSync(db), bytes)
  })

  it('refuses a FIFO or a directory as --db at once instead of hanging', async () => {
    const fifo = join(workspace.dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    const started = Date.now()
    assertJsonError(
      await sbq(fifo, 'user', 'list', '--json'),
      2,
      'DATABASE_NOT_A_FILE',
      /database ".*fifo" is not a regular file/,
    )
    assert.ok(Date.now() - started < 15_000)
    const directory = join(workspace.dir, 'a-directory')
    mkdirSync(directory)
    assertJsonError(await sbq(directory, 'user', 'list', '--json'), 2, 'DATABASE_NOT_A_FILE', /is not a regular file/)
    assertErrorLine(await sbq(directory, 'user', 'list'), 2, /is not a regular file/)
  })

  it('tightens a group- or world-readable database to 0600', async () => {
    chmodSync(workspace.db, 0o644)
    const result = await sbq(workspace.db, 'user', 'list', '--json')
    assert.equal(result.code, 0, result.stderr)
    assert.equal(statSync(workspace.db).mode & 0o777, 0o600)
  })

  it(
    'says once, on stderr, when it cannot make a readable database private',
    {skip: process.getuid?.() !== 0 && 'needs root to run sbq as another user'},
    async () => {
      const shared = tempWorkspace('sbq-shared-')
      try {
        chmodSync(shared.dir, 0o777)
        writeFileSync(shared.db, healthy)
        chmodSync(shared.db, 0o666)
        // As nobody, who may write the file (mode 0666) but, not owning it, may not chmod it.
        const result = await runSbq(
          ['--reuid=65534', '--regid=65534', '--clear-groups', sbqBin, 'user', 'list', '--json'],
          {db: shared.db, bin: 'setpriv', env: {HOME: shared.dir}},
        )
        assert.equal(result.code, 0, result.stderr)
        assert.deepEqual(
          result.json.map((user: {name: string}) => user.name),
          ['alice'],
        )
        assert.match(
          result.stderr,
          /^warning: database ".*\/sbq\.db" is readable by other users \(mode 0666\) and sbq cannot make it private: EPERM \(as its owner: chmod 600 [^\n]+\)\n$/,
        )
        assert.equal(statSync(shared.db).mode & 0o777, 0o666)
      } finally {
        shared.cleanup()
      }
    },
  )

  it('refuses an expiry beyond the year 9999 instead of storing a broken or a never-expiring user', async () => {
    for (const expires of ['9999999999999d', '99999999y', '8000y', '999999999999h']) {
      const result = await sbq(workspace.db, 'user', 'add', 'bob', '--expires', expires, '--json')
      assertJsonError(result, 2, 'EXPIRY_OUT_OF_RANGE', new RegExp(`expiry "${expires}" is after 9999-12-31`))
    }
    assertErrorLine(await sbq(workspace.db, 'quota', 'set', 'alice', '--expires', '99999999y'), 2, /after 9999-12-31/)
    const list = await sbq(workspace.db, 'user', 'list', '--json')
    assert.equal(list.code, 0, list.stderr)
    assert.deepEqual(
      list.json.map((user: {name: string; expiresAt: unknown}) => [user.name, user.expiresAt]),
      [['alice', null]],
    )
    assert.equal((await sbq(workspace.db, 'user', 'add', 'carol', '--expires', '9999-12-30', '--json')).code, 0)
  })

  it('an unknown command or an extra argument is one sbq line, exit 2, and a JSON error under --json', async () => {
    assertJsonError(
      await sbq(workspace.db, 'frobnicate', '--json'),
      2,
      'UNKNOWN_COMMAND',
      /"frobnicate" is not an sbq command/,
    )
    assertErrorLine(await sbq(workspace.db, 'frobnicate'), 2, /"frobnicate" is not an sbq command \(see: sbq --help\)/)
    assertJsonError(
      await sbq(workspace.db, 'user', 'frob', '--json'),
      2,
      'UNKNOWN_COMMAND',
      /"user frob" is not an sbq command/,
    )
    const extra = await sbq(workspace.db, 'user', 'list', 'extra', '--json')
    assertJsonError(extra, 2, 'UNEXPECTED_ARGUMENT', /"sbq user list" takes no argument "extra"/)
    assert.match(extra.json.error.hint, /sbq user list --help/)
    assertErrorLine(await sbq(workspace.db, 'user', 'list', 'extra'), 2, /takes no argument "extra"/)
    assertJsonError(
      await sbq(workspace.db, 'user', 'show', 'alice', 'bob', '--json'),
      2,
      'INVALID_USAGE',
      /unexpected argument: bob/,
    )
  })

  describe('schedule install', () => {
    const unitDir = join(workspace.dir, 'units')
    // Every call gives --db, which wins over the SBQ_DB runSbq sets.
    const inDir = (...args: string[]) => runSbq(args, {db: workspace.db, cwd: workspace.dir})

    it('writes the absolute path of a relative --db into the unit and the cron line', async () => {
      const result = await inDir(
        'schedule',
        'install',
        '--db',
        'rel.db',
        '--unit-dir',
        unitDir,
        '--no-enable',
        '--json',
      )
      assert.equal(result.code, 0, result.stderr)
      assert.match(
        readFileSync(join(unitDir, 'sbq-check.service'), 'utf8'),
        new RegExp(`^Environment="SBQ_DB=${join(workspace.dir, 'rel.db')}"$`, 'm'),
      )
      const cron = await inDir('schedule', 'install', '--cron', '--db', 'rel.db', '--json')
      assert.equal(cron.code, 0, cron.stderr)
      assert.match(cron.json.crontab, new RegExp(`SBQ_DB=${join(workspace.dir, 'rel.db')} `))
    })

    it('escapes % in paths for systemd and cron, and refuses a newline', async () => {
      const percent = join(workspace.dir, '50%.db')
      const result = await inDir('schedule', 'install', '--db', percent, '--unit-dir', unitDir, '--no-enable', '--json')
      assert.equal(result.code, 0, result.stderr)
      assert.ok(
        readFileSync(join(unitDir, 'sbq-check.service'), 'utf8').includes(
          `Environment="SBQ_DB=${join(workspace.dir, '50%%.db')}"`,
        ),
      )
      const cron = await inDir('schedule', 'install', '--cron', '--db', percent, '--json')
      assert.ok(cron.json.crontab.includes(`SBQ_DB=${join(workspace.dir, '50\\%.db')} `), cron.json.crontab)
      const fresh = join(workspace.dir, 'units-newline')
      assertJsonError(
        await inDir(
          'schedule',
          'install',
          '--db',
          `${workspace.dir}/a\nb.db`,
          '--unit-dir',
          fresh,
          '--no-enable',
          '--json',
        ),
        2,
        'PATH_UNSCHEDULABLE',
        /has a line break/,
      )
      assertJsonError(
        await inDir('schedule', 'install', '--cron', '--db', `${workspace.dir}/a\nb.db`, '--json'),
        2,
        'PATH_UNSCHEDULABLE',
        /has a line break/,
      )
      assert.equal(existsSync(fresh), false)
    })

    it('--serve --listen is checked as sbq serve checks it, before a unit is written', async () => {
      const fresh = join(workspace.dir, 'units-listen')
      assertJsonError(
        await inDir('schedule', 'install', '--serve', '--listen', 'abc', '--unit-dir', fresh, '--no-enable', '--json'),
        2,
        'INVALID_LISTEN',
        /listen address "abc" is not HOST:PORT/,
      )
      assert.equal(existsSync(fresh), false)
    })
  })

  it("refuses a backup onto the database's own -wal, -shm or journal, or the database itself", async () => {
    for (const suffix of ['-wal', '-shm', '-journal', '']) {
      const target = `${workspace.db}${suffix}`
      const existed = existsSync(target)
      assertJsonError(
        await sbq(workspace.db, 'backup', target, '--json'),
        2,
        'BACKUP_OVER_DATABASE',
        /is the database|belongs to the database/,
      )
      assert.equal(existsSync(target), existed, target)
    }
  })

  it('prints the /metrics token only once serve is listening, so a failed start does not use it up', async () => {
    const db = join(workspace.dir, 'serve.db')
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const {port} = busy.address() as {port: number}
    try {
      const failed = await sbq(db, 'serve', '--no-dashboard', '--listen', `127.0.0.1:${port}`)
      assertErrorLine(failed, 2, /cannot listen on "127\.0\.0\.1:\d+": EADDRINUSE/)
    } finally {
      busy.close()
    }
    const serve = await startServe(db, {})
    try {
      assert.match(serve.stderr(), /\/metrics token .*: \S+$/m)
    } finally {
      await serve.stop()
    }
  })

  it('a checkout without dist/ gets one line saying what to run, exit 1', async () => {
    const checkout = join(workspace.dir, 'checkout')
    cpSync(join(repoRoot, 'bin'), join(checkout, 'bin'), {recursive: true})
    cpSync(join(repoRoot, 'package.json'), join(checkout, 'package.json'))
    const run = (...args: string[]) => runSbq(args, {db: workspace.db, bin: join(checkout, 'bin', 'sbq')})
    const plain = await run('user', 'list')
    assertErrorLine(plain, 1, /dist\/bundle\/sbq\.cjs is missing.*\(run npm ci \(or npm run build\)/)
    assertJsonError(await run('user', 'list', '--json'), 1, 'NOT_BUILT', /is missing/)
  })
})
