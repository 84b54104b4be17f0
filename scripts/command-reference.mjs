#!/usr/bin/env node
// Writes docs/commands.md from the built commands themselves (summary, description, arguments, flags, examples), so
// the reference can never drift from `sbq COMMAND --help`. `--check` compares instead of writing and exits 1 when
// the file is out of date; `--file PATH` names another file to write or compare.
// Usage: node scripts/command-reference.mjs [--check] [--file PATH]   (after npm run build)
import {readFileSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {join} from 'node:path'

const root = new URL('..', import.meta.url).pathname
const args = process.argv.slice(2)
const check = args.includes('--check')
const fileIndex = args.indexOf('--file')
const file = fileIndex === -1 ? join(root, 'docs', 'commands.md') : args[fileIndex + 1]

const {COMMANDS} = createRequire(import.meta.url)(join(root, 'dist', 'bundle', 'sbq.cjs'))

const cell = (text) =>
  String(text ?? '')
    .replaceAll('|', '\\|')
    .replaceAll('\n', ' ')
const example = (text) => text.replaceAll('<%= config.bin %>', 'sbq')
const title = (id) => `sbq ${id.replaceAll(':', ' ')}`
const anchor = (id) => title(id).toLowerCase().replaceAll(' ', '-')

function flagName(name, flag) {
  const long = flag.type === 'boolean' && flag.allowNo ? `--[no-]${name}` : `--${name}`
  return flag.char ? `-${flag.char}, ${long}` : long
}

function usage(id, command) {
  const parts = [title(id)]
  for (const [name, arg] of Object.entries(command.args ?? {}))
    parts.push(arg.required ? name.toUpperCase() : `[${name.toUpperCase()}]`)
  for (const [name, flag] of Object.entries(command.flags ?? {})) {
    if (flag.hidden) continue
    const value = flag.type === 'boolean' ? '' : flag.options ? ` ${flag.options.join('|')}` : ' VALUE'
    const text = `--${name}${value}${flag.multiple ? '...' : ''}`
    parts.push(flag.required ? text : `[${text}]`)
  }
  return parts.join(' ')
}

function section(id, command) {
  const lines = [`## ${title(id)}`, '', command.summary ?? '']
  if (command.description && command.description !== command.summary) lines.push('', command.description)
  lines.push('', '```', usage(id, command), '```')
  const commandArgs = Object.entries(command.args ?? {})
  if (commandArgs.length > 0) {
    lines.push('', '| argument | required | description |', '| --- | --- | --- |')
    for (const [name, arg] of commandArgs)
      lines.push(`| \`${name.toUpperCase()}\` | ${arg.required ? 'yes' : 'no'} | ${cell(arg.description)} |`)
  }
  const flags = Object.entries(command.flags ?? {}).filter(([, flag]) => !flag.hidden)
  if (flags.length > 0) {
    lines.push('', '| flag | description | default | env |', '| --- | --- | --- | --- |')
    for (const [name, flag] of flags) {
      const notes = [
        flag.required ? 'required' : '',
        flag.options ? `one of: ${flag.options.join(', ')}` : '',
        flag.multiple ? 'repeatable' : '',
        flag.exclusive?.length ? `not with: ${flag.exclusive.map((other) => `--${other}`).join(', ')}` : '',
      ]
      const description = [flag.description, ...notes.filter(Boolean).map((note) => `(${note})`)]
        .filter(Boolean)
        .join(' ')
      const fallback = typeof flag.default === 'function' || flag.default === undefined ? '' : `\`${flag.default}\``
      lines.push(
        `| \`${flagName(name, flag)}\` | ${cell(description)} | ${fallback} | ${flag.env ? `\`${flag.env}\`` : ''} |`,
      )
    }
  }
  const examples = (command.examples ?? []).map((entry) => (typeof entry === 'string' ? entry : entry.command))
  if (examples.length > 0) lines.push('', '```sh', ...examples.map(example), '```')
  return lines.join('\n')
}

const ids = Object.keys(COMMANDS).sort()
const text = [
  '# Command reference',
  '',
  'Generated from the commands themselves by `npm run docs` (scripts/command-reference.mjs); `npm test` fails when it',
  'is out of date. Every command also takes `--db PATH` (env `SBQ_DB`; default `/var/lib/sbq/sbq.db` as root, else',
  '`~/.local/share/sbq/sbq.db`) and `--json`. What the commands are for, with examples and their `--json` shapes, is',
  'in [using sbq](usage.md); the exit codes are in [exit codes and errors](exit-codes.md).',
  '',
  ...ids.map((id) => `- [${title(id)}](#${anchor(id)}): ${COMMANDS[id].summary ?? ''}`),
  '',
  ids.map((id) => section(id, COMMANDS[id])).join('\n\n'),
  '',
].join('\n')

if (check) {
  let current = ''
  try {
    current = readFileSync(file, 'utf8')
  } catch {
    // A missing file is out of date too.
  }
  if (current !== text) {
    console.error(`${file.startsWith(root) ? file.slice(root.length) : file} is out of date (run: npm run docs)`)
    process.exit(1)
  }
} else {
  writeFileSync(file, text)
}
