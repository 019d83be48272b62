// Chinese first, English on a toggle. Pages put the whole dictionary of the current language
// in their data as `t` and write `{{t.key}}` in WXML; strings with values go through `fmt`.
// `en` is typed by `zh`, so neither can miss a key (and a test compares them too).

import { platform } from './platform'

const zh = {
  app_name: '电费服务',
  lang_toggle: 'English',
  loading: '加载中…',
  retry: '重试',
  // login
  login_title: '电费缴纳',
  login_intro: '用微信登录后，绑定户号即可查看余额、充值和缴纳账单。',
  login_button: '微信一键登录',
  login_busy: '正在登录…',
  // bind
  bind_title: '绑定户号',
  bind_intro: '请输入缴费卡或账单上的户号，并用微信绑定的手机号验证（须与物业登记的手机号一致）。',
  bind_number_label: '户号',
  bind_number_placeholder: '例如 A00000001',
  bind_button: '验证手机号并绑定',
  bind_need_number: '请先输入户号',
  bind_phone_denied: '需要手机号才能确认您是户主；未授权则无法绑定。',
  bind_done: '绑定成功',
  bind_code_heading: '用绑定码绑定',
  bind_code_intro: '物业登记的手机号不是您的微信手机号？请向物业索取绑定码，输入上面的户号和绑定码。',
  bind_code_label: '绑定码',
  bind_code_placeholder: '8 位，例如 AB3D EF7H',
  bind_code_button: '用绑定码绑定',
  bind_need_code: '请输入绑定码',
  // home
  home_title: '我的户号',
  home_balance: '余额（元）',
  home_state: '用电状态',
  home_price: '当前电价',
  home_price_unit: '元/千瓦时',
  home_meters: '电表',
  home_recharge: '充值',
  home_bills: '账单',
  home_bind_more: '绑定其他户号',
  home_subscribe: '订阅余额提醒',
  home_subscribed: '已订阅，还可接收 {n} 条提醒',
  home_subscribe_none: '您未允许任何提醒',
  home_subscribe_unset: '物业尚未开通消息提醒',
  home_none: '还没有绑定户号',
  home_postpaid_note: '本户按月出账，请在“账单”中缴费。',
  home_account: '户号 {number}',
  home_closed: '已销户',
  // states
  state_normal: '正常用电',
  state_normal_hint: '余额充足。',
  state_alarm1: '余额偏低',
  state_alarm1_hint: '已低于第一提醒线，请及时充值。',
  state_alarm2: '余额很低',
  state_alarm2_hint: '已低于第二提醒线，即将欠费，请尽快充值。',
  state_arrears: '已欠费',
  state_arrears_hint: '余额已为负数，欠费额度用完后将停电，请尽快充值。',
  state_tripped: '已停电',
  state_tripped_hint: '电表已断电。如因欠费停电，充值后会自动恢复供电。',
  state_held: '欠费保电中',
  state_held_hint: '欠费额度已用完，物业暂时保持供电，请尽快充值。',
  state_closed: '已销户',
  state_closed_hint: '此户号已销户，不能充值。',
  state_postpaid: '月结账户',
  state_postpaid_hint: '按月出账，请按时缴纳账单。',
  // recharge
  recharge_title: '充值',
  recharge_account: '充值户号',
  recharge_balance_now: '当前余额 ¥{balance}',
  recharge_presets: '选择金额',
  recharge_custom: '其他金额',
  recharge_custom_placeholder: '1.00 – 5000.00 元',
  recharge_fee: '服务费',
  recharge_fee_amount: '服务费 ¥{fee}，实际到账 ¥{credit}',
  recharge_fee_policy: '物业可能按规定收取充值服务费，从充值金额中扣除；支付后显示实际到账金额。',
  recharge_pay: '微信支付 ¥{amount}',
  recharge_paying: '支付中…',
  recharge_waiting: '已支付，正在确认到账…',
  recharge_done: '充值成功，到账 ¥{credit}，当前余额 ¥{balance}',
  recharge_pending: '支付已完成，到账可能稍有延迟，请稍后刷新余额。',
  amount_empty: '请输入金额',
  amount_format: '金额格式不对，最多两位小数',
  amount_min: '最少充值 1.00 元',
  amount_max: '单次最多充值 5000.00 元',
  // bills
  bills_title: '账单',
  bills_none: '暂无账单',
  bills_period: '{period} 账单',
  bills_total: '合计 ¥{total}',
  bill_state_ISSUED: '待缴费',
  bill_state_PAID: '已缴清',
  bill_state_DRAFT: '草稿',
  bill_state_SUPERSEDED: '已作废',
  bill_title: '账单详情',
  bill_lines: '账单明细',
  bill_pay: '缴纳 ¥{amount}',
  bill_paid_at: '缴费时间 {time}',
  bill_done: '缴费成功',
  bill_not_found: '找不到这张账单',
  line_ENERGY: '电费',
  line_TIER: '阶梯电费',
  line_CAPACITY: '容量（需量）电费',
  line_SHARED_AREA: '公摊',
  line_PROPERTY_FEE: '物业费',
  line_SERVICE_FEE: '服务费',
  // errors
  err_network: '网络连接失败，请检查网络后重试。',
  err_wechat: '微信服务暂时不可用，请稍后重试。',
  err_session: '登录已过期，请重新登录。',
  err_server: '操作未成功。',
  err_bind_mismatch: '户号与手机号不匹配：请确认户号，并使用物业登记的手机号。',
  err_bind_code: '户号或绑定码不正确：请核对物业给您的绑定码（如已换新码，旧码不再有效）。',
  err_bind_code_locked: '绑定码输错次数过多，暂时不能用绑定码绑定，请一小时后再试或联系物业。',
  err_forbidden: '没有权限进行此操作。',
  err_too_many: '尝试次数过多，请稍后再试。',
  err_pay_cancelled: '您已取消支付，未扣款。',
  err_pay_failed: '支付未完成，请稍后重试。',
  err_subscribe_failed: '订阅未完成。',
}

export type Dict = typeof zh
export type Key = keyof Dict

const en: Dict = {
  app_name: 'Electricity',
  lang_toggle: '中文',
  loading: 'Loading…',
  retry: 'Retry',
  login_title: 'Pay for electricity',
  login_intro: 'Log in with WeChat, bind your account number, then see your balance, recharge and pay bills.',
  login_button: 'Log in with WeChat',
  login_busy: 'Logging in…',
  bind_title: 'Bind an account',
  bind_intro: 'Enter the account number on your card or bill and confirm with the phone number of your WeChat (it must be the one the property has on file).',
  bind_number_label: 'Account number',
  bind_number_placeholder: 'e.g. A00000001',
  bind_button: 'Confirm phone and bind',
  bind_need_number: 'Enter the account number first',
  bind_phone_denied: 'Your phone number is needed to confirm the account is yours; without it the account cannot be bound.',
  bind_done: 'Account bound',
  bind_code_heading: 'Bind with the code',
  bind_code_intro: 'The phone the property has on file is not your WeChat phone? Ask the property for the binding code and enter it with the account number above.',
  bind_code_label: 'Binding code',
  bind_code_placeholder: '8 characters, e.g. AB3D EF7H',
  bind_code_button: 'Bind with the code',
  bind_need_code: 'Enter the binding code',
  home_title: 'My accounts',
  home_balance: 'Balance (yuan)',
  home_state: 'Supply',
  home_price: 'Price now',
  home_price_unit: 'yuan/kWh',
  home_meters: 'Meters',
  home_recharge: 'Recharge',
  home_bills: 'Bills',
  home_bind_more: 'Bind another account',
  home_subscribe: 'Get balance alerts',
  home_subscribed: 'Subscribed: {n} more alert(s) allowed',
  home_subscribe_none: 'You allowed no alerts',
  home_subscribe_unset: 'Alerts are not set up by the property yet',
  home_none: 'No account bound yet',
  home_postpaid_note: 'This account is billed monthly: pay under "Bills".',
  home_account: 'Account {number}',
  home_closed: 'Closed',
  state_normal: 'Normal',
  state_normal_hint: 'Your balance is fine.',
  state_alarm1: 'Balance low',
  state_alarm1_hint: 'Below the first alert level: please recharge soon.',
  state_alarm2: 'Balance very low',
  state_alarm2_hint: 'Below the second alert level: arrears are close, recharge now.',
  state_arrears: 'In arrears',
  state_arrears_hint: 'Your balance is below zero; power goes off when the credit is used up. Recharge soon.',
  state_tripped: 'Power off',
  state_tripped_hint: 'The meter has cut the power. If it was for arrears, recharging turns it back on.',
  state_held: 'In arrears, power held',
  state_held_hint: 'The credit is used up; the property keeps the power on for now. Recharge soon.',
  state_closed: 'Closed',
  state_closed_hint: 'This account is closed and cannot be recharged.',
  state_postpaid: 'Billed monthly',
  state_postpaid_hint: 'A bill comes every month; please pay it on time.',
  recharge_title: 'Recharge',
  recharge_account: 'Account',
  recharge_balance_now: 'Balance now ¥{balance}',
  recharge_presets: 'Amount',
  recharge_custom: 'Other amount',
  recharge_custom_placeholder: '1.00 – 5000.00 yuan',
  recharge_fee: 'Service fee',
  recharge_fee_amount: 'Service fee ¥{fee}; ¥{credit} goes to your balance',
  recharge_fee_policy: 'The property may charge a service fee on recharges, taken from the amount; the amount credited is shown after payment.',
  recharge_pay: 'Pay ¥{amount} with WeChat',
  recharge_paying: 'Paying…',
  recharge_waiting: 'Paid; waiting for the credit…',
  recharge_done: 'Recharged: ¥{credit} credited, balance now ¥{balance}',
  recharge_pending: 'Payment done; the credit may take a moment. Refresh your balance shortly.',
  amount_empty: 'Enter an amount',
  amount_format: 'Not a valid amount (at most two decimals)',
  amount_min: 'The least is 1.00 yuan',
  amount_max: 'The most at once is 5000.00 yuan',
  bills_title: 'Bills',
  bills_none: 'No bills yet',
  bills_period: 'Bill for {period}',
  bills_total: 'Total ¥{total}',
  bill_state_ISSUED: 'To pay',
  bill_state_PAID: 'Paid',
  bill_state_DRAFT: 'Draft',
  bill_state_SUPERSEDED: 'Replaced',
  bill_title: 'Bill',
  bill_lines: 'Lines',
  bill_pay: 'Pay ¥{amount}',
  bill_paid_at: 'Paid at {time}',
  bill_done: 'Bill paid',
  bill_not_found: 'This bill was not found',
  line_ENERGY: 'Energy',
  line_TIER: 'Tiered energy',
  line_CAPACITY: 'Capacity (demand)',
  line_SHARED_AREA: 'Shared areas',
  line_PROPERTY_FEE: 'Property fee',
  line_SERVICE_FEE: 'Service fee',
  err_network: 'No connection to the server. Check your network and try again.',
  err_wechat: 'WeChat is not available right now. Try again shortly.',
  err_session: 'Your login has expired. Please log in again.',
  err_server: 'That did not work.',
  err_bind_mismatch: 'The account number and phone do not match: check the number and use the phone the property has on file.',
  err_bind_code: 'The account number or binding code is wrong: check the code the property gave you (after a new code, the old one no longer works).',
  err_bind_code_locked: 'Too many wrong codes: binding by code is paused. Try again in an hour or ask the property.',
  err_forbidden: 'You are not allowed to do this.',
  err_too_many: 'Too many attempts. Please try again later.',
  err_pay_cancelled: 'Payment cancelled; nothing was charged.',
  err_pay_failed: 'The payment did not go through. Try again later.',
  err_subscribe_failed: 'The subscription did not go through.',
}

export const dictionaries: Record<Lang, Dict> = { zh, en }
export type Lang = 'zh' | 'en'

const LANG = 'voltledger.lang'
let lang: Lang | null = null

export function currentLang(): Lang {
  if (!lang) lang = platform().getItem(LANG) === 'en' ? 'en' : 'zh'
  return lang
}

/** Forgets the cached choice (the next read takes it from storage again). */
export function resetLang(): void {
  lang = null
}

export function setLang(l: Lang): void {
  lang = l
  platform().setItem(LANG, l)
}

export function toggleLang(): Lang {
  setLang(currentLang() === 'zh' ? 'en' : 'zh')
  return currentLang()
}

/** The current language's dictionary (for a page's `t`). */
export function dict(): Dict {
  return dictionaries[currentLang()]
}

/** A string with `{name}` filled in. */
export function fmt(key: Key, values: Record<string, string | number> = {}): string {
  return dict()[key].replace(/\{(\w+)\}/g, (all, name: string) => (name in values ? String(values[name]) : all))
}
