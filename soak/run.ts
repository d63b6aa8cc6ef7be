// `npm run soak`: the demo app with two workers on its own Redis, under mixed HTTP/2 and HTTP/1.1
// load for SOAK_MINUTES (10), with a rolling restart every minute, a worker killed with kill -9
// every two minutes and Redis stopped for 5 s once. Writes soak/REPORT.md and soak/soak.svg and
// exits 1 when the run did not pass (see verdict.ts). Everything it starts listens on loopback and
// is ended by its pid.
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, ManagedProcess, redisAnswers } from '../examples/multi-host/processes.js'
import { h1Client } from './clients.js'
import { soakChart } from './chart.js'
import { runLoad, type RequestRecord, type SessionProblem } from './load.js'
import { soakReport } from './report.js'
import { sampleProcesses, type FleetAnswer } from './sampler.js'
import { VERDICT_DEFAULTS, verdict, type ProcessSample, type SoakEvent } from './verdict.js'

const HOST = '127.0.0.1'
const number = (name: string, fallback: number): number => {
  const raw = process.env[name]
  const value = raw === undefined || raw === '' ? fallback : Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`)
  return value
}
const config = {
  minutes: number('SOAK_MINUTES', 10),
  users: Math.round(number('SOAK_USERS', 16)),
  thinkMs: number('SOAK_THINK_MS', 20),
  restartEvery: number('SOAK_RESTART_EVERY', 60) * 1000,
  killEvery: number('SOAK_KILL_EVERY', 120) * 1000,
  redisDownMs: 5000,
  out: resolve(process.env.SOAK_OUT ?? 'soak')
}
const durationMs = Math.round(config.minutes * 60_000)
const log = (msg: string): void => { process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${msg}\n`) }

/** A redis-server on `port` keeping its data in `dir` (SHUTDOWN SAVE, then a start, finds it again). */
async function startRedis (port: number, dir: string): Promise<ManagedProcess> {
  const redis = await ManagedProcess.start('redis', 'redis-server', ['--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no'])
  await redis.waitUntil(async () => await redisAnswers(HOST, port), 'PONG', 10_000)
  return redis
}

async function main (): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-soak-'))
  const redisPort = await freePort()
  const appPort = await freePort()
  let redis = await startRedis(redisPort, dir)
  const app = await ManagedProcess.start('demo', process.execPath, ['dist/examples/fleet-app/main.js'], {
    env: {
      ...process.env,
      PORT: String(appPort),
      HOST,
      WORKERS: '2',
      SESSION_STORE: 'redis',
      REDIS_URL: `redis://${HOST}:${redisPort}`,
      REDIRECT_PORT: '0',
      SESSION_SECRET: randomBytes(32).toString('base64url'),
      LOG_LEVEL: 'warn',
      XDG_CACHE_HOME: dir
    }
  })
  const origin = `https://${HOST}:${appPort}`
  const events: SoakEvent[] = []
  const records: RequestRecord[] = []
  const problems: SessionProblem[] = []
  const samples: ProcessSample[] = []
  const stopLoad = new AbortController()
  try {
    await app.waitForLines((l) => l.msg === 'listening', 1, 'listening', 60_000)
    const startedAt = Date.now()
    const since = (): number => Date.now() - startedAt
    log(`demo on ${origin} (pid ${app.pid}), Redis on ${redisPort}; ${config.minutes} min, ${config.users} users`)

    const probe = h1Client(origin)
    let fleet: FleetAnswer = { primary: null, workers: [] }
    const sampler = (async () => {
      while (!stopLoad.signal.aborted) {
        const answer = await probe.send({ method: 'GET', path: '/fleet', cookie: null })
        if (answer.status === 200) fleet = JSON.parse(answer.body)
        samples.push(...sampleProcesses(since(), app.pid, fleet, redis.running ? redis.pid : null))
        await sleep(2000)
      }
    })()
    const load = runLoad({
      origin,
      users: config.users,
      thinkMs: config.thinkMs,
      reads: 5,
      startedAt,
      onRequest: (r) => { records.push(r) },
      onProblem: (p) => { problems.push(p); log(`session problem: ${p.user} ${p.what}`) }
    }, stopLoad.signal)

    // the plan: restarts on the minute, kills on the half minute between them, Redis once mid-run
    const plan: Array<{ at: number, run: () => Promise<void> }> = []
    for (let at = config.restartEvery; at < durationMs - 10_000; at += config.restartEvery) {
      plan.push({
        at,
        run: async () => {
          const before = app.lines.filter((l) => l.msg === 'rolling restart done').length
          events.push({ at: since(), kind: 'rolling restart' })
          process.kill(app.pid, 'SIGHUP')
          await app.waitForLines((l) => l.msg === 'rolling restart done', before + 1, 'rolling restart done', 60_000)
        }
      })
    }
    let kills = 0
    for (let at = config.killEvery + config.restartEvery / 2; at < durationMs - 10_000; at += config.killEvery) {
      plan.push({
        at,
        run: async () => {
          const victim = fleet.workers[kills++ % Math.max(1, fleet.workers.length)]
          if (victim === undefined) return
          events.push({ at: since(), kind: 'kill -9', pid: victim.pid })
          process.kill(victim.pid, 'SIGKILL')
        }
      })
    }
    plan.push({
      at: Math.round(durationMs * 0.525),
      run: async () => {
        events.push({ at: since(), kind: 'redis down' })
        // SHUTDOWN SAVE: its data is on disk for the start that follows, as with a persistent Redis
        await new Promise<void>((resolve) => {
          const cli = ManagedProcess.start('redis-cli', 'redis-cli', ['-h', HOST, '-p', String(redisPort), 'shutdown', 'save'])
          cli.then(async (p) => { await p.exited; resolve() }, () => resolve())
        })
        await redis.exited
        await sleep(config.redisDownMs)
        redis = await startRedis(redisPort, dir)
        events.push({ at: since(), kind: 'redis up' })
      }
    })
    plan.sort((a, b) => a.at - b.at)
    for (const step of plan) {
      await sleep(Math.max(0, step.at - since()))
      if (!app.running) throw new Error(`the demo exited: ${app.output}`)
      await step.run()
      log(`${events.at(-1)?.kind ?? ''} done at ${(since() / 1000).toFixed(0)} s; ${records.length} requests so far`)
    }
    await sleep(Math.max(0, durationMs - since()))
    stopLoad.abort()
    await load
    await sampler
    probe.close()

    const result = verdict(records, problems, events, samples, { ...VERDICT_DEFAULTS, warmupMs: Math.min(VERDICT_DEFAULTS.warmupMs, durationMs / 5) })
    await mkdir(config.out, { recursive: true })
    await writeFile(join(config.out, 'soak.svg'), soakChart(records, samples, events, Math.ceil(durationMs / 1000)))
    const info = { date: new Date().toISOString().slice(0, 10), node: process.version, minutes: config.minutes, users: config.users, workers: 2, store: 'RedisStore (ioredis)', chart: 'soak.svg' }
    await writeFile(join(config.out, 'REPORT.md'), soakReport(info, records, events, result))
    log(`${result.requests} requests; failed: ${JSON.stringify(result.failures)}; session problems ${problems.length}`)
    log(result.passed ? 'passed' : `did not pass: ${result.reasons.join('; ')}`)
    process.exitCode = result.passed ? 0 : 1
  } finally {
    stopLoad.abort()
    await app.stop('SIGTERM', 15_000)
    await redis.stop('SIGTERM', 5000)
    await rm(dir, { recursive: true, force: true })
  }
}

main().catch((err: Error) => {
  log(`failed: ${err.stack ?? err.message}`)
  process.exitCode = 1
})
