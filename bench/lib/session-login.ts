import { cookieHeader, sendRequest } from './request.js'
import type { Scenario } from './scenario.js'

/** `prepare` of the session scenarios: logs in once; the loads send the session cookie it got. */
export const loginOnce: Scenario['prepare'] = async (target) => {
  const res = await sendRequest(target, {
    method: 'POST', path: '/login', headers: { 'content-type': 'application/json' }, body: '{"user":"bench"}'
  })
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${res.body}`)
  return { headers: { cookie: cookieHeader(res.headers) } }
}
