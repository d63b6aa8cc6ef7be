import { test } from 'tap'
import { canonicalOrigin } from '../../plugins/cors/origin.js'

test('regression: a backslash ends the host for URL, so an origin with one has a path and is refused', async (t) => {
  // found by the canonicalOrigin property below (seed 20261206): canonicalOrigin gave https://evilapp.example.com for it
  t.equal(canonicalOrigin('https://evilapp.example.com\\evil.com'), null)
  t.equal(canonicalOrigin('https://app.example.com\\'), null)
  t.equal(canonicalOrigin('http://a.example.com\\@evil.com'), null)
  t.equal(canonicalOrigin('https://app.example.com'), 'https://app.example.com')
})
