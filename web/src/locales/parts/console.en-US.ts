// The SaaS operator's console (AREA console). Same keys as console.zh-CN.ts.
export default {
  console: {
    brand: 'VoltLedger Platform console',
    menu: { tenants: 'Tenants', provider: 'Payment provider', health: 'Platform health', audit: 'Platform audit log' },
    login: {
      refused: 'That session is not a platform operator\'s and was refused; sign in with a platform account',
      title: 'Platform console sign-in', subtitle: 'For the SaaS operator; property companies sign in with their company code', invalid: 'Wrong username or password',
      disabled: 'This platform account is disabled', expired: 'Your platform session has expired; please sign in again', notTenant: 'A property company operator?',
      toPortal: 'Company sign-in',
    },
    status: { ACTIVE: 'Active', SUSPENDED: 'Suspended' },
    tenants: {
      hint: 'A suspended company\'s operators, devices and API clients are refused at once', new: 'New tenant', create: 'Create', search: 'Name or company code',
      none: 'No tenants yet', noMatch: 'No tenant matches', name: 'Company name', nameHint: 'e.g. Sunrise Property Management Ltd.', slug: 'Company code',
      slugHint: '2–40 of a-z, 0-9 and -; operators type it to sign in; cannot be changed later', timeZone: 'Time zone', status: 'Status', firstAdmin: 'First administrator',
      adminUsername: 'Admin username', adminPassword: 'Initial password', passwordHint: 'Must meet the password policy; hand it over safely and ask them to change it',
      created: 'Tenant "{name}" created: {admin} can sign in with company code {slug}', suspend: 'Suspend', reactivate: 'Reactivate', suspendTitle: 'Suspend tenant',
      suspendConfirm: 'Suspend "{name}" ({slug})? All its operators, meters and gateways, and API clients are refused at once; signed-in sessions fail on their next request. Its data is kept and service can be restored at any time.',
      reactivateTitle: 'Reactivate tenant', reactivateConfirm: 'Restore service for "{name}" ({slug})? Its operators can sign in again at once; devices and API clients reconnect.',
      suspended: '"{name}" suspended', reactivated: '"{name}" reactivated',
    },
    provider: {
      title: 'WeChat Pay service-provider account',
      hint: 'Tenants\' sub-merchants are paid through the platform\'s service-provider account; the private key and APIv3 key are sent once, stored encrypted and never shown again.',
      none: 'No service-provider account yet: WeChat Pay for sub-merchants is unavailable', set: 'Set up the provider account', rotate: 'Replace credentials',
      refreshCerts: 'Update platform certificates', certsRefreshed: 'WeChat Pay platform certificates downloaded with the stored credentials', spMchid: 'Provider merchant no.',
      spAppid: 'Provider AppID', serial: 'Merchant API cert serial', secrets: 'Private key & APIv3 key', secretsStored: 'Stored encrypted (not shown)', wechatKeys: 'WeChat Pay public keys',
      noKeys: 'None', apiBase: 'API base', notifyUrl: 'Payment notify URL', privateKey: 'Merchant private key (PEM)', apiV3Key: 'APIv3 key', apiV3Hint: '32 characters',
      keySerial: 'Serial / PUB_KEY_ID', addKey: 'Add a key', remove: 'Remove', rotationHint: 'During a rotation list both the old and the new key until WeChat signs only with the new one',
      notifyHint: 'Public HTTPS URL of /pay/wechat/notify (no query string)', secretsOnce: 'The private key and APIv3 key are sent this once and never shown again; every change needs all credentials again.',
      saved: 'Saved; the credentials will not be shown again',
    },
    health: {
      checkedAt: 'Counted at {time} ({zone})', auto: 'Refreshes every 30 s while this page is visible', tenants: 'Tenants', meters: 'Meters', gateways: 'Gateways', commands: 'Commands',
      other: 'Notifications & alarms', total: 'Total', online: 'Online', lost: 'Lost', queued: 'Queued', sent: 'Sent, awaiting reply', notifications: 'Notifications pending',
      openAlarms: 'Open alarms', probes: 'Service probes', probedAt: 'Probed at {time}', endpoint: 'Endpoint', meaning: 'Meaning', result: 'Result', answer: 'Answer', latency: 'Time',
      healthz: 'The process is alive (healthz)', readyz: 'Ready for requests: database and other dependencies up (readyz)', up: 'OK', down: 'Failing',
    },
    audit: {
      search: 'Actor, action, tenant or outcome', latest: 'Latest {n}', hint: 'Times in {zone}; expand a row for its arguments (secrets blanked)', none: 'No actions recorded yet',
      at: 'Time', actor: 'Actor', action: 'Action', tenant: 'Tenant', outcome: 'Outcome', input: 'Arguments', source: 'Source address', filtered: 'Showing {n} of the {total} loaded',
    },
  },
}
