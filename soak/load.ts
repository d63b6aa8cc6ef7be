// The soak's load: virtual users that log in, read their session a few times (its view count must
// go up by one each time) and log out, on HTTP/2 and HTTP/1.1, until told to stop.
import { setTimeout as sleep } from 'node:timers/promises'
import { h1Client, h2Client, type Answer, type Call, type SoakClient } from './clients.js'

/** One request as the report sees it. */
export interface RequestRecord {
  /** ms since the soak started */
  at: number
  protocol: 'h2' | 'http/1.1'
  route: string
  ms: number
  /** 0 when it failed without an answer */
  status: number
  /** why it counts as failed (`null`: it did not) */
  failure: string | null
  retried: boolean
  /** the worker that served this user's connection last (from the answers' `pid`) */
  pid: number | null
}

/** A logged-in user who got 401, or a view count that went back: what the soak must never see. */
export interface SessionProblem {
  at: number
  user: string
  what: string
}

export interface LoadOptions {
  origin: string
  users: number
  /** pause between a user's requests, ms */
  thinkMs: number
  /** `/me` reads per login */
  reads: number
  startedAt: number
  onRequest: (record: RequestRecord) => void
  onProblem: (problem: SessionProblem) => void
}

const pidOf = (body: string): number | null => {
  try {
    const pid = (JSON.parse(body) as { pid?: unknown }).pid
    return typeof pid === 'number' ? pid : null
  } catch { return null }
}

/** Runs the users until `signal` aborts; resolves once each has finished its request in flight. */
export async function runLoad (options: LoadOptions, signal: AbortSignal): Promise<void> {
  const users = Array.from({ length: options.users }, async (_, n) => {
    const client = n % 2 === 0 ? h2Client(options.origin) : h1Client(options.origin)
    try {
      await virtualUser(`user-${n}`, client, options, signal)
    } finally {
      client.close()
    }
  })
  await Promise.all(users)
}

async function virtualUser (user: string, client: SoakClient, options: LoadOptions, signal: AbortSignal): Promise<void> {
  let pid: number | null = null
  const send = async (call: Call, expected: (answer: Answer) => boolean): Promise<(Answer & { setCookie: string | null }) | null> => {
    const started = performance.now()
    const answer = await client.send(call)
    const ok = answer.error === null && expected(answer)
    if (answer.error === null) pid = pidOf(answer.body) ?? pid
    options.onRequest({
      at: Date.now() - options.startedAt,
      protocol: client.protocol,
      route: `${call.method} ${call.path}`,
      ms: performance.now() - started,
      status: answer.status,
      failure: ok ? null : answer.error ?? `status ${answer.status}`,
      retried: answer.retried,
      pid
    })
    return ok ? answer : null
  }

  while (!signal.aborted) {
    const login = await send({ method: 'POST', path: '/login', cookie: null, body: { user } }, (a) => a.status === 200)
    if (login === null || login.setCookie === null) { await sleep(options.thinkMs); continue }
    const cookie = login.setCookie
    // what `views` must be next; `null` once a request failed (it may or may not have counted)
    let views: number | null = 1
    for (let i = 0; i < options.reads && !signal.aborted; i++) {
      await sleep(options.thinkMs)
      const me = await send({ method: 'GET', path: '/me', cookie }, (a) => a.status === 200 || a.status === 401)
      if (me === null) { views = null; continue }
      if (me.status === 401) {
        options.onProblem({ at: Date.now() - options.startedAt, user, what: 'logged-in session answered 401' })
        break
      }
      const got = (JSON.parse(me.body) as { views: number }).views
      // a request sent again after a connection the server closed may have counted once already
      const fits = views === null || got === views || (me.retried && got === views + 1)
      if (!fits) options.onProblem({ at: Date.now() - options.startedAt, user, what: `views ${got}, expected ${views ?? '?'}` })
      views = got + 1
    }
    await sleep(options.thinkMs)
    const logout = await send({ method: 'POST', path: '/logout', cookie }, (a) => a.status === 204)
    if (logout === null) continue
    await sleep(options.thinkMs)
    // the destroyed session's cookie, replayed: never logged in again
    const replay = await send({ method: 'GET', path: '/me', cookie }, (a) => a.status === 401 || a.status === 200)
    if (replay !== null && replay.status === 200) {
      options.onProblem({ at: Date.now() - options.startedAt, user, what: 'a logged-out session answered 200' })
    }
  }
}
