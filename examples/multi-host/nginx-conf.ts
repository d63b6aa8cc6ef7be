import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/** The values of the template's `${NAME}` placeholders. */
export interface NginxConfValues {
  RUN_DIR: string
  LISTEN_ADDRESS: string
  PORT: number
  /** 0: no plain-HTTP listener. */
  REDIRECT_PORT: number
  TLS_CERT: string
  TLS_KEY: string
  PROXY_BIND: string
  APP_PORT: number
  STICKY: boolean
}

/**
 * Where nginx.conf.template is: next to this module when it runs from the sources; tsc does not
 * copy it to dist/, so from dist/examples/multi-host/ it is found in the sources' folder.
 */
export function templatePath (moduleUrl: string = import.meta.url, exists: (path: string) => boolean = existsSync): string {
  const beside = fileURLToPath(new URL('nginx.conf.template', moduleUrl))
  return exists(beside) ? beside : fileURLToPath(new URL('../../../examples/multi-host/nginx.conf.template', moduleUrl))
}

/** The template with every placeholder filled in; a placeholder without a value is an error. */
export function renderNginxConf (template: string, values: NginxConfValues): string {
  const text: Record<string, string> = {
    ...Object.fromEntries(Object.entries(values).map(([name, value]) => [name, String(value)])),
    // a comment marker turns the sticky lines off
    STICKY: values.STICKY ? '' : '# '
  }
  let conf = template.replace(/\$\{([A-Z_]+)\}/g, (placeholder, name: string) => {
    const value = text[name]
    if (value === undefined) throw new Error(`nginx.conf.template: no value for ${placeholder}`)
    return value
  })
  // REDIRECT_PORT=0: no plain-HTTP listener
  if (values.REDIRECT_PORT === 0) conf = conf.replace(/^\s*listen \S+:0;\n/m, '')
  return conf
}

/** Reads the template and fills it in. */
export async function nginxConf (values: NginxConfValues, path = templatePath()): Promise<string> {
  return renderNginxConf(await readFile(path, 'utf8'), values)
}
