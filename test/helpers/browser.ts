/**
 * Chromium for browser end-to-end tests, through `playwright-core` (no bundled browser: the
 * system's Chromium, `CHROMIUM_PATH` or `/usr/bin/chromium`).
 *
 * One browser per test file, launched on first use and closed when the file's root test ends;
 * a fresh context (its own cookies, HTTP cache and CORS preflight cache) per test, closed when
 * that test ends. When Chromium is missing or does not start, the policy of `./services.ts`
 * applies: with `CI=true` the test fails, otherwise it records a skip with the reason.
 *
 * ```ts
 * const chromium = chromiumLauncher(t)
 * test('...', async (t) => {
 *   const browser = await chromium(t)
 *   if (browser === null) return
 *   const { page, consoleMessages } = await openPage(t, browser, 'https://localhost:1234/')
 * })
 * ```
 */
import { access, constants } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core'
import { unavailable, type PolicyTest } from './services.js'

/** Where Chromium is looked for when `CHROMIUM_PATH` is not set. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium'

/** Headless, no sandbox (containers), and nothing that talks to the network on its own. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

/** Milliseconds Chromium may take to start. */
export const LAUNCH_TIMEOUT = 15_000

/** Default milliseconds for a page action (navigation, evaluate, waits) in the contexts made here. */
export const ACTION_TIMEOUT = 5_000

interface Teardown {
  teardown: (fn: () => unknown) => void
}

const isExecutable = async (path: string): Promise<boolean> => {
  try {
    await access(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * The Chromium executable: `CHROMIUM_PATH` when set (it must exist), else `/usr/bin/chromium`,
 * else the first `chromium` on `PATH`; `null` with the places tried when there is none.
 */
export async function findChromium (env: NodeJS.ProcessEnv = process.env): Promise<{ path: string } | { path: null, reason: string }> {
  const configured = env.CHROMIUM_PATH
  if (configured !== undefined && configured !== '') {
    return await isExecutable(configured) ? { path: configured } : { path: null, reason: `CHROMIUM_PATH=${configured} is not an executable file` }
  }
  const candidates = [DEFAULT_CHROMIUM_PATH, ...(env.PATH ?? '').split(delimiter).filter((dir) => dir !== '').map((dir) => join(dir, 'chromium'))]
  for (const candidate of candidates) if (await isExecutable(candidate)) return { path: candidate }
  return { path: null, reason: `no chromium at ${DEFAULT_CHROMIUM_PATH} nor on PATH (set CHROMIUM_PATH)` }
}

type Launched = { ok: true, browser: Browser } | { ok: false, reason: string }

async function launch (env: NodeJS.ProcessEnv): Promise<Launched> {
  const found = await findChromium(env)
  if (found.path === null) return { ok: false, reason: `chromium unavailable: ${found.reason}` }
  try {
    const browser = await chromium.launch({ executablePath: found.path, args: [...CHROMIUM_ARGS], timeout: LAUNCH_TIMEOUT })
    return { ok: true, browser }
  } catch (err) {
    return { ok: false, reason: `chromium at ${found.path} did not start: ${(err as Error).message.split('\n')[0] ?? ''}` }
  }
}

/**
 * A function that gives a test the file's shared Chromium (launched on the first call, closed
 * at `root`'s teardown), or applies the unavailable-service policy to that test and returns `null`.
 */
export function chromiumLauncher (root: Teardown, env: NodeJS.ProcessEnv = process.env): (t: PolicyTest) => Promise<Browser | null> {
  let launched: Promise<Launched> | undefined
  root.teardown(async () => {
    const result = await launched
    if (result?.ok === true) await result.browser.close()
  })
  return async (t) => {
    launched ??= launch(env)
    const result = await launched
    return result.ok ? result.browser : unavailable(t, result.reason, env)
  }
}

/** A page in a fresh context, and what its console said (CORS errors among it). */
export interface OpenedPage {
  context: BrowserContext
  page: Page
  /** `type: text` of every console message so far, in order. */
  consoleMessages: string[]
  /** Resolves with the first console message matching `pattern` (seen already or within `timeout` ms), or `null`. */
  waitForConsole: (pattern: RegExp, timeout?: number) => Promise<string | null>
}

/** A fresh browser context (closed at `t`'s teardown) with the default timeouts set. */
export async function newContext (t: Teardown, browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext(options)
  t.teardown(() => context.close())
  context.setDefaultTimeout(ACTION_TIMEOUT)
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT)
  return context
}

/** Opens `url` in a new page of a fresh context (closed at `t`'s teardown). */
export async function openPage (t: Teardown, browser: Browser, url: string, options: BrowserContextOptions = {}): Promise<OpenedPage> {
  const context = await newContext(t, browser, options)
  const page = await context.newPage()
  const consoleMessages: string[] = []
  page.on('console', (message) => { consoleMessages.push(`${message.type()}: ${message.text()}`) })
  const response = await page.goto(url)
  if (response === null || !response.ok()) throw new Error(`${url} answered ${response?.status() ?? 'nothing'}`)
  const waitForConsole = async (pattern: RegExp, timeout = 2000): Promise<string | null> => {
    const deadline = Date.now() + timeout
    for (;;) {
      const found = consoleMessages.find((m) => pattern.test(m))
      if (found !== undefined) return found
      if (Date.now() >= deadline) return null
      await sleep(20)
    }
  }
  return { context, page, consoleMessages, waitForConsole }
}
