/**
 * The demo's home page: log in, see the session, log out (plain fetch calls to the JSON routes),
 * and a panel that refreshes itself from `GET /fleet`: which worker answered and over which
 * protocol, whether HSTS was sent, the session store's counters, and the cluster's workers.
 */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fastify-fleet demo</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; }
  pre { background: #f4f4f4; padding: 1rem; min-height: 3rem; }
  button, input { font: inherit; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #ddd; }
  dt { font-weight: 600; float: left; clear: left; width: 9rem; }
  dd { margin-left: 9rem; }
  tr.answered { background: #eef5ff; }
</style>
</head>
<body>
<h1>fastify-fleet demo</h1>
<p>HTTP/2 over TLS, sessions shared by the workers of a cluster.</p>
<form id="login">
  <label>User <input name="user" required maxlength="100" autocomplete="username"></label>
  <button>Log in</button>
</form>
<p><button id="me">Who am I?</button> <button id="logout">Log out</button></p>
<pre id="out" aria-live="polite"></pre>
<section id="fleet">
  <h2>The fleet, live</h2>
  <dl>
    <dt>answered by</dt><dd id="answered">…</dd>
    <dt>protocol</dt><dd id="protocol">…</dd>
    <dt>HSTS</dt><dd id="hsts">…</dd>
    <dt>session store</dt><dd id="store">…</dd>
  </dl>
  <table id="workers">
    <thead><tr><th>worker</th><th>pid</th><th>state</th><th>uptime</th><th>restarts</th><th>memory</th><th>event loop p99</th></tr></thead>
    <tbody></tbody>
  </table>
</section>
<script>
  const out = document.getElementById('out')
  const text = (id, value) => { document.getElementById(id).textContent = value }
  const show = async (res) => {
    out.textContent = res.status + ' ' + (res.status === 204 ? '' : await res.text())
    refresh()
  }
  document.getElementById('login').addEventListener('submit', async (event) => {
    event.preventDefault()
    const user = new FormData(event.target).get('user')
    await show(await fetch('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }) }))
  })
  document.getElementById('me').addEventListener('click', async () => show(await fetch('/me')))
  document.getElementById('logout').addEventListener('click', async () => show(await fetch('/logout', { method: 'POST' })))

  const seconds = (ms) => Math.round(ms / 1000) + ' s'
  const megabytes = (bytes) => (bytes / 1048576).toFixed(1) + ' MB'
  async function refresh () {
    let res
    try {
      res = await fetch('/fleet', { cache: 'no-store' })
    } catch (err) {
      text('answered', 'no answer: ' + err.message)
      return
    }
    if (!res.ok) {
      text('answered', 'answered ' + res.status)
      return
    }
    const fleet = await res.json()
    const by = fleet.answeredBy
    text('answered', 'worker ' + by.workerId + ' (pid ' + by.pid + ') on ' + by.host)
    text('protocol', fleet.protocol)
    const hsts = res.headers.get('strict-transport-security')
    text('hsts', hsts === null ? 'not sent (browsers ignore it for localhost and IP addresses)' : 'sent: ' + hsts)
    const stats = fleet.sessionStore.stats
    text('store', fleet.sessionStore.name + ': ' + stats.hits + ' hits, ' + stats.misses + ' misses, ' + stats.errors + ' errors, breaker ' + stats.breaker)
    const rows = fleet.workers.map((w) => {
      const row = document.createElement('tr')
      if (w.pid === by.pid) row.className = 'answered'
      for (const cell of [w.id, w.pid, w.state, seconds(w.uptime), w.restarts,
        w.memory === null ? '…' : megabytes(w.memory.rss),
        w.eventLoopDelay === null ? '…' : w.eventLoopDelay.p99 + ' ms']) {
        const td = document.createElement('td')
        td.textContent = String(cell)
        row.append(td)
      }
      return row
    })
    document.querySelector('#workers tbody').replaceChildren(...rows)
  }
  refresh()
  setInterval(refresh, 2000)
</script>
</body>
</html>
`
