// The demo's page in Chromium, against the demo as `npm start` runs it (two workers): log in
// through the form, and the live panel shows the worker that answered, HTTP/2, the session store
// and both workers of the cluster.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { test } from 'tap'
import { chromiumLauncher, openPage } from '../helpers/browser.js'
import { msg, startFixture } from '../helpers/fixture-process.js'
import { freePort } from '../helpers/ports.js'

const MAIN = fileURLToPath(new URL('../../examples/fleet-app/main.ts', import.meta.url))
const chromium = chromiumLauncher(t)
// real processes under load start slowly: more than tap's default two minutes for the file
t.setTimeout(300_000)
let cacheHome: string
t.before(async () => { cacheHome = await mkdtemp(join(tmpdir(), 'fleet-demo-page-')) })
t.teardown(() => rm(cacheHome, { recursive: true, force: true }))

test('the page: log in through the form, the panel shows two workers, HTTP/2 and the session store', async (t) => {
  const browser = await chromium(t)
  if (browser === null) return
  const port = await freePort()
  const demo = startFixture(t, MAIN, { XDG_CACHE_HOME: cacheHome, LOG_LEVEL: 'warn', NODE_ENV: 'development', READY_TIMEOUT: '60000', WORKERS: '2', PORT: String(port), REDIRECT_PORT: '0' })
  await demo.waitForCount(msg('worker ready'), 2, 'two workers', 120_000)
  const workerPids = demo.lines.filter(msg('worker ready')).map((l) => l.workerPid as number)

  const { page } = await openPage(t, browser, `https://127.0.0.1:${port}/`, { ignoreHTTPSErrors: true })
  await page.fill('input[name=user]', 'ada')
  await page.click('#login button')
  await page.waitForFunction("document.getElementById('out').textContent.startsWith('200 ')")
  t.match(await page.textContent('#out'), /"user":"ada"/, 'logged in through the form')

  // the panel refreshes itself every 2 s: both workers, with a memory figure once they reported
  const bothReported = `(() => {
    const rows = [...document.querySelectorAll('#workers tbody tr')]
    return rows.length === 2 && rows.every((row) => row.children[5].textContent.endsWith('MB'))
  })()`
  await page.waitForFunction(bothReported, undefined, { timeout: 20_000 })
  const rows = await page.$$eval('#workers tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)))
  t.same(rows.map((r) => Number(r[1])).sort(), [...workerPids].sort(), 'the two workers the primary forked')
  t.same(rows.map((r) => r[2]), ['ready', 'ready'])
  t.equal(await page.textContent('#protocol'), 'h2', 'the page talks HTTP/2')
  t.match(await page.textContent('#answered'), new RegExp(`^worker \\d \\(pid (${workerPids.join('|')})\\) on `))
  t.match(await page.textContent('#store'), /^cluster: \d+ hits, \d+ misses, 0 errors, breaker closed$/)
  t.match(await page.textContent('#hsts'), /^not sent/, 'no HSTS for an IP address')

  const screenshot = await page.screenshot({ fullPage: true })
  t.same([...screenshot.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG')
  t.ok(screenshot.length > 10_000, `of the whole page (${screenshot.length} bytes)`)
  await writeFile(join(cacheHome, 'demo-page.png'), screenshot)
  if (process.env.DEMO_SCREENSHOT !== undefined) await writeFile(process.env.DEMO_SCREENSHOT, screenshot)

  // Who am I? goes through the session, and the panel follows
  await page.click('#me')
  await page.waitForFunction("document.getElementById('out').textContent.includes('\"views\":1')")
  demo.child.kill('SIGTERM')
  t.equal(await demo.exit, 0)
})
