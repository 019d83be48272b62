// 平台运营控制台 (AREA console). Same keys in console.en-US.ts.
export default {
  console: {
    brand: 'VoltLedger 平台运营',
    menu: { tenants: '租户管理', provider: '支付服务商', health: '平台健康', audit: '平台操作日志' },
    login: {
      refused: '该登录不是平台运营账号，已被平台拒绝，请用平台运营账号登录',
      title: '平台运营登录', subtitle: 'SaaS 平台运营方专用，物业公司请使用公司登录', invalid: '用户名或密码错误', disabled: '该平台运营账号已停用',
      expired: '平台登录已过期，请重新登录', notTenant: '物业公司操作员？', toPortal: '前往公司登录',
    },
    status: { ACTIVE: '正常', SUSPENDED: '已暂停' },
    tenants: {
      hint: '暂停后该公司的操作员、设备和接口客户端立即被拒绝', new: '新建租户', create: '创建', search: '名称或公司代码', none: '还没有租户', noMatch: '没有符合条件的租户',
      name: '公司名称', nameHint: '如：某某物业管理有限公司', slug: '公司代码', slugHint: '2–40 位小写字母、数字或 -；操作员登录时填写，创建后不可修改',
      timeZone: '时区', status: '状态', firstAdmin: '首位管理员', adminUsername: '管理员用户名', adminPassword: '初始密码',
      passwordHint: '须符合密码策略；请通过安全渠道告知对方，并提醒其首次登录后修改', created: '已创建租户「{name}」：管理员 {admin} 可用公司代码 {slug} 登录',
      suspend: '暂停服务', reactivate: '恢复服务', suspendTitle: '暂停租户',
      suspendConfirm: '暂停「{name}」（{slug}）？其所有操作员、电表与网关、接口客户端立即被拒绝，已登录的会话在下一次请求时失效。数据全部保留，可随时恢复服务。',
      reactivateTitle: '恢复租户', reactivateConfirm: '恢复「{name}」（{slug}）的服务？其操作员可立即重新登录，设备与接口客户端恢复接入。',
      suspended: '已暂停「{name}」', reactivated: '已恢复「{name}」',
    },
    provider: {
      title: '微信支付服务商账户', hint: '各租户的特约商户（子商户）通过平台的服务商账户收款；私钥和 APIv3 密钥只提交一次，加密保存，之后不再显示。',
      none: '尚未配置服务商账户：特约商户的微信支付暂不可用', set: '设置服务商账户', rotate: '更换凭据', refreshCerts: '更新平台证书', certsRefreshed: '已用现有凭据下载微信支付平台证书',
      spMchid: '服务商商户号', spAppid: '服务商 AppID', serial: '商户 API 证书序列号', secrets: '私钥与 APIv3 密钥', secretsStored: '已加密保存（不显示）',
      wechatKeys: '微信支付公钥', noKeys: '未设置', apiBase: 'API 地址', notifyUrl: '支付通知地址', privateKey: '商户私钥（PEM）', apiV3Key: 'APIv3 密钥', apiV3Hint: '32 位字符',
      keySerial: '序列号 / PUB_KEY_ID', addKey: '添加公钥', remove: '移除', rotationHint: '轮换期间请同时填写新旧两把公钥，直到微信只用新钥签名',
      notifyHint: '/pay/wechat/notify 的公网 HTTPS 地址（不带查询参数）', secretsOnce: '私钥与 APIv3 密钥只提交这一次，加密保存后不再显示；每次更换都需重新填写全部凭据。',
      saved: '已保存，凭据不会再显示',
    },
    health: {
      checkedAt: '统计时间 {time}（{zone}）', auto: '页面可见时每 30 秒自动刷新', tenants: '租户', meters: '电表', gateways: '网关', commands: '指令', other: '通知与报警',
      total: '总数', online: '在线', lost: '失联', queued: '排队中', sent: '已下发待回复', notifications: '待发送通知', openAlarms: '未恢复报警',
      probes: '服务探针', probedAt: '检测于 {time}', endpoint: '接口', meaning: '含义', result: '结果', answer: '应答', latency: '耗时',
      healthz: '进程存活（healthz）', readyz: '可以接收请求：数据库等依赖就绪（readyz）', up: '正常', down: '异常',
    },
    audit: {
      search: '操作人、操作、租户或结果', latest: '最近 {n} 条', hint: '时间为 {zone}；展开一行查看参数（已隐去密钥）', none: '暂无操作记录',
      at: '时间', actor: '操作人', action: '操作', tenant: '租户', outcome: '结果', input: '参数', source: '来源地址', filtered: '已载入的 {total} 条中显示 {n} 条',
    },
  },
}
