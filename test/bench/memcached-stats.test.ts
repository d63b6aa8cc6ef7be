import { test } from 'tap'
import { memcachedCommandsPerRequest, parseStats } from '../../bench/lib/memcached-stats.js'

// the start of memcached 1.6's `stats` reply
const REPLY = ['STAT pid 4242', 'STAT uptime 12', 'STAT version 1.6.18', 'STAT rusage_user 0.051234', 'STAT cmd_get 10', 'STAT cmd_set 4',
  'STAT cmd_touch 1', 'STAT get_hits 9', 'STAT delete_misses 0', 'STAT delete_hits 2', 'END', ''].join('\r\n')

test('parseStats: the numeric counters, other lines skipped', async (t) => {
  const stats = parseStats(REPLY)
  t.equal(stats.cmd_get, 10)
  t.equal(stats.rusage_user, 0.051234)
  t.equal(stats.version, undefined, 'not a number')
  t.same(parseStats('END\r\n'), {})
})

test('memcachedCommandsPerRequest: gets, sets, touches and deletes between two snapshots, per request', async (t) => {
  const before = parseStats(REPLY)
  const after = { ...before, cmd_get: 210, cmd_set: 104, cmd_touch: 51, delete_hits: 12, get_hits: 1000 }
  t.equal(memcachedCommandsPerRequest(before, after, 100), (200 + 100 + 50 + 10) / 100)
  t.equal(memcachedCommandsPerRequest({}, { cmd_get: 5 }, 5), 1, 'a counter missing before counts from 0')
  t.ok(Number.isNaN(memcachedCommandsPerRequest(before, after, 0)), 'no requests')
})
