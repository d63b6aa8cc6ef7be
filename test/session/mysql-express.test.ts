// An Express app (express-session + express-mysql-session) and a Fastify app (@fastify/session +
// MySqlStore) on one MariaDB/MySQL table share live sessions both ways, over real HTTP: a team
// moving from Express keeps its table and its logged-in users. Each side's rows are checked as the
// other expects them: `data` the session's JSON, `expires` its cookie's expiry in seconds.
import { test } from 'tap'
import { recordingLogger } from '../../plugins/session/conformance/harness.js'
import { MySqlStore } from '../../plugins/session/index.js'
import { importUntyped, interopApps, sqlSessionsCross } from '../helpers/express-interop.js'
import { requireService } from '../helpers/services.js'
import { countingPool, dropTables, mysqlPool, uniqueTable } from '../helpers/sql.js'

/** Who makes the table: MySqlStore (`createTable: true`, with an index on `expires`) or express-mysql-session (`createDatabaseTable: true`, without). */
const MAKERS = ['MySqlStore', 'express-mysql-session'] as const

for (const maker of MAKERS) {
  test(`Express (express-session + express-mysql-session) and Fastify (MySqlStore) share live sessions both ways: the table made by ${maker}`, async (t) => {
    const mysql = await requireService(t, 'mysql')
    if (mysql === null) return
    const modules = await importUntyped(t, ['express', 'express-session', 'express-mysql-session'])
    if (modules === null) return
    const [{ default: express }, { default: session }, { default: expressMySqlSession }] = modules
    // a mysql2/promise pool: express-mysql-session 3 takes the promise its query() returns
    const pool = mysqlPool(t, mysql.url)
    const tableName = uniqueTable('express')
    dropTables(t, (sql) => pool.query(sql), [tableName], '`')
    const rows = async (sql: string, values: unknown[] = []): Promise<Array<Record<string, any>>> => (await pool.query(sql, values))[0] as Array<Record<string, any>>

    const MySQLStore = expressMySqlSession(session)
    const mysqlStore = new MySQLStore({ createDatabaseTable: maker === 'express-mysql-session', clearExpired: false, schema: { tableName } }, pool)
    t.teardown(() => mysqlStore.close())
    await mysqlStore.onReady()

    // what the Fastify side runs is counted (the Express side uses the pool itself)
    const { pool: counted, statements } = countingPool(pool)
    const logger = recordingLogger()
    const store = new MySqlStore({ pool: counted, tableName, createTable: maker === 'MySqlStore', pruneInterval: false, logger })
    t.teardown(() => store.close())
    t.equal(await store.length(), 0, `${maker} made the table before either side serves a request`)
    if (maker === 'MySqlStore') t.strictSame(logger.lines, [], 'with its index on expires')
    else {
      t.match(logger.lines, [{ level: 'warn', obj: { err: { code: 'FST_FLEET_SESSION_EXPIRES_INDEX_MISSING' } } }],
        'express-mysql-session\'s table has no index on expires: MySqlStore says once how to add it')
    }
    const { call } = await interopApps(t, { express, session, expressStore: mysqlStore, fastifyStore: store })
    await sqlSessionsCross(t, call, {
      names: { express: 'express-mysql-session', fastify: 'MySqlStore', data: 'data', expires: 'expires' },
      // `expires` is in whole seconds
      row: async (sid) => {
        const [row] = await rows(`SELECT data, expires FROM \`${tableName}\` WHERE session_id = ?`, [sid])
        return row === undefined ? undefined : { data: JSON.parse(row.data), text: row.data, expires: Number(row.expires) * 1000 }
      },
      count: async () => (await rows(`SELECT session_id FROM \`${tableName}\``)).length,
      statements,
      touch: async (sid, written, touched) => {
        await mysqlStore.set(sid, written)
        await mysqlStore.touch(sid, touched)
      }
    })
  })
}
