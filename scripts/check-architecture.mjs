#!/usr/bin/env node
// The two house rules dependency-cruiser cannot say in .dependency-cruiser.cjs (docs/architecture.md):
//   folder-cycle: the folders of src/lib/ depend on each other in one direction (a cycle between two folders can be
//     made of files that have none among themselves, so the file-level no-circular rule misses it);
//   node-type-outside-proxies: no code outside src/lib/proxies/ compares a node's type with a type name.
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
const comparison = new RegExp(
  `(?:[!=]==\\s*['"\`](?:${quoted})['"\`])|(?:['"\`](?:${quoted})['"\`]\\s*[!=]==)|(?:case\\s+['"\`](?:${quoted})['"\`]\\s*:)|(?:\\b(?:node|row)\\.type\\s*[!=]==)`,
)
const walk = (dir) =>
  readdirSync(dir).flatMap((entry) =>
    statSync(join(dir, entry)).isDirectory() ? walk(join(dir, entry)) : [join(dir, entry)],
  )
for (const file of walk('src').filter((path) => path.endsWith('.ts') && !path.startsWith(`${proxies}/`))) {
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, at) => {
      if (comparison.test(line)) {
        violations.push(
          `node-type-outside-proxies: ${file}:${at + 1}: ${line.trim()} (ask the node's driver, src/lib/proxies/registry.ts)`,
        )
      }
    })
}

for (const line of violations) console.error(line)
if (violations.length > 0) process.exit(1)
console.log(
  `architecture: ${edges.size} folders of src/lib in one direction; no node type compared outside ${proxies}/`,
)
