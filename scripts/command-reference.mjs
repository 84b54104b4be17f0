#!/usr/bin/env node
// Renders docs/commands.md from the commands themselves: the classes oclif runs, read from the built bundle
// (package.json oclif.commands: dist/bundle/sbq.cjs, its COMMANDS export), so the reference says what `sbq ... --help`
// says. The output depends on nothing but the commands and package.json (sorted ids, no dates), and CI checks that the
// committed file is current (test/unit/command-reference.test.ts).
// Usage, after npm run build (npm run docs does both):
//   node scripts/command-reference.mjs                  write docs/commands.md
//   node scripts/command-reference.mjs --check          exit 1 when docs/commands.md differs from what it would write
//   ... --file PATH                                     write or check PATH instead of docs/commands.md
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const defaultFile = 'docs/commands.md'

function parseArguments(argv) {
  const options = {check: false, file: join(root, defaultFile)}
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]
    if (argument === '--check') options.check = true
    else if (argument === '--file' && argv[index + 1] !== undefined) options.file = resolve(argv[++index])
    else {
      console.error(
        `command-reference: unknown argument "${argument}" (usage: node scripts/command-reference.mjs [--check] [--file PATH])`,
      )
      process.exit(2)
    }
  }
  return options
}

function loadCommands(pkg) {
  const {target, identifier} = pkg.oclif.commands
  const bundle = join(root, target)
  if (!existsSync(bundle)) {
    console.error(`command-reference: ${relative(root, bundle)} is missing (run: npm run build)`)
    process.exit(2)
  }
  const commands = createRequire(join(root, 'package.json'))(bundle)[identifier]
  if (commands === null || typeof commands !== 'object' || Object.keys(commands).length === 0) {
    console.error(`command-reference: ${relative(root, bundle)} exports no commands as ${identifier}`)
    process.exit(2)
  }
  return commands
}

// --json is not in any command's flags: oclif adds it to every command with enableJsonFlag (aggregateFlags in
// @oclif/core/lib/util/aggregate-flags.js), with this description.
const jsonFlag = {type: 'boolean', allowNo: false, description: 'Format output as json.'}

/** Text for a Markdown paragraph or table cell: no raw HTML, no line breaks, no cell separators. */
function prose(text) {
  return String(text)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replace(/\s*\n\s*/g, ' ')
}

function cell(text) {
  return prose(text).replaceAll('|', '\\|')
}

function code(text) {
  const value = String(text)
  return value.includes('`') ? `\`\` ${value} \`\`` : `\`${value}\``
}

function withBin(text, bin, id, separator) {
  return String(text)
    .replaceAll('<%= config.bin %>', bin)
    .replaceAll('<%= command.id %>', id.replaceAll(':', separator))
}

function shownDefault(value) {
  if (value === undefined) return undefined
  if (typeof value === 'function') return undefined
  return Array.isArray(value) ? value.join(', ') : String(value)
}

function visible(entries) {
  return Object.entries(entries ?? {}).filter(([, definition]) => !definition.hidden)
}

function flagName(name, flag) {
  return flag.type === 'boolean' && flag.allowNo ? `--[no-]${name}` : `--${name}`
}

function flagValue(flag) {
  if (flag.type === 'boolean') return 'boolean'
  const kind = flag.options
    ? `one of ${flag.options.map(code).join(', ')}`
    : flag.min !== undefined || flag.max !== undefined
      ? integerRange(flag)
      : 'string'
  return flag.multiple ? `${kind} (repeatable)` : kind
}

function integerRange(flag) {
  if (flag.min !== undefined && flag.max !== undefined) return `integer ${flag.min}–${flag.max}`
  if (flag.min !== undefined) return `integer ≥ ${flag.min}`
  return `integer ≤ ${flag.max}`
}

function usageLine(bin, id, separator, args, flags) {
  const parts = [bin, ...id.split(':').join(separator).split(' ')]
  for (const [name, arg] of args) {
    const shown = name.toUpperCase()
    parts.push(arg.required ? shown : `[${shown}]`)
  }
  for (const [name, flag] of flags) {
    let text = flagName(name, flag)
    if (flag.char) text = `-${flag.char}, ${text}`
    if (flag.type !== 'boolean')
      text += ` ${flag.options ? flag.options.join('|') : '<value>'}${flag.multiple ? '...' : ''}`
    parts.push(flag.required ? text : `[${text}]`)
  }
  return parts.join(' ')
}

function relations(flag) {
  const notes = []
  if (flag.exclusive?.length) notes.push(`not with ${flag.exclusive.map((name) => code(`--${name}`)).join(', ')}`)
  if (flag.dependsOn?.length) notes.push(`needs ${flag.dependsOn.map((name) => code(`--${name}`)).join(', ')}`)
  if (flag.exactlyOne?.length)
    notes.push(`exactly one of ${flag.exactlyOne.map((name) => code(`--${name}`)).join(', ')}`)
  if (flag.deprecated) notes.push('deprecated')
  return notes
}

function flagTable(flags) {
  const lines = ['| flag | value | default | env | description |', '| --- | --- | --- | --- | --- |']
  for (const [name, flag] of flags) {
    const names = [flag.char ? code(`-${flag.char}`) : undefined, code(flagName(name, flag))].filter(Boolean).join(', ')
    const required = flag.required ? ' **(required)**' : ''
    const fallback = shownDefault(flag.default)
    const notes = relations(flag)
    const description = [flag.summary ?? flag.description ?? '', ...(notes.length ? [`(${notes.join('; ')})`] : [])]
      .filter(Boolean)
      .join(' ')
    lines.push(
      `| ${names}${required} | ${flagValue(flag).replaceAll('|', '\\|')} | ${fallback === undefined ? '' : code(fallback)} | ${flag.env ? code(flag.env) : ''} | ${cell(description)} |`,
    )
  }
  return lines
}

function argTable(args) {
  const lines = ['| argument | required | value | default | description |', '| --- | --- | --- | --- | --- |']
  for (const [name, arg] of args) {
    const fallback = shownDefault(arg.default)
    const value = arg.options ? `one of ${arg.options.map(code).join(', ')}` : 'string'
    lines.push(
      `| ${code(name.toUpperCase())} | ${arg.required ? 'yes' : 'no'} | ${value.replaceAll('|', '\\|')} | ${fallback === undefined ? '' : code(fallback)} | ${cell(arg.description ?? '')} |`,
    )
  }
  return lines
}

function exampleLines(examples, bin, id, separator) {
  const lines = []
  for (const example of examples) {
    if (typeof example === 'string') {
      lines.push(withBin(example, bin, id, separator))
    } else {
      if (example.description)
        lines.push(`# ${withBin(example.description, bin, id, separator).replace(/\s*\n\s*/g, ' ')}`)
      lines.push(withBin(example.command, bin, id, separator))
    }
  }
  return lines
}

function anchor(heading) {
  // GitHub's heading ids: lower case, punctuation other than - and _ dropped, spaces to dashes.
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-')
}

function render(pkg, commands) {
  const {bin, topicSeparator: separator = ':', topics = {}} = pkg.oclif
  const ids = Object.keys(commands)
    .filter((id) => !commands[id].hidden)
    .sort()
  const title = (id) => `${bin} ${id.split(':').join(separator)}`
  const out = []
  out.push('# Command reference', '')
  out.push(
    '<!-- Generated by scripts/command-reference.mjs from the commands themselves; do not edit by hand. Run: npm run docs -->',
    '',
  )
  out.push(
    `Every command, from the built commands (what \`${bin} COMMAND --help\` shows). Concepts and set-up are in the`,
  )
  out.push(
    '[subject files](../README.md#documentation); exit codes, errors and `--json` output in [exit-codes.md](exit-codes.md).',
    '',
  )

  // Global flags: those every command shares (oclif's baseFlags, and --json where enabled).
  const globalsOf = (command) => [
    ...(command.enableJsonFlag ? [['json', jsonFlag]] : []),
    ...visible(command.baseFlags),
  ]
  const shared = globalsOf(commands[ids[0]]).filter(([name]) =>
    ids.every((id) => globalsOf(commands[id]).some(([other]) => other === name)),
  )
  const sharedNames = new Set(shared.map(([name]) => name))
  if (shared.length > 0) {
    out.push('## Global flags', '', 'Every command takes these:', '', ...flagTable(shared), '')
  }

  out.push('## Index', '')
  let topic
  for (const id of ids) {
    const [head] = id.split(':')
    const inTopic = id.includes(':')
    if (inTopic && head !== topic) {
      out.push(`- **${head}**${topics[head]?.description ? `: ${prose(topics[head].description)}` : ''}`)
    }
    topic = inTopic ? head : undefined
    const entry = `[${title(id)}](#${anchor(title(id))})${commands[id].summary ? `: ${prose(commands[id].summary)}` : ''}`
    out.push(inTopic ? `  - ${entry}` : `- ${entry}`)
  }
  out.push('')

  for (const id of ids) {
    const command = commands[id]
    const args = visible(command.args)
    const own = visible(command.flags).filter(([name]) => !sharedNames.has(name))
    const extraGlobals = globalsOf(command).filter(
      ([name]) => !sharedNames.has(name) && !own.some(([other]) => other === name),
    )
    const flags = [...own, ...extraGlobals]
    out.push(`## ${title(id)}`, '')
    const usage = command.usage
      ? [command.usage]
          .flat()
          .map((line) => withBin(line.startsWith(`<%= config.bin %>`) ? line : `${bin} ${line}`, bin, id, separator))
      : [usageLine(bin, id, separator, args, flags)]
    out.push('```text', ...usage, '```', '')
    if (command.summary) out.push(prose(command.summary), '')
    if (command.description) out.push(prose(withBin(command.description, bin, id, separator)), '')
    if (command.aliases?.length)
      out.push(`Aliases: ${command.aliases.map((alias) => code(title(alias))).join(', ')}`, '')
    if (args.length > 0) out.push('Arguments:', '', ...argTable(args), '')
    if (flags.length > 0) out.push('Flags:', '', ...flagTable(flags), '')
    const examples = [command.examples ?? []].flat()
    if (examples.length > 0)
      out.push('Examples:', '', '```sh', ...exampleLines(examples, bin, id, separator), '```', '')
  }
  return `${out.join('\n').trimEnd()}\n`
}

const options = parseArguments(process.argv.slice(2))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const text = render(pkg, loadCommands(pkg))
const fromHere = relative(process.cwd(), options.file)
const shown =
  options.file === join(root, defaultFile) ? defaultFile : fromHere.startsWith('..') ? options.file : fromHere

if (options.check) {
  const current = existsSync(options.file) ? readFileSync(options.file, 'utf8') : undefined
  if (current !== text) {
    console.error(`${shown} is out of date (run: npm run docs)`)
    process.exit(1)
  }
} else {
  writeFileSync(options.file, text)
  console.log(`wrote ${shown}`)
}
