import { test } from 'tap'
import { defineScenarios, resolveRequest, scenariosOf, type Scenario } from '../../bench/lib/scenario.js'
import { errorOf } from '../helpers/errors.js'

/** The name and message of what `fn` throws, to compare exactly. */

const FILE = 'bench/scenarios/hello.ts'

const scenario: Scenario = {
  name: 'hello-world, HTTP/2',
  protocol: 'h2',
  fleet: { module: 'hello-fleet.js' },
  anchors: [{ label: 'node:http2', module: new URL('file:///dist/bench/servers/hello-anchor.js') }]
}

test('defineScenarios returns what it is given', async (t) => {
  t.equal(defineScenarios(scenario), scenario)
  const list = [scenario, { ...scenario, protocol: 'h1' as const }]
  t.equal(defineScenarios(list), list)
})

test('scenariosOf: one scenario or a list, as a list', async (t) => {
  const h1: Scenario = { ...scenario, name: 'hello-world, HTTP/1.1', protocol: 'h1', scheme: 'http', notes: 'n' }
  const one = scenariosOf(scenario, FILE)
  t.strictSame(one, [scenario])
  t.equal(one[0], scenario)
  t.strictSame(scenariosOf([scenario, h1], FILE), [scenario, h1])
  t.strictSame(scenariosOf([], FILE), [])
  const withSetup: Scenario = { ...scenario, setup: async () => ({ env: { REDIS_URL: 'redis://127.0.0.1:1' } }) }
  t.strictSame(scenariosOf(withSetup, FILE), [withSetup])
  const withGoal: Scenario = { ...scenario, anchors: [{ label: 'bare', module: 'bare.js', goal: 0.97 }, { label: 'other', module: 'other.js' }] }
  t.strictSame(scenariosOf(withGoal, FILE), [withGoal])
})

test('scenariosOf: what is wrong, and where', async (t) => {
  const cases: Array<[unknown, string]> = [
    [undefined, `${FILE}: the default export is not a scenario`],
    [null, `${FILE}: the default export is not a scenario`],
    ['hello', `${FILE}: the default export is not a scenario`],
    [[scenario, 42], `${FILE}[1]: the default export is not a scenario`],
    [{ ...scenario, name: undefined }, `${FILE}: missing name`],
    [{ ...scenario, name: '' }, `${FILE}: missing name`],
    [{ ...scenario, name: 5 }, `${FILE}: missing name`],
    [[{ ...scenario, name: '' }, scenario], `${FILE}[0]: missing name`],
    [{ ...scenario, protocol: undefined }, `${FILE}: protocol must be 'h1' or 'h2'`],
    [{ ...scenario, protocol: 'h3' }, `${FILE}: protocol must be 'h1' or 'h2'`],
    [{ ...scenario, fleet: undefined }, `${FILE}: missing fleet server`],
    [{ ...scenario, fleet: null }, `${FILE}: missing fleet server`],
    [{ ...scenario, fleet: {} }, `${FILE}: missing fleet server`],
    [{ ...scenario, fleet: 'hello-fleet.js' }, `${FILE}: missing fleet server`],
    [{ ...scenario, anchors: undefined }, `${FILE}: needs at least one anchor`],
    [{ ...scenario, anchors: [] }, `${FILE}: needs at least one anchor`],
    [{ ...scenario, anchors: { label: 'x', module: 'x.js' } }, `${FILE}: needs at least one anchor`],
    [[scenario, scenario, { ...scenario, anchors: [] }], `${FILE}[2]: needs at least one anchor`],
    [{ ...scenario, setup: null }, `${FILE}: setup must be a function`],
    [{ ...scenario, setup: { env: {} } }, `${FILE}: setup must be a function`],
    [{ ...scenario, anchors: [{ label: 'a', module: 'a.js', goal: 0 }] }, `${FILE}: the goal of anchor a must be a positive number`],
    [{ ...scenario, anchors: [{ label: 'a', module: 'a.js', goal: 1 }, { label: 'b', module: 'b.js', goal: '0.97' }] }, `${FILE}: the goal of anchor b must be a positive number`],
    [{ ...scenario, anchors: [{ label: 'a', module: 'a.js', goal: Number.POSITIVE_INFINITY }] }, `${FILE}: the goal of anchor a must be a positive number`]
  ]
  for (const [exported, message] of cases) {
    t.strictSame(errorOf(() => scenariosOf(exported, FILE)), { name: 'TypeError', message }, message)
  }
})

test('resolveRequest: defaults GET /, no headers, no body', async (t) => {
  const request = resolveRequest()
  t.strictSame(request, { method: 'GET', path: '/', headers: {} })
  t.notOk('body' in request, 'no body key')
  t.strictSame(resolveRequest({}, {}), { method: 'GET', path: '/', headers: {} })
})

test('resolveRequest: the scenario request, with the defaults for what it leaves out', async (t) => {
  const base = { method: 'OPTIONS', headers: { origin: 'https://app.example' } }
  const request = resolveRequest(base)
  t.strictSame(request, { method: 'OPTIONS', path: '/', headers: { origin: 'https://app.example' } })
  t.not(request.headers, base.headers, 'headers copied')
  t.strictSame(resolveRequest({ path: '/login', body: '{}' }), { method: 'GET', path: '/login', headers: {}, body: '{}' })
})

test('resolveRequest: the override wins field by field, headers merged key by key', async (t) => {
  const base = { method: 'POST', path: '/login', headers: { 'content-type': 'application/json', cookie: 'old=1' }, body: '{"user":"a"}' }
  t.strictSame(resolveRequest(base, { path: '/me', headers: { cookie: 'sid=abc' } }), {
    method: 'POST',
    path: '/me',
    headers: { 'content-type': 'application/json', cookie: 'sid=abc' },
    body: '{"user":"a"}'
  })
  t.strictSame(resolveRequest(base, { method: 'PUT', body: '' }), {
    method: 'PUT',
    path: '/login',
    headers: { 'content-type': 'application/json', cookie: 'old=1' },
    body: ''
  })
  t.strictSame(resolveRequest(undefined, { method: 'DELETE', headers: { 'x-a': '1' } }), { method: 'DELETE', path: '/', headers: { 'x-a': '1' } })
})
