/**
 * Encryption at rest as a serializer: `serializer: encryptedSerializer({ keys })` on any store, and
 * the backend holds `"v1.<key id>.<iv>.<tag>.<ciphertext>"` (a JSON string, so that PostgreSQL's
 * `json` column takes it) instead of the session's JSON. AES-256-GCM (`node:crypto`), a random
 * 12-byte IV per record, the header `v1.<key id>` as additional authenticated data; IV, tag and
 * ciphertext in base64url without padding. It writes with the first
 * key and reads with any listed one, so a new key goes first and the old one stays listed until the
 * sessions written with it have expired (or been rewritten): nobody is logged out. A record that does
 * not decrypt (unknown key id, altered, truncated, not this format) makes `parse` throw, which every
 * store reads as "no session" (`FST_FLEET_SESSION_CORRUPT`, logged).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { isObject, show } from '../internal/option-kit.js'
import { check, JSON_SERIALIZER, type Serializer } from './options.js'

/** One key of `encryptedSerializer`. */
export interface EncryptionKey {
  /** Names the key in each record it writes: 1 to 32 of `A-Z a-z 0-9 _ -`, unique among the keys. */
  id: string
  /** 32 bytes: a Buffer (or Uint8Array), or their base64 (or base64url) text. */
  key: Uint8Array | string
}

/** Options of `encryptedSerializer`. */
export interface EncryptedSerializerOptions {
  /** The keys, the one that writes first; at least one. */
  keys: readonly EncryptionKey[]
  /**
   * What turns the session into the text that is encrypted, and back.
   * @default JSON (`{ stringify: JSON.stringify, parse: JSON.parse }`)
   */
  serializer?: Serializer
}

/** The record format's version, the first field of every record. */
export const RECORD_VERSION = 'v1'

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/
const IV_BYTES = 12
const TAG_BYTES = 16

/** The key's 32 bytes, or the reason it is not a key. */
function keyBytes (key: unknown): Buffer | string {
  if (typeof key === 'string') {
    return BASE64_KEY.test(key) ? Buffer.from(key, 'base64') : 'expected the base64 text of 32 bytes (44 characters, or 43 unpadded)'
  }
  if (key instanceof Uint8Array) return key.length === 32 ? Buffer.from(key) : `expected 32 bytes, got ${key.length}`
  return `expected a Buffer of 32 bytes or its base64 text, got ${show(key)}`
}

/** The keys checked (`FST_FLEET_SESSION_INVALID_OPTION`), by id, the writing one first. */
function checkKeys (input: unknown): Map<string, Buffer> {
  if (!Array.isArray(input) || input.length === 0) check.invalid('keys', `expected a non-empty array of { id, key }, got ${show(input)}`)
  const keys = new Map<string, Buffer>()
  for (const [i, entry] of (input as unknown[]).entries()) {
    const entryObject = check.object(`keys[${i}]`, entry)
    check.known(entryObject, ['id', 'key'], `keys[${i}].`)
    const { id } = entryObject
    if (typeof id !== 'string' || !KEY_ID.test(id)) check.invalid(`keys[${i}].id`, `expected 1 to 32 of A-Z a-z 0-9 _ -, got ${show(id)}`)
    if (keys.has(id as string)) check.invalid(`keys[${i}].id`, `${show(id)} is the id of an earlier key`)
    const bytes = keyBytes(entryObject.key)
    if (typeof bytes === 'string') check.invalid(`keys[${i}].key`, bytes)
    keys.set(id as string, bytes as Buffer)
  }
  return keys
}

/** `text` as base64url bytes when it is exactly their canonical text (no padding, no stray character). */
function decode (text: string | undefined, bytes: number | null): Buffer | null {
  if (text === undefined) return null
  const buffer = Buffer.from(text, 'base64url')
  return (bytes === null || buffer.length === bytes) && buffer.toString('base64url') === text ? buffer : null
}

/**
 * A `Serializer` that encrypts each session with AES-256-GCM under the first of `keys` and decrypts
 * records of any of them: `encryptedSerializer({ keys: [{ id: 'k2', key }, { id: 'k1', key: old }] })`.
 */
export function encryptedSerializer (options: EncryptedSerializerOptions): Serializer {
  const input = check.object('options', options)
  check.known(input, ['keys', 'serializer'])
  const keys = checkKeys(input.keys)
  const inner = input.serializer ?? JSON_SERIALIZER
  if (!isObject(inner) || typeof inner.stringify !== 'function' || typeof inner.parse !== 'function') {
    check.invalid('serializer', 'expected an object with stringify() and parse() functions')
  }
  const { stringify, parse } = inner as unknown as Serializer
  const [writeId, writeKey] = keys.entries().next().value as [string, Buffer]
  const writeHeader = `${RECORD_VERSION}.${writeId}`
  const writeAad = Buffer.from(writeHeader)

  return {
    stringify: (session) => {
      const plain: unknown = stringify(session)
      if (typeof plain !== 'string') throw new TypeError(`the inner serializer returned ${typeof plain}, expected a string`)
      const iv = randomBytes(IV_BYTES)
      const cipher = createCipheriv('aes-256-gcm', writeKey, iv).setAAD(writeAad)
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return `"${writeHeader}.${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${data.toString('base64url')}"`
    },
    parse: (text) => {
      const quoted = text.length > 1 && text.startsWith('"') && text.endsWith('"')
      const fields = quoted ? text.slice(1, -1).split('.') : []
      const [version, id, ivText, tagText, dataText] = fields
      const iv = decode(ivText, IV_BYTES)
      const tag = decode(tagText, TAG_BYTES)
      const data = decode(dataText, null)
      if (fields.length !== 5 || version !== RECORD_VERSION || iv === null || tag === null || data === null) {
        throw new Error(`not an encrypted record (expected "${RECORD_VERSION}.<key id>.<iv>.<tag>.<ciphertext>")`)
      }
      const key = keys.get(id as string)
      if (key === undefined) throw new Error(`no key has the record's key id ${show(id)}`)
      const decipher = createDecipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(`${version}.${id as string}`)).setAuthTag(tag)
      let plain: string
      try {
        plain = Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8')
      } catch {
        throw new Error(`the record does not authenticate under key ${show(id)} (altered, or written with another key of that id)`)
      }
      return parse(plain)
    }
  }
}
