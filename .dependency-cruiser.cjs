/**
 * The house rules of sbq's layers (docs/architecture.md), checked by `npm test` (npm run check:deps). A violation
 * prints the rule's name and the import that broke it.
 */
const services =
  '(accounting|alerts|enforcement|inbounds|nodes|plans|quotas|reports|schedule|settings|share-links|users)'

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycle anywhere: every dependency points one way (type-only imports included).',
      from: {},
      to: {circular: true},
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment:
        'src/lib/domain/ takes plain data and an explicit now: no database, driver, output, clock, file or network.',
      from: {path: '^src/lib/domain/'},
      to: {pathNot: ['^src/lib/domain/', '^src/lib/errors\\.ts$']},
    },
    {
      name: 'db-knows-no-driver-or-use-case',
      severity: 'error',
      comment:
        'Repositories hold SQL only: they may use the domain and the errors, never a driver, a service or the terminal.',
      from: {path: '^src/lib/db/'},
      to: {path: '^src/', pathNot: ['^src/lib/db/', '^src/lib/domain/', '^src/lib/errors\\.ts$']},
    },
    {
      name: 'sql-only-in-db',
      severity: 'error',
      comment:
        'Only repositories import kysely itself (scripts/check-architecture.mjs query-outside-db catches a query built on a handle from elsewhere).',
      from: {path: '^src/', pathNot: ['^src/lib/db/']},
      to: {path: 'node_modules/kysely/'},
    },
    {
      name: 'one-folder-per-dialect',
      severity: 'error',
      comment: "Each database's driver is known only to its dialect's folder of src/lib/db/ .",
      from: {pathNot: ['^src/lib/db/postgres/']},
      to: {path: ['node_modules/pg/', 'node_modules/pg-[a-z-]+/']},
    },
    {
      name: 'sqlite-driver-in-its-folder',
      severity: 'error',
      comment: 'better-sqlite3 belongs to src/lib/db/sqlite/ (and to sbq backup, which copies the file page by page).',
      from: {path: '^src/', pathNot: ['^src/lib/db/sqlite/', '^src/lib/reports/backup\\.ts$']},
      to: {path: 'node_modules/better-sqlite3/'},
    },
    {
      name: 'dialects-are-independent',
      severity: 'error',
      comment: 'sqlite/ and postgres/ each fill the contract in src/lib/db/dialect.ts; neither knows the other.',
      from: {path: '^src/lib/db/(sqlite|postgres)/'},
      to: {path: '^src/lib/db/(sqlite|postgres)/', pathNot: '^src/lib/db/$1/'},
    },
    {
      name: 'drivers-know-no-use-case',
      severity: 'error',
      comment:
        'Proxy drivers translate a proxy for sbq: they use the domain and the config-file tools, never the database or a service.',
      from: {path: '^src/lib/proxies/'},
      to: {
        path: '^src/',
        pathNot: [
          '^src/lib/proxies/',
          '^src/lib/domain/',
          '^src/lib/config-file/',
          '^src/lib/errors\\.ts$',
          '^src/lib/process-alive\\.ts$',
        ],
      },
    },
    {
      name: 'driver-folders-are-private',
      severity: 'error',
      comment:
        'Outside src/lib/proxies/, code reaches drivers through proxy-driver.ts and registry.ts (and the shared formats), never a type folder.',
      from: {pathNot: '^src/lib/proxies/'},
      to: {path: '^src/lib/proxies/[^/]+/', pathNot: '^src/lib/proxies/shared/'},
    },
    {
      name: 'drivers-are-independent',
      severity: 'error',
      comment: 'A driver folder uses shared/ and the contract, never another driver folder.',
      from: {path: '^src/lib/proxies/([^/]+)/', pathNot: '^src/lib/proxies/shared/'},
      to: {path: '^src/lib/proxies/[^/]+/', pathNot: ['^src/lib/proxies/$1/', '^src/lib/proxies/shared/']},
    },
    {
      name: 'config-file-is-a-tool',
      severity: 'error',
      comment: 'src/lib/config-file/ edits and swaps files for the drivers: it knows no proxy, database or service.',
      from: {path: '^src/lib/config-file/'},
      to: {path: '^src/', pathNot: ['^src/lib/config-file/', '^src/lib/errors\\.ts$', '^src/lib/process-alive\\.ts$']},
    },
    {
      name: 'only-output-renders',
      severity: 'error',
      comment: 'Only src/lib/output/ knows the terminal (chalk, cli-table3).',
      from: {pathNot: '^src/lib/output/'},
      to: {path: 'node_modules/(chalk|cli-table3)/'},
    },
    {
      name: 'services-render-nothing',
      severity: 'error',
      comment: 'Use cases return data; commands and the HTTP side render it.',
      from: {path: `^src/lib/${services}/`},
      to: {path: ['^src/lib/output/', '^src/lib/web/', '^src/lib/serve/', '^src/commands/']},
    },
    {
      name: 'lib-knows-no-command',
      severity: 'error',
      comment: 'Commands sit on top: nothing in src/lib imports them.',
      from: {path: '^src/lib/'},
      to: {path: '^src/commands/'},
    },
    {
      name: 'output-renders-only',
      severity: 'error',
      comment: 'src/lib/output/ formats what it is given: no database, driver or service calls.',
      from: {path: '^src/lib/output/'},
      to: {
        path: ['^src/lib/db/(?!schema\\.ts$)', '^src/lib/proxies/', `^src/lib/${services}/`],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'commands-are-thin',
      severity: 'error',
      comment: 'A command parses, calls a service, renders: no SQL and no driver of its own.',
      from: {path: '^src/commands/', pathNot: '^src/commands/base-command\\.ts$'},
      to: {
        path: ['^src/lib/db/(?!open-database\\.ts$|schema\\.ts$)', '^src/lib/proxies/'],
        dependencyTypesNot: ['type-only'],
      },
    },
  ],
  options: {
    doNotFollow: {path: 'node_modules'},
    tsPreCompilationDeps: true,
    tsConfig: {fileName: 'tsconfig.json'},
    exclude: {path: '^dist/'},
  },
}
