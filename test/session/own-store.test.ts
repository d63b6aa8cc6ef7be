import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { FileBackend } from '../../examples/own-store/file-backend.js'
import { forTap, storeConformance } from '../../plugins/session/conformance.js'
import { BackendStore } from '../../plugins/session/index.js'

test('a backend of your own (the FileBackend of docs/session.md) passes the conformance suite as a BackendStore', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'fleet-own-store-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  let n = 0
  forTap(t, storeConformance((ctx) => new BackendStore(new FileBackend(join(root, String(++n)), ctx.now), ctx), { largePayloadBytes: 64 * 1024 }))
})
