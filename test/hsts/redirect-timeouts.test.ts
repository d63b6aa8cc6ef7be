// A client that never finishes its request head (slowloris) must not hold a socket of the redirect
// listener for long: Node enforces headersTimeout only when it sweeps its connections, every
// connectionsCheckingInterval (30 s by default), so the listener has to sweep more often.
import { connect } from 'node:net'
import { test } from 'tap'
import { httpsRedirectServer } from '../../plugins/hsts/index.js'

/** Sends `bytes` and resolves with what the server wrote and when it closed; gives up after `timeout` ms. */
async function untilClosed (port: number, bytes: string, timeout: number): Promise<{ text: string, ms: number }> {
  const started = Date.now()
  return await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => { text += chunk })
    socket.once('close', () => resolve({ text, ms: Date.now() - started }))
    socket.once('error', reject)
    socket.setTimeout(timeout, () => socket.destroy())
    socket.write(bytes)
  })
}

test('httpsRedirectServer: an unfinished request head is answered 408 and closed soon after headersTimeout (5 s)', async (t) => {
  const handle = await httpsRedirectServer({ port: 0, host: '127.0.0.1', httpsPort: 8443, allowedHosts: ['localhost'] })
  t.teardown(handle.close)
  const [slow, idle] = await Promise.all([
    untilClosed(handle.port, 'GET / HTTP/1.1\r\nHost: localhost\r\n', 25_000),
    untilClosed(handle.port, '', 25_000)
  ])
  t.match(slow.text, /^HTTP\/1\.1 408 Request Timeout\r\n/, 'the unfinished request: 408')
  t.ok(slow.ms >= 4900 && slow.ms < 12_000, `closed after ${slow.ms} ms`)
  t.ok(idle.ms >= 4900 && idle.ms < 12_000, `a connection that sends nothing: closed after ${idle.ms} ms`)
})
