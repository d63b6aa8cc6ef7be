// The app of the cluster scenarios (`servers/cluster-cpu.ts` on startCluster(), `pm2/app.ts` under
// PM2), built the same way whatever runs it. `GET /sales?from=0&to=89` is CPU-bound the way a
// server-rendered report is: it groups the `CPU_ORDERS` orders of the period (default 4000, about
// 1.5 ms of JavaScript per request on the machine of bench/RESULTS.md) by customer and item, sorts
// the groups by amount, renders them as an HTML table (escaped cells, currency formatting) and sends
// the page (about 5 KB, so the load generator has little to read) with a strong ETag (SHA-1 of the
// page). Nothing is cached between requests and nothing waits on I/O or the thread pool: a request
// takes one core while it runs. `GET /` is the hello-world route: what a process manager adds per
// request shows there, not hidden behind the route's own work.
import { createHash } from 'node:crypto'
import fastify, { type FastifyInstance } from 'fastify'
import { serverOptions } from 'fastify-fleet/server'

const count = Number(process.env.CPU_ORDERS ?? 4000)

interface Order { id: number, customer: string, item: string, quantity: number, price: number, day: number }
interface Group { customer: string, item: string, orders: number, quantity: number, amount: number }

const FIRST = ['Ada', 'Bob', 'Chloé', 'Dmitri', 'Émile', 'Fatima', 'Giulia', 'Hiro']
const LAST = ['& Co', '"Best" Bikes', '<Café>', 'Ltd', '& Fils']
const ITEMS = ['bolt M6 <zinc>', 'nut & washer', 'bracket "L"', 'hinge 50 mm', 'spring 2\'', 'gasket', 'rivet', 'clamp <large>']
/** The orders of the last 90 days, made once at start-up (the report reads them, as it would read a cache). */
const orders: Order[] = Array.from({ length: count }, (_, i) => ({
  id: 10_000 + i,
  customer: `${FIRST[i % FIRST.length]!} ${LAST[(i * 3) % LAST.length]!}`,
  item: ITEMS[(i * 7) % ITEMS.length]!,
  quantity: 1 + (i * 13) % 40,
  price: 0.25 + ((i * 37) % 400) / 8,
  day: i % 90
}))

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;' }
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
const money = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'EUR' })

/** The sales report of days `from`–`to`: one row per customer and item, largest amount first. */
function salesReport (list: readonly Order[], from: number, to: number): string {
  const groups = new Map<string, Group>()
  for (const o of list) {
    if (o.day < from || o.day > to) continue
    const key = `${o.customer}\u0000${o.item}`
    let g = groups.get(key)
    if (g === undefined) groups.set(key, g = { customer: o.customer, item: o.item, orders: 0, quantity: 0, amount: 0 })
    g.orders++
    g.quantity += o.quantity
    g.amount += o.quantity * o.price
  }
  const rows = [...groups.values()].sort((a, b) => b.amount - a.amount)
  let body = ''
  for (const g of rows) {
    body += `<tr><td>${escapeHtml(g.customer)}</td><td>${escapeHtml(g.item)}</td><td class="n">${g.orders}</td>` +
      `<td class="n">${g.quantity}</td><td class="n">${money.format(g.amount)}</td></tr>\n`
  }
  return '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sales</title></head><body>' +
    `<h1>Sales, days ${from}–${to}</h1><table><thead><tr><th>customer</th><th>item</th><th>orders</th>` +
    `<th>quantity</th><th>amount</th></tr></thead><tbody>\n${body}</tbody></table></body></html>`
}

const day = (value: string | undefined, fallback: number): number => {
  const n = Number(value ?? fallback)
  return Number.isInteger(n) && n >= 0 && n < 90 ? n : fallback
}

/** The app (not listening yet), `logger: false`, on the development certificate (HTTP/2, TLS, `allowHTTP1`). */
export async function buildClusterApp (): Promise<FastifyInstance<any, any, any, any, any>> {
  const app: FastifyInstance<any, any, any, any, any> = fastify({ ...await serverOptions(), logger: false })
  app.get('/', async () => ({ hello: 'world' }))
  app.get('/sales', async (request, reply) => {
    const query = request.query as { from?: string, to?: string }
    const page = salesReport(orders, day(query.from, 0), day(query.to, 89))
    const etag = `"${createHash('sha1').update(page).digest('base64url')}"`
    return await reply.header('etag', etag).type('text/html; charset=utf-8').send(page)
  })
  return app
}
