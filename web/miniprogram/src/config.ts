// Where the mini-program talks to, in one place. A property company publishing its own copy
// sets `apiBase` to the platform's HTTPS host (whitelisted as a request domain in the
// mini-program console) and `tenant` to its company code. The subscription message templates
// come from the server (mySubscriptionTemplates: those set in the portal's WeChat template
// settings), not from the build.

export interface Config {
  /** The platform's API, `https://…`, no trailing slash. */
  apiBase: string
  /** The company code (tenant slug) the customers log in to. */
  tenant: string
  /** How long to wait for the payment notification before saying "on its way" (ms). */
  paymentWaitMs: number
}

const config: Config = {
  apiBase: 'https://api.voltledger.example.com',
  tenant: 'demo',
  paymentWaitMs: 20000,
}

export function getConfig(): Config {
  return config
}

/** Tests point the app at a local server; a publisher may also set values at launch. */
export function configure(values: Partial<Config>): void {
  Object.assign(config, values)
  config.apiBase = config.apiBase.replace(/\/+$/, '')
}
