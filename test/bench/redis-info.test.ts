import { test } from 'tap'
import { commandsBetween, commandsPerRequest, parseCommandStats } from '../../bench/lib/redis-info.js'

// `INFO commandstats` of Redis 7.0, as ioredis returns it (CRLF line ends)
const BEFORE = [
  '# Commandstats',
  'cmdstat_info:calls=3,usec=120,usec_per_call=40.00,rejected_calls=0,failed_calls=0',
  'cmdstat_client|setinfo:calls=4,usec=6,usec_per_call=1.50,rejected_calls=0,failed_calls=0',
  'cmdstat_get:calls=10,usec=30,usec_per_call=3.00,rejected_calls=0,failed_calls=0',
  'cmdstat_set:calls=2,usec=9,usec_per_call=4.50,rejected_calls=0,failed_calls=0',
  ''
].join('\r\n')
const AFTER = [
  '# Commandstats',
  'cmdstat_info:calls=4,usec=160,usec_per_call=40.00,rejected_calls=0,failed_calls=0',
  'cmdstat_client|setinfo:calls=4,usec=6,usec_per_call=1.50,rejected_calls=0,failed_calls=0',
  'cmdstat_multi:calls=100,usec=50,usec_per_call=0.50,rejected_calls=0,failed_calls=0',
  'cmdstat_exec:calls=100,usec=900,usec_per_call=9.00,rejected_calls=0,failed_calls=0',
  'cmdstat_get:calls=110,usec=330,usec_per_call=3.00,rejected_calls=0,failed_calls=0',
  'cmdstat_pexpiretime:calls=100,usec=200,usec_per_call=2.00,rejected_calls=0,failed_calls=0',
  'cmdstat_set:calls=2,usec=9,usec_per_call=4.50,rejected_calls=0,failed_calls=0',
  ''
].join('\r\n')

test('parseCommandStats: calls per command, subcommands included, other lines skipped', async (t) => {
  t.strictSame(parseCommandStats(BEFORE), { info: 3, 'client|setinfo': 4, get: 10, set: 2 })
  t.strictSame(parseCommandStats('# Server\nredis_version:7.0.15\n\n# Commandstats\ncmdstat_ping:calls=1,usec=2\n'), { ping: 1 })
  t.strictSame(parseCommandStats(''), {})
  t.strictSame(parseCommandStats('cmdstat_get:usec=3\nxcmdstat_set:calls=1'), {}, 'no calls field, not at a line start')
})

test('commandsBetween: new calls by command, INFO and commands with no new call left out', async (t) => {
  const before = parseCommandStats(BEFORE)
  const after = parseCommandStats(AFTER)
  t.strictSame(commandsBetween(before, after), { multi: 100, exec: 100, get: 100, pexpiretime: 100 })
  t.strictSame(commandsBetween(before, after, []), { info: 1, multi: 100, exec: 100, get: 100, pexpiretime: 100 })
  t.strictSame(commandsBetween(before, after, ['multi', 'exec', 'info']), { get: 100, pexpiretime: 100 })
  t.strictSame(commandsBetween(before, before), {})
})

test('commandsPerRequest: the commands between two snapshots over the requests; NaN without requests', async (t) => {
  const before = parseCommandStats(BEFORE)
  const after = parseCommandStats(AFTER)
  t.equal(commandsPerRequest(before, after, 100), 4)
  t.equal(commandsPerRequest(before, after, 80), 5)
  t.equal(commandsPerRequest(before, after, 100, ['multi', 'exec', 'info']), 2)
  t.equal(commandsPerRequest(before, before, 100), 0)
  t.ok(Number.isNaN(commandsPerRequest(before, after, 0)))
  t.ok(Number.isNaN(commandsPerRequest(before, after, Number.NaN)))
})
