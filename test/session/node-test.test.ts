import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { test } from 'tap'

const FIXTURE = fileURLToPath(new URL('./fixtures/node-test-conformance.ts', import.meta.url))

test('the conformance suite runs under node:test', async (t) => {
  // this process's flags carry tap's TypeScript loader and coverage hooks to the child
  const child = spawn(process.execPath, [...process.execArgv, '--test-reporter=tap', FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  const [code] = await once(child, 'exit')
  t.equal(code, 0, 'the node:test run succeeds', { output: out })
  const count = (name: string): number => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(out)?.[1])
  t.strictSame({ tests: count('tests'), pass: count('pass'), fail: count('fail'), skipped: count('skipped') }, { tests: 27, pass: 23, fail: 0, skipped: 4 })
  t.match(out, /^ok \d+ - app: login regenerates the id; read, change, logout destroys$/m)
  t.match(out, /^ok \d+ - a backend that does not answer fails with a timeout # SKIP needs the hangingStore option$/m)
})
