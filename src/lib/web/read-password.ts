import {invalidInput} from '../errors.js'

/** All of stdin as the password, without the one line ending a shell's `echo` or a file adds. */
export async function passwordFromStdin(stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
}

/** Asks on the terminal without echo, twice; the prompts go to stderr so stdout stays the command's result. */
export async function passwordFromTerminal(): Promise<string> {
  const stdin = process.stdin
  if (!stdin.isTTY) {
    throw invalidInput(
      'NO_TERMINAL',
      'admin password cannot be asked for: stdin is not a terminal',
      'pipe it in: printf %s "$PASSWORD" | sbq admin set-password --password-stdin',
    )
  }
  const first = await readHidden('new admin password: ')
  const second = await readHidden('again: ')
  if (first !== second)
    throw invalidInput(
      'PASSWORD_MISMATCH',
      'admin passwords typed do not match',
      'run sbq admin set-password again and type the same password twice',
    )
  return first
}

function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin
  process.stderr.write(prompt)
  return new Promise((resolve, reject) => {
    let text = ''
    const finish = (error?: Error): void => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
      if (error) reject(error)
      else resolve(text)
    }
    const onData = (chunk: Buffer): void => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish()
        if (char === '\u0003' || char === '\u0004')
          return finish(
            invalidInput(
              'PASSWORD_CANCELLED',
              'admin password was not set: cancelled at the prompt',
              'run sbq admin set-password again',
            ),
          )
        if (char === '\u007f' || char === '\b') text = [...text].slice(0, -1).join('')
        else if (char >= ' ') text += char
      }
    }
    stdin.setRawMode(true)
    stdin.resume()
    stdin.on('data', onData)
  })
}
