/** The demo's home page: log in, see the session, log out (plain fetch calls to the JSON routes). */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fastify-fleet demo</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  pre { background: #f4f4f4; padding: 1rem; min-height: 3rem; }
  button, input { font: inherit; }
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
<script>
  const out = document.getElementById('out')
  const show = async (res) => { out.textContent = res.status + ' ' + (res.status === 204 ? '' : await res.text()) }
  document.getElementById('login').addEventListener('submit', async (event) => {
    event.preventDefault()
    const user = new FormData(event.target).get('user')
    await show(await fetch('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }) }))
  })
  document.getElementById('me').addEventListener('click', async () => show(await fetch('/me')))
  document.getElementById('logout').addEventListener('click', async () => show(await fetch('/logout', { method: 'POST' })))
</script>
</body>
</html>
`
