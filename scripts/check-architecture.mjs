#!/usr/bin/env node
// The house rules dependency-cruiser cannot say in .dependency-cruiser.cjs (docs/architecture.md):
//   folder-cycle: the folders of src/lib/ depend on each other in one direction (a cycle between two folders can be
//     made of files that have none among themselves, so the file-level no-circular rule misses it);
//   node-type-outside-proxies: no code outside src/lib/proxies/ compares a node's type with a type name;
//   query-outside-db: no query is built outside src/lib/db/.
// Exits 1 with one line per violation, naming the rule.
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'

import {cruise} from 'dependency-cruiser'

const violations = []

const result = await cruise(
  ['src'],
  {tsPreCompilationDeps: true, doNotFollow: {path: 'node_modules'}, exclude: {path: '^dist/'}},
  undefined,
  {
    tsConfig: JSON.parse(readFileSync('tsconfig.json', 'utf8')),
  },
)
const folderOf = (path) => /^src\/lib\/([^/]+)\//.exec(path)?.[1]
const edges = new Map()
for (const module of result.output.modules) {
  const from = folderOf(module.source)
  if (!from) continue
  for (const dependency of module.dependencies) {
    const to = folderOf(dependency.resolved)
    if (!to || to === from) continue
    if (!edges.has(from)) edges.set(from, new Map())
    if (!edges.get(from).has(to)) edges.get(from).set(to, `${module.source} → ${dependency.resolved}`)
  }
}
// Tarjan's strongly connected components: any component of two or more folders is a cycle.
let counter = 0
const index = new Map()
const low = new Map()
const stack = []
const onStack = new Set()
const visit = (folder) => {
  index.set(folder, counter)
  low.set(folder, counter++)
  stack.push(folder)
  onStack.add(folder)
  for (const next of edges.get(folder)?.keys() ?? []) {
    if (!index.has(next)) {
      visit(next)
      low.set(folder, Math.min(low.get(folder), low.get(next)))
    } else if (onStack.has(next)) low.set(folder, Math.min(low.get(folder), index.get(next)))
  }
  if (low.get(folder) !== index.get(folder)) return
  const component = []
  let member
  do {
    member = stack.pop()
    onStack.delete(member)
    component.push(member)
  } while (member !== folder)
  if (component.length < 2) return
  const inCycle = new Set(component)
  const examples = component.flatMap((a) =>
    [...(edges.get(a) ?? [])].filter(([b]) => inCycle.has(b)).map(([, example]) => example),
  )
  violations.push(`folder-cycle: src/lib/{${component.sort().join(',')}} import each other (${examples.join('; ')})`)
}
for (const folder of edges.keys()) if (!index.has(folder)) visit(folder)

// The registered types, read from the registry's driver folders so a new driver is covered without editing this.
const proxies = 'src/lib/proxies'
const typeNames = readdirSync(proxies).filter(
  (entry) => entry !== 'shared' && statSync(join(proxies, entry)).isDirectory(),
)
const quoted = typeNames.map((name) => name.replace(/[-]/g, '\\-')).join('|')
const typeName = `['"\`](?:${quoted})['"\`]`
const nodeType = String.raw`\b(?:node|row)\.type\b`
const comparison = new RegExp(
  [
    String.raw`[!=]==?\s*` + typeName, // x === 'xray', x == "3x-ui"
    typeName + String.raw`\s*[!=]==?`, // 'xray' === x
    String.raw`case\s+` + typeName + String.raw`\s*:`, // case 'xray':
    nodeType + String.raw`\s*[!=]==?`, // node.type === anything
    String.raw`switch\s*\(\s*` + nodeType, // switch (node.type)
    String.raw`\.(?:includes|has|indexOf)\(\s*` + nodeType, // ['xray'].includes(node.type), set.has(row.type)
  ].join('|'),
)
// Queries are built in src/lib/db/ only: the dependency rule sql-only-in-db catches an import of kysely, this a query
// built on a database handle that came from a repository's types.
const query =
  /\.(?:selectFrom|insertInto|replaceInto|updateTable|deleteFrom|mergeInto)\(|\bsql`|\.schema\.(?:createTable|alterTable|dropTable)/
const walk = (dir) =>
  readdirSync(dir).flatMap((entry) =>
    statSync(join(dir, entry)).isDirectory() ? walk(join(dir, entry)) : [join(dir, entry)],
  )
for (const file of walk('src').filter((path) => path.endsWith('.ts'))) {
  const lines = readFileSync(file, 'utf8').split('\n')
  lines.forEach((line, at) => {
    if (!file.startsWith(`${proxies}/`) && comparison.test(line)) {
      violations.push(
        `node-type-outside-proxies: ${file}:${at + 1}: ${line.trim()} (ask the node's driver, src/lib/proxies/registry.ts)`,
      )
    }
    if (!file.startsWith('src/lib/db/') && query.test(line)) {
      violations.push(`query-outside-db: ${file}:${at + 1}: ${line.trim()} (move it into a repository in src/lib/db/)`)
    }
  })
}

for (const line of violations) console.error(line)
if (violations.length > 0) process.exit(1)
console.log(
  `architecture: ${edges.size} folders of src/lib in one direction; no node type compared outside ${proxies}/; no query outside src/lib/db/`,
)
