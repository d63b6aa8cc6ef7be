// watchFiles(): polling with a settle look, on real files.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { watchFiles } from '../../plugins/internal/file-watch.js'
import { sleep } from '../helpers/eventually.js'

t.test('a change is reported once the files stay the same for one more look; a file that goes and comes back counts', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-watch-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const a = join(dir, 'a')
  const b = join(dir, 'b')
  await writeFile(a, '1')
  await writeFile(b, '1')
  let calls = 0
  const stop = watchFiles([a, b], 50, () => { calls++ })
  t.teardown(stop)
  await sleep(200)
  t.equal(calls, 0, 'the first look is the baseline')

  await writeFile(a, '22')
  await writeFile(b, '22')
  await sleep(400)
  t.equal(calls, 1, 'two files written together: one call')

  await rm(a)
  await sleep(400)
  t.equal(calls, 2, 'a file removed is a change')
  await writeFile(a, '333')
  await sleep(400)
  t.equal(calls, 3, 'and so is its return')

  stop()
  await writeFile(b, '4444')
  await sleep(300)
  t.equal(calls, 3, 'stopped: no more calls')
})

t.test('stopped while a look is under way: no call, no new timer', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-watch-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  let calls = 0
  const stop = watchFiles([join(dir, 'never')], 50, () => { calls++ })
  stop()
  await sleep(200)
  t.equal(calls, 0)
})
