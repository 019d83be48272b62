/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** Account lifecycle (账户状态). */
export type AccountState =
  | 'CLOSED'
  | 'OPEN';

export type AccountTermsInput = {
  accountId: string | number;
  propertyFee?: string;
  thresholds: ThresholdsInput;
};

export type AddTariffVersionInput = {
  effectiveFrom: string;
  overridePriceCap?: boolean;
  tariff: TariffInput;
  tariffId: string | number;
};

export type AllocationMemberInput = {
  accountId: string | number;
  /**
   * m² (AREA) or a share (SHARES). For AREA it may be omitted: the floor area of the areas
   * the account's meters are in is used.
   */
  weight?: string | null | undefined;
};

/** How a shared area is split (公摊方式). */
export type AllocationMethod =
  /** By floor area in m² (按面积). */
  | 'AREA'
  /** By each member's own metered energy in the period (按用电量): no weights are given. */
  | 'ENERGY'
  /** By fixed shares (按比例). */
  | 'SHARES';

/** Assigns a tariff: to a meter (override), a property, or, with neither, the tenant default. */
export type AssignTariffInput = {
  meterId?: string | number | null | undefined;
  propertyId?: string | number | null | undefined;
  /** Null clears the assignment. */
  tariffId?: string | number | null | undefined;
};

export type AuditFilter = {
  action?: string | null | undefined;
  actorId?: string | null | undefined;
  from?: string | null | undefined;
  targetId?: string | null | undefined;
  to?: string | null | undefined;
};

/** Where a balance stands (余额状态). */
export type BalanceState =
  /** Below zero within the credit limit (欠费). */
  | 'ARREARS'
  /** At the credit limit: power off unless held (透支用尽). */
  | 'EXHAUSTED'
  /** At or below alarm 1 (报警1). */
  | 'LOW_1'
  /** At or below alarm 2 (报警2). */
  | 'LOW_2'
  | 'NORMAL';

export type BatchCommandInput = {
  /** TRIP, CLOSE, HOLD_ON, HOLD_OFF, READ (read now) or TIME_SYNC. */
  kind: string;
  reason?: string;
  selection: MeterSelectionInput;
};

/** How a bill was paid (缴费方式). */
export type BillPaymentChannel =
  /** Alipay taken outside the platform. */
  | 'ALIPAY'
  | 'CASH'
  /** Bank transfer (转账). */
  | 'TRANSFER'
  /** WeChat Pay taken outside the platform (a shop's own code). */
  | 'WECHAT';

/** Bill lifecycle (账单状态). */
export type BillState =
  | 'DRAFT'
  | 'ISSUED'
  | 'PAID'
  /** Replaced by a newer version after a correction. */
  | 'SUPERSEDED';

/** Who keeps the balance (计费模式). */
export type BillingMode =
  /** The meter keeps its wallet (表端预付费). */
  | 'METER_PREPAID'
  /** The platform settles each reading (平台侧预付费). */
  | 'PLATFORM_PREPAID'
  /** Monthly bill (后付费). */
  | 'POST_PAID';

export type BillingSettingsInput = {
  jumpLimitKw: string;
  settlementDay?: number;
  settlementHour?: number;
  /**
   * The tenant's IANA time zone (e.g. Asia/Shanghai); unchanged when omitted. Tariff
   * periods, freezes, bills and reports follow it from the change on.
   */
  timeZone?: string | null | undefined;
};

export type ChangeMyPasswordInput = {
  currentPassword: string;
  newPassword: string;
};

/** What a park-platform client may read (接口权限). */
export type ClientScope =
  /** `bills:read` */
  | 'BILLS_READ'
  /** `energy:read` */
  | 'ENERGY_READ';

export type CommandSchemeKind =
  /** DL/T 645-2007 0x1C in the clear, with a password level, password and operator code. */
  | 'DLT645_PLAIN'
  /** A Modbus-RTU meter behind a serial server: reads and relay writes from its register map. */
  | 'MODBUS'
  /** A vendor's 4G device publishing JSON (F43): readings and commands through its JSON map. */
  | 'VENDOR_JSON'
  /** VoltLedger's sealed profile: 3DES under the meter's diversified key (docs/CONTROL.md). */
  | 'VL3DES_1';

export type CreateAllocationGroupInput = {
  /** A cost not metered, shared every period (固定金额, yuan); or give `meterId`. */
  fixedAmount?: string | null | undefined;
  /** Weights: m² for AREA, shares for SHARES; none for ENERGY. */
  members: Array<AllocationMemberInput>;
  /** The common-area meter (公摊表) whose energy is shared; or give `fixedAmount`. */
  meterId?: string | number | null | undefined;
  method: AllocationMethod;
  name: string;
};

export type CreateAreaInput = {
  floorArea?: string | null | undefined;
  name: string;
  propertyId: string | number;
};

export type CreateCustomerInput = {
  name: string;
  phone?: string;
  shopNo?: string;
};

export type CreateDeviceProfileInput = {
  /**
   * VENDOR_JSON: the JSON map — `{"time": {"field": "time", "format": "%Y-%m-%d
   * %H:%M:%S"}, "values": [{"field": "EPI", "di": "00010000"}, …], "trip": "{…}",
   * "close": "{…}", "read": "{…}"}`.
   */
  jsonMap?: string | null | undefined;
  name: string;
  /** DLT645_PLAIN: the operator code, up to 8 hex digits. */
  operatorCode?: string | null | undefined;
  /** DLT645_PLAIN: six digits, kept wrapped, never shown again. */
  password?: string | null | undefined;
  /** DLT645_PLAIN: the password level (0–9; 2 and 4 are usual). */
  passwordLevel?: number | null | undefined;
  /**
   * Hex data identifiers in the order a read asks for them, separated by commas or spaces
   * (MODBUS: left empty, the map's items are read).
   */
  reads?: string;
  /**
   * MODBUS: the register map as JSON — `{"reads": [{"di": "00010000", "function": 3,
   * "register": "0x0000", "format": "U32", "decimals": 2}, …], "trip": {"function": 5,
   * "register": 0, "value": "0xFF00"}, "close": {…}}`.
   */
  registerMap?: string | null | undefined;
  scheme: CommandSchemeKind;
};

export type CreateForwardTargetInput = {
  events: Array<ForwardEvent>;
  name: string;
  /** The park broker's password (MQTT only; kept wrapped, never shown). */
  password?: string | null | undefined;
  /** Limit to these properties; empty = every property. */
  propertyIds?: Array<string | number>;
  transport?: ForwardTransportKind;
  /**
   * The park platform's HTTPS endpoint, or for MQTT its broker and topic prefix
   * (`mqtts://mqtt.park.example.cn:8883/park/energy`).
   */
  url: string;
  /** The park broker's login (MQTT only). */
  username?: string | null | undefined;
};

export type CreateOperatorInput = {
  displayName?: string | null | undefined;
  /** Checked against the password policy (密码策略). */
  password: string;
  /** Limit to these properties; omit for all. */
  propertyIds?: Array<string | number> | null | undefined;
  roleId: string | number;
  username: string;
};

export type CreateParkClientInput = {
  name: string;
  propertyIds: Array<string | number>;
  scopes: Array<ClientScope>;
};

export type CreatePayeeInput = {
  areaId?: string | number | null | undefined;
  mode?: PayeeMode;
  name: string;
  propertyId?: string | number | null | undefined;
  /**
   * The merchant number receiving the money: the sub-merchant number (特约商户号) for
   * PARTNER, the company's own `mchid` for DIRECT.
   */
  subMchid: string;
};

export type CreatePropertyInput = {
  address?: string;
  /** Whom customers call; shown in their app. */
  contactName?: string;
  contactPhone?: string;
  name: string;
};

export type CreateReportScheduleInput = {
  cadence: ScheduleCadence;
  channel: ScheduleChannel;
  format?: ExportFormat;
  /** Local hour, 0–23. */
  hour?: number;
  lang?: string;
  name: string;
  /** Filters as a query string; `from`, `to` and `link` are the schedule's own. */
  params?: string;
  /** E-mail: 1 to 20 addresses. */
  recipients?: Array<string>;
  report: string;
  /** Webhook: the URL the file is posted to. */
  url?: string;
};

export type CreateTariffInput = {
  /** When the first version takes effect; now when omitted. */
  effectiveFrom?: string | null | undefined;
  name: string;
  /** Accept a price above the cap (F40); the version is flagged. */
  overridePriceCap?: boolean;
  tariff: TariffInput;
};

export type CreateTenantInput = {
  adminPassword: string;
  adminUsername: string;
  name: string;
  slug: string;
  timeZone?: string;
};

export type DatePlanInput = {
  date: string;
  periods: Array<PeriodInput>;
};

/** A meter (4G) or a gateway: exactly one. */
export type DeviceInput = {
  gatewayId?: string | number | null | undefined;
  meterId?: string | number | null | undefined;
};

export type EnergyBucket =
  | 'DAY'
  | 'HOUR'
  | 'MONTH';

export type EnergyBy =
  | 'AREA'
  | 'METER'
  | 'PROPERTY';

/** Which entries the finance list shows; every field narrows. */
export type EntryFilter = {
  accountId?: string | number | null | undefined;
  /** Recharge channel: CASH, TRANSFER, WECHAT or ALIPAY. */
  channel?: string | null | undefined;
  /** Posted at or after. */
  from?: string | null | undefined;
  kind?: EntryKind | null | undefined;
  /** The operator's username. */
  operator?: string | null | undefined;
  payeeId?: string | number | null | undefined;
  propertyId?: string | number | null | undefined;
  /** Posted before. */
  to?: string | null | undefined;
};

/**
 * Kind of ledger entry (流水类型): the domain's kinds, one for one (a kind added there
 * fails to compile here until it is named).
 */
export type EntryKind =
  /** Re-rating difference after a correction (调账). */
  | 'ADJUSTMENT'
  /** Money received for a post-paid bill (账单缴费). */
  | 'BILL_PAYMENT'
  /** A post-paid bill settled by its payment (账单结清). */
  | 'BILL_SETTLEMENT'
  /** Capacity or demand fee (容量费/基本电费). */
  | 'CAPACITY_FEE_CHARGE'
  /** Energy used, settled per reading (电费). */
  | 'ENERGY_CHARGE'
  /** Money loaded into a meter-side prepaid meter (表端购电). */
  | 'METER_PURCHASE'
  /** Property fee (物业费). */
  | 'PROPERTY_FEE_CHARGE'
  /** Alipay recharge (支付宝充值). */
  | 'RECHARGE_ALIPAY'
  /** Cash recharge (现金充值). */
  | 'RECHARGE_CASH'
  /** Bank transfer recharge (转账充值). */
  | 'RECHARGE_TRANSFER'
  /** WeChat Pay recharge (微信充值). */
  | 'RECHARGE_WECHAT'
  /** Refund paid out (退电). */
  | 'REFUND'
  /** Compensating entry for an earlier one (冲正). */
  | 'REVERSAL'
  /** Service fee taken from a recharge (服务费). */
  | 'SERVICE_FEE'
  /** Shared-area allocation (公摊). */
  | 'SHARED_AREA_CHARGE'
  /** Balance moved from another account (转入). */
  | 'TRANSFER_IN'
  /** Balance moved to another account (转出). */
  | 'TRANSFER_OUT';

export type ExportFormat =
  | 'CSV'
  | 'XLSX';

/** A meter's state on the monitor (费控状态), most urgent first: the colour of its row. */
export type FeeState =
  /** At or below alarm 1 (报警1). */
  | 'ALARM_1'
  /** At or below alarm 2 (报警2). */
  | 'ALARM_2'
  /** Below zero (欠费). */
  | 'ARREARS'
  /** Power held whatever the balance (保电). */
  | 'HOLD_POWER'
  /** Normal (正常). */
  | 'NORMAL'
  /** In no open account (未开户). */
  | 'NOT_OPENED'
  /**
   * Relay open, as the meter reports it, or as the platform wants it when the meter never
   * reported its relay (分闸).
   */
  | 'TRIPPED';

export type ForwardEvent =
  /** An alarm raised or cleared. */
  | 'ALARM'
  /** A post-paid bill when it is issued. */
  | 'BILL'
  /** Each meter's energy of a local day, with its TOU split, after the midnight freeze. */
  | 'DAILY_ENERGY'
  /** Every reading stored (interval readings). */
  | 'READING'
  /** Money received (recharges at the desk and online). */
  | 'RECHARGE';

/** How a target is reached. */
export type ForwardTransportKind =
  /**
   * The park's own MQTT broker (`mqtts://host:port/topic-prefix`), with its credentials:
   * each event published (QoS 1, MQTT 5) to `<prefix>/<kind>/<subject>`, signed in user
   * properties.
   */
  | 'MQTT'
  /** An HTTPS endpoint: batches `POST`ed, signed in headers. */
  | 'WEBHOOK';

/** A window in the tenant's local time in which automatic trips wait (友好时段). */
export type FriendlyWindowInput = {
  /** One date (a holiday) instead of weekdays. */
  date?: string | null | undefined;
  /** `HH:MM` local, up to `24:00`. */
  end: string;
  name: string;
  /** `HH:MM` local; a window whose end is not after its start runs past midnight. */
  start: string;
  /** Weekdays the window starts on: 1 Monday … 7 Sunday. Empty with `date`. */
  weekdays?: Array<number>;
};

export type InitialPurchaseInput = {
  amount: string;
  channel: RechargeChannel;
};

/** Connection state (在线状态). */
export type LinkState =
  /** Silent for longer than the tenant allows (失联). */
  | 'LOST'
  /** Registered, never heard from (未上线). */
  | 'NEVER_SEEN'
  /** Heard from within the allowed silence (在线). */
  | 'ONLINE';

/** How a meter reaches the platform (接入方式). */
export type LinkType =
  /** A 4G meter with its own MQTT login (4G直连). */
  | 'FOUR_G'
  /** A meter behind a LoRa gateway (LoRa网关). */
  | 'LORA_GATEWAY'
  /** A meter on RS-485 behind a serial server (串口服务器). */
  | 'SERIAL';

/** An operator's command for one meter. */
export type MeterCommandInput = {
  meterId: string | number;
  /** Why (kept with the command). */
  reason?: string;
};

/** Meter list filter. */
export type MeterFilter = {
  /** Meters of one account (一户多表). */
  accountId?: string | number | null | undefined;
  areaId?: string | number | null | undefined;
  /** Meters in this state on the monitor. */
  feeState?: FeeState | null | undefined;
  gatewayId?: string | number | null | undefined;
  propertyId?: string | number | null | undefined;
  /** Text search in address, shop number and model. */
  q?: string | null | undefined;
  status?: MeterStatus | null | undefined;
};

/**
 * Which meters a batch is for: a list of meters, or every meter matching the filters (the
 * filters narrow a list too).
 */
export type MeterSelectionInput = {
  areaId?: string | number | null | undefined;
  meterIds?: Array<string | number> | null | undefined;
  propertyId?: string | number | null | undefined;
};

/** Meter list status filter (状态筛选). */
export type MeterStatus =
  | 'LOST'
  | 'NEVER_SEEN'
  | 'ONLINE'
  /** Retired meters (已拆除). */
  | 'RETIRED';

export type NotificationSettingsInput = {
  accessKeyId: string;
  /** Required the first time; left out, the stored secret stays. */
  accessKeySecret?: string | null | undefined;
  contacts?: Array<string>;
  dailyLimit?: number;
  /** Default: the provider's public endpoint. */
  endpoint?: string | null | undefined;
  /** ALIYUN or TENCENT. */
  provider: string;
  quietEnd?: string | null | undefined;
  quietStart?: string | null | undefined;
  region?: string;
  sdkAppId?: string;
  signName: string;
};

export type OpenAccountInput = {
  customerId: string | number;
  /** Initial purchase (开户购电). */
  initialPurchase?: InitialPurchaseInput | null | undefined;
  meterIds: Array<string | number>;
  /** Account number (户号); generated when omitted. */
  number?: string | null | undefined;
  /** Monthly property fee for post-paid bills (物业费). */
  propertyFee?: string | null | undefined;
  thresholds?: ThresholdsInput | null | undefined;
};

/** Enabled or disabled (启用/停用). */
export type OperatorStatus =
  | 'ACTIVE'
  | 'DISABLED';

/** A payee's Alipay app (open platform). Omitted secrets keep their stored values. */
export type PayeeAlipayInput = {
  /** Alipay's public key (SPKI PEM or bare Base64), from the open platform. */
  alipayPublicKey: string;
  appId: string;
  /** The app private key (PKCS#8 PEM or bare Base64); stored encrypted, never shown again. */
  appPrivateKey?: string | null | undefined;
  gateway?: string;
  payeeId: string | number;
  /** The seller's Alipay user id (2088 + 12 digits) that notifications must name. */
  sellerId: string;
};

/** How a payee receives WeChat Pay money. */
export type PayeeMode =
  /** The company's own merchant account; its keys are set with `setPayeeWechatKeys`. */
  | 'DIRECT'
  /** A sub-merchant under the platform's service-provider account (the default). */
  | 'PARTNER';

/**
 * A direct payee's own WeChat Pay merchant keys. On a rotation, omitted secrets keep their
 * stored values; list the old and the new WeChat key until WeChat signs only with the new.
 */
export type PayeeWechatKeysInput = {
  apiBase?: string;
  /** The 32-character APIv3 key; stored encrypted, never shown again. */
  apiV3Key?: string | null | undefined;
  /** The mini-program AppID bound to the merchant. */
  appId: string;
  payeeId: string | number;
  /** `apiclient_key.pem` (PKCS#8); stored encrypted, never shown again. */
  privateKeyPem?: string | null | undefined;
  /** Serial of the merchant API certificate. */
  serial: string;
  wechatKeys: Array<WechatPayKeyInput>;
};

export type PaymentProviderInput = {
  apiBase?: string;
  /** The 32-character APIv3 key; stored encrypted, never shown again. */
  apiV3Key: string;
  /** Public HTTPS URL of `/pay/wechat/notify` (no query string). */
  notifyUrl: string;
  /** `apiclient_key.pem` (PKCS#8); stored encrypted, never shown again. */
  privateKeyPem: string;
  serial: string;
  spAppid: string;
  spMchid: string;
  /** During a rotation give both the old and the new key. */
  wechatKeys: Array<WechatPayKeyInput>;
};

export type PeriodInput = {
  end: string;
  rate: TouRate;
  start: string;
};

/** A permission a role can grant (权限). */
export type Permission =
  /** Remote control and pushes (远程控制). */
  | 'CONTROL'
  /** Forwarding to park platforms (数据转发). */
  | 'FORWARDING'
  /** Properties, areas, customers, gateways, meters, accounts (档案). */
  | 'METERS'
  /** Operators, roles, sessions, park clients, audit log (操作员). */
  | 'OPERATORS'
  /** Payee merchant accounts (收款账户). */
  | 'PAYEES'
  /** Refunds and reversals (退费/冲正). */
  | 'REFUNDS'
  /** Bills and reports (报表). */
  | 'REPORTS'
  /** Recharges, purchases, transfers, invoices (售电). */
  | 'SALES'
  /** Tenant settings: tariffs, prices, friendly hours, notifications (设置). */
  | 'SETTINGS';

export type PriceRuleInput = {
  /** Catalogue flat price (目录电价); null turns the guard off. */
  cataloguePrice?: string | null | undefined;
  marginPercent?: string;
};

export type RatePriceInput = {
  price: string;
  rate: TouRate;
};

/** How an operator-taken recharge was paid (收款方式). */
export type RechargeChannel =
  | 'CASH'
  | 'TRANSFER';

export type RechargeInput = {
  accountId: string | number;
  amount: string;
  channel: RechargeChannel;
  /** A key the caller may retry with; the same key posts once. */
  idempotencyKey?: string | null | undefined;
  note?: string;
};

export type ReconcileInput = {
  /** The local day (the tenant's time zone). */
  date: string;
  payeeId: string | number;
};

export type RefundInput = {
  accountId: string | number;
  amount: string;
  note?: string;
};

export type RefundPaymentInput = {
  /** Yuan; at most what is left of the order. */
  amount: string;
  orderId: string | number;
  reason?: string;
};

export type RegisterGatewayInput = {
  name?: string;
  propertyId: string | number;
  serial: string;
};

export type RegisterMeterInput = {
  /** 12-digit DL/T 645 address. */
  address: string;
  areaId?: string | number | null | undefined;
  billingMode?: BillingMode | null | undefined;
  ctRatio?: number | null | undefined;
  customerId?: string | number | null | undefined;
  /** Required for LORA_GATEWAY meters. */
  gatewayId?: string | number | null | undefined;
  linkType: LinkType;
  model?: string;
  phases: number;
  propertyId: string | number;
  ptRatio?: number | null | undefined;
  shopNo?: string;
};

/** The relay position the platform wants (继电器). */
export type RelayPosition =
  | 'CLOSED'
  | 'OPEN';

export type ReplaceMeterInput = {
  /** The new meter's initial total register (新表起码), kWh. */
  newInitialReading: string;
  /** A registered meter not on any account. */
  newMeterId: string | number;
  /** The old meter's final total register (旧表止码), kWh. */
  oldFinalReading: string;
  oldMeterId: string | number;
  /** When the swap happened; now when omitted. */
  replacedAt?: string | null | undefined;
};

export type ResetOperatorPasswordInput = {
  id: string | number;
  password: string;
};

export type RoleInput = {
  name: string;
  permissions: Array<Permission>;
};

export type SalesBucket =
  | 'DAY'
  | 'MONTH'
  | 'YEAR';

export type SalesBy =
  /** CASH, TRANSFER, WECHAT, ALIPAY; REFUND for money given back. */
  | 'CHANNEL'
  /**
   * The operator who took the money; ONLINE for the customer's own payments, SYSTEM for
   * what the platform posted itself.
   */
  | 'OPERATOR'
  /** The payee an online payment went to; DESK for money taken at the desk. */
  | 'PAYEE';

export type ScheduleCadence =
  /** Every day, the day before. */
  | 'DAILY'
  /** The 1st, the month before. */
  | 'MONTHLY'
  /** Mondays, the week before (Monday to Sunday). */
  | 'WEEKLY';

export type ScheduleChannel =
  /** E-mail with the file attached, through the platform's mail relay. */
  | 'EMAIL'
  /** A POST of the file to a URL, signed like forwarding (`X-VoltLedger-Signature`). */
  | 'WEBHOOK';

export type SeasonInput = {
  from: string;
  periods: Array<PeriodInput>;
  to: string;
};

export type ServiceFeeInput = {
  /** Remove the property's own fee (it falls back to the tenant's). */
  clear?: boolean;
  fixed?: string;
  percent?: string;
  /** A property's own fee; the tenant's when omitted. */
  propertyId?: string | number | null | undefined;
};

export type SetOperatorActiveInput = {
  active: boolean;
  id: string | number;
};

export type SetWechatAppInput = {
  /** WeChat API base; default `https://api.weixin.qq.com`. */
  apiBase?: string | null | undefined;
  /** Mini-program AppID. */
  appId: string;
  /** AppSecret; stored encrypted, never shown again. */
  appSecret: string;
};

export type SetWechatOfficialAccountInput = {
  /** WeChat API base; default `https://api.weixin.qq.com`. */
  apiBase?: string | null | undefined;
  /** Official account AppID (公众号 AppID). */
  appId: string;
  /** AppSecret; stored encrypted, never shown again. */
  appSecret: string;
  /** Web authorization page; default `https://open.weixin.qq.com/connect/oauth2/authorize`. */
  authorizeUrl?: string | null | undefined;
};

/** Where a member's share went (分摊去向). */
export type ShareDisposition =
  /** A post-paid member's: it is a line of that account's bill. */
  | 'ON_BILL'
  /** Charged to a prepaid account (a SHARED_AREA_CHARGE entry). */
  | 'POSTED'
  /** The share rounded to nothing; nothing posted. */
  | 'ZERO';

/** A tariff version: prices, the day plan(s), the TOU source, tiers. */
export type TariffInput = {
  capacityPricePerKw?: string | null | undefined;
  dates?: Array<DatePlanInput>;
  periods?: Array<PeriodInput>;
  prices: Array<RatePriceInput>;
  seasons?: Array<SeasonInput>;
  source?: TouSource;
  tiers?: TiersInput | null | undefined;
};

/** One key of a subscription-message template. */
export type TemplateFieldInput = {
  /** The template's key, e.g. `thing1`, `amount2`, `time3`. */
  key: string;
  source: TemplateSource;
};

/** Which alarm fact fills a template key. */
export type TemplateSource =
  /** What happened (告警名称). */
  | 'ALARM'
  /** The account balance (余额). */
  | 'BALANCE'
  /** Shop number or meter address, or the account number. */
  | 'SUBJECT'
  /** When, local time. */
  | 'TIME';

export type ThresholdsInput = {
  alarm1?: string;
  alarm2?: string;
  /** Credit limit (赊欠额度), yuan ≥ 0; the trip happens at minus this balance. */
  creditLimit?: string;
};

/** Tier cycle (阶梯周期). */
export type TierCycle =
  | 'MONTHLY'
  | 'YEARLY';

export type TierStepInput = {
  add: string;
  upTo?: string | null | undefined;
};

export type TiersInput = {
  cycle: TierCycle;
  steps: Array<TierStepInput>;
};

/** TOU rate (费率): sharp 尖, peak 峰, flat 平, valley 谷, deep valley 深谷. */
export type TouRate =
  | 'DEEP_VALLEY'
  | 'FLAT'
  | 'PEAK'
  | 'SHARP'
  | 'VALLEY';

/** Who decides the TOU period of each kWh (分时依据). */
export type TouSource =
  /** The meter's per-rate registers (表计费率寄存器). */
  | 'METER_REGISTERS'
  /** The platform's calendar in the tenant's time zone (平台时段). */
  | 'PLATFORM_CALENDAR';

export type TransferInput = {
  amount: string;
  fromAccountId: string | number;
  note?: string;
  toAccountId: string | number;
};

export type TrendBucket =
  | 'DAY'
  | 'HOUR';

export type UpdateAreaInput = {
  floorArea?: string | null | undefined;
  id: string | number;
  name: string;
};

export type UpdateGatewayInput = {
  id: string | number;
  name: string;
};

export type UpdateOperatorInput = {
  allProperties?: boolean | null | undefined;
  displayName?: string | null | undefined;
  id: string | number;
  /** New scope; with `allProperties: true` the limit is lifted. */
  propertyIds?: Array<string | number> | null | undefined;
  roleId?: string | number | null | undefined;
};

export type UpdatePropertyInput = {
  address?: string;
  /** Left out: the contact stays as it is. */
  contactName?: string | null | undefined;
  contactPhone?: string | null | undefined;
  id: string | number;
  name: string;
};

export type UpdateRoleInput = {
  id: string | number;
  name: string;
  permissions: Array<Permission>;
};

/** One of WeChat's verification keys. */
export type WechatPayKeyInput = {
  /** SPKI PEM (`BEGIN PUBLIC KEY`). */
  publicKeyPem: string;
  /** A platform certificate's serial or the public key's `PUB_KEY_ID_…`. */
  serial: string;
};

export type WechatTemplateInput = {
  /** e.g. LOW_BALANCE_1, ARREARS, TRIPPED. */
  alarmKind: string;
  fields: Array<TemplateFieldInput>;
  /** The mini-program page the message opens. */
  page?: string | null | undefined;
  /** The template id from the mini-program's console. */
  templateId: string;
};

export type AlarmFieldsFragment = { id: string, kind: string, severity: string, state: string, subjectKind: string, subjectId: string, parentId: string | null, folded: number, detail: string, raisedAt: string, clearedAt: string | null, acknowledgedAt: string | null, acknowledgedBy: string | null, subjectLabel: string, propertyId: string | null };

export type ActiveAlarmsQueryVariables = Exact<{
  first: number;
}>;


export type ActiveAlarmsQuery = { alarms: Array<{ id: string, kind: string, severity: string, state: string, subjectKind: string, subjectId: string, parentId: string | null, folded: number, detail: string, raisedAt: string, clearedAt: string | null, acknowledgedAt: string | null, acknowledgedBy: string | null, subjectLabel: string, propertyId: string | null }> };

export type AlarmChangesSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type AlarmChangesSubscription = { alarmChanges: { change: string, alarm: { id: string, kind: string, severity: string, state: string, subjectKind: string, subjectId: string, parentId: string | null, folded: number, detail: string, raisedAt: string, clearedAt: string | null, acknowledgedAt: string | null, acknowledgedBy: string | null, subjectLabel: string, propertyId: string | null } } };

export type SessionInfoQueryVariables = Exact<{ [key: string]: never; }>;


export type SessionInfoQuery = { me: { kind: string, id: string, name: string, permissions: Array<Permission>, propertyIds: Array<string> | null }, tenant: { id: string, name: string, timeZone: string, readingIntervalSeconds: number }, properties: Array<{ id: string, name: string, retiredAt: string | null }> };

export type ChangeMyPasswordMutationVariables = Exact<{
  input: ChangeMyPasswordInput;
}>;


export type ChangeMyPasswordMutation = { changeMyPassword: boolean };

export type AlarmsQueryVariables = Exact<{
  activeOnly: boolean;
  kind?: string | null | undefined;
  subjectId?: string | number | null | undefined;
  propertyId?: string | number | null | undefined;
  includeFolded: boolean;
  first: number;
}>;


export type AlarmsQuery = { alarms: Array<{ id: string, kind: string, severity: string, state: string, subjectKind: string, subjectId: string, parentId: string | null, folded: number, detail: string, raisedAt: string, clearedAt: string | null, acknowledgedAt: string | null, acknowledgedBy: string | null, subjectLabel: string, propertyId: string | null }> };

export type AcknowledgeAlarmMutationVariables = Exact<{
  id: string | number;
}>;


export type AcknowledgeAlarmMutation = { acknowledgeAlarm: { id: string, kind: string, severity: string, state: string, subjectKind: string, subjectId: string, parentId: string | null, folded: number, detail: string, raisedAt: string, clearedAt: string | null, acknowledgedAt: string | null, acknowledgedBy: string | null, subjectLabel: string, propertyId: string | null } };

export type BillFieldsFragment = { id: string, accountId: string, period: string, version: number, state: BillState, total: string, periodStart: string, periodEnd: string, createdAt: string, issuedAt: string | null, paidAt: string | null };

export type BillLineFieldsFragment = { lineNo: number, kind: string, meterId: string | null, description: string, quantity: string, unitPrice: string, amount: string };

export type BillAccountFieldsFragment = { id: string, number: string, propertyFee: string, meters: Array<{ id: string, address: string, shopNo: string, propertyId: string, areaName: string | null, billingMode: BillingMode, customer: { id: string, name: string, phone: string } | null }> };

export type BillsQueryVariables = Exact<{
  period?: string | null | undefined;
  accountId?: string | number | null | undefined;
  page: number;
  pageSize: number;
}>;


export type BillsQuery = { bills: Array<{ id: string, accountId: string, period: string, version: number, state: BillState, total: string, periodStart: string, periodEnd: string, createdAt: string, issuedAt: string | null, paidAt: string | null }> };

export type BillDetailQueryVariables = Exact<{
  id: string | number;
}>;


export type BillDetailQuery = { bill: { id: string, accountId: string, period: string, version: number, state: BillState, total: string, periodStart: string, periodEnd: string, createdAt: string, issuedAt: string | null, paidAt: string | null, lines: Array<{ lineNo: number, kind: string, meterId: string | null, description: string, quantity: string, unitPrice: string, amount: string }> } | null };

export type BillVersionsQueryVariables = Exact<{
  period: string;
  accountId: string | number;
}>;


export type BillVersionsQuery = { bills: Array<{ id: string, accountId: string, period: string, version: number, state: BillState, total: string, periodStart: string, periodEnd: string, createdAt: string, issuedAt: string | null, paidAt: string | null }> };

export type BillAccountQueryVariables = Exact<{
  id: string | number;
}>;


export type BillAccountQuery = { account: { id: string, number: string, propertyFee: string, meters: Array<{ id: string, address: string, shopNo: string, propertyId: string, areaName: string | null, billingMode: BillingMode, customer: { id: string, name: string, phone: string } | null }> } | null };

export type BillMeterQueryVariables = Exact<{
  id: string | number;
}>;


export type BillMeterQuery = { meter: { id: string, address: string, shopNo: string } | null };

export type BillAccountSearchQueryVariables = Exact<{
  q: string;
}>;


export type BillAccountSearchQuery = { accounts: { items: Array<{ id: string, number: string, propertyFee: string, meters: Array<{ id: string, address: string, shopNo: string, propertyId: string, areaName: string | null, billingMode: BillingMode, customer: { id: string, name: string, phone: string } | null }> }> } };

export type RunBillsMutationVariables = Exact<{
  period: string;
  propertyId?: string | number | null | undefined;
}>;


export type RunBillsMutation = { runBills: { created: number, skipped: Array<{ accountId: string, reason: string }> } };

export type IssueBillMutationVariables = Exact<{
  id: string | number;
}>;


export type IssueBillMutation = { issueBill: { id: string, accountId: string, period: string, version: number, state: BillState, total: string, periodStart: string, periodEnd: string, createdAt: string, issuedAt: string | null, paidAt: string | null } };

export type ReissueBillMutationVariables = Exact<{
  id: string | number;
}>;


export type ReissueBillMutation = { reissueBill: { id: string, accountId: string, period: string, version: number, state: BillState, total: string, periodStart: string, periodEnd: string, createdAt: string, issuedAt: string | null, paidAt: string | null } };

export type MarkBillPaidMutationVariables = Exact<{
  id: string | number;
  amount?: string | null | undefined;
  channel: BillPaymentChannel;
  reference: string;
}>;


export type MarkBillPaidMutation = { markBillPaid: { bill: { id: string, accountId: string, period: string, version: number, state: BillState, total: string, periodStart: string, periodEnd: string, createdAt: string, issuedAt: string | null, paidAt: string | null }, posting: { receiptNo: number | null, account: { id: string, number: string }, entries: Array<{ id: string, kind: EntryKind, amount: string, receiptNo: number | null, note: string, detail: string, createdAt: string }> } } };

export type BillPrintQueryVariables = Exact<{
  id: string | number;
}>;


export type BillPrintQuery = { tenant: { name: string, timeZone: string }, bill: { id: string, accountId: string, period: string, version: number, state: BillState, total: string, periodStart: string, periodEnd: string, createdAt: string, issuedAt: string | null, paidAt: string | null, lines: Array<{ lineNo: number, kind: string, meterId: string | null, description: string, quantity: string, unitPrice: string, amount: string }> } | null };

export type CommandsQueryVariables = Exact<{
  meterId?: string | number | null | undefined;
  first: number;
  status?: string | null | undefined;
  kind?: string | null | undefined;
}>;


export type CommandsQuery = { commands: Array<{ id: string, meterId: string, meterAddress: string, accountId: string | null, kind: string, source: string, reason: string, status: string, attempts: number, createdAt: string, sentAt: string | null, repliedAt: string | null, confirmedAt: string | null }> };

export type CommandBatchQueryVariables = Exact<{
  id: string | number;
  status?: string | null | undefined;
}>;


export type CommandBatchQuery = { commandBatch: { id: string, kind: string, reason: string, total: number, finished: number, confirmed: number, createdAt: string, progress: Array<{ status: string, count: number }>, commands: Array<{ id: string, meterId: string, meterAddress: string, accountId: string | null, kind: string, source: string, reason: string, status: string, attempts: number, createdAt: string, sentAt: string | null, repliedAt: string | null, confirmedAt: string | null }> } };

export type CancelCommandMutationVariables = Exact<{
  id: string | number;
}>;


export type CancelCommandMutation = { cancelCommand: { id: string, meterId: string, meterAddress: string, accountId: string | null, kind: string, source: string, reason: string, status: string, attempts: number, createdAt: string, sentAt: string | null, repliedAt: string | null, confirmedAt: string | null } };

export type ResendCommandMutationVariables = Exact<{
  id: string | number;
}>;


export type ResendCommandMutation = { resendCommand: { id: string, meterId: string, meterAddress: string, accountId: string | null, kind: string, source: string, reason: string, status: string, attempts: number, createdAt: string, sentAt: string | null, repliedAt: string | null, confirmedAt: string | null } };

export type CommandBatchesQueryVariables = Exact<{
  first: number;
}>;


export type CommandBatchesQuery = { commandBatches: Array<{ id: string, kind: string, reason: string, total: number, finished: number, confirmed: number, createdAt: string, progress: Array<{ status: string, count: number }> }> };

export type PlatformTenantFieldsFragment = { id: string, name: string, slug: string, timeZone: string, status: string };

export type PlatformTenantsQueryVariables = Exact<{ [key: string]: never; }>;


export type PlatformTenantsQuery = { platformTenants: Array<{ id: string, name: string, slug: string, timeZone: string, status: string }> };

export type CreateTenantMutationVariables = Exact<{
  input: CreateTenantInput;
}>;


export type CreateTenantMutation = { createTenant: { id: string, name: string, slug: string, timeZone: string, status: string } };

export type SuspendTenantMutationVariables = Exact<{
  slug: string;
}>;


export type SuspendTenantMutation = { suspendTenant: { id: string, name: string, slug: string, timeZone: string, status: string } };

export type ReactivateTenantMutationVariables = Exact<{
  slug: string;
}>;


export type ReactivateTenantMutation = { reactivateTenant: { id: string, name: string, slug: string, timeZone: string, status: string } };

export type PaymentProviderFieldsFragment = { spMchid: string, spAppid: string, serial: string, wechatKeySerials: Array<string>, apiBase: string, notifyUrl: string };

export type PaymentProviderQueryVariables = Exact<{ [key: string]: never; }>;


export type PaymentProviderQuery = { paymentProvider: { spMchid: string, spAppid: string, serial: string, wechatKeySerials: Array<string>, apiBase: string, notifyUrl: string } | null };

export type SetPaymentProviderMutationVariables = Exact<{
  input: PaymentProviderInput;
}>;


export type SetPaymentProviderMutation = { setPaymentProvider: { spMchid: string, spAppid: string, serial: string, wechatKeySerials: Array<string>, apiBase: string, notifyUrl: string } };

export type RefreshProviderCertificatesMutationVariables = Exact<{ [key: string]: never; }>;


export type RefreshProviderCertificatesMutation = { refreshProviderCertificates: { spMchid: string, spAppid: string, serial: string, wechatKeySerials: Array<string>, apiBase: string, notifyUrl: string } };

export type PlatformHealthQueryVariables = Exact<{ [key: string]: never; }>;


export type PlatformHealthQuery = { platformHealth: { tenants: number, activeTenants: number, suspendedTenants: number, meters: number, metersOnline: number, metersLost: number, gateways: number, gatewaysLost: number, commandsQueued: number, commandsSent: number, notificationsPending: number, openAlarms: number, checkedAt: string } };

export type PlatformAuditLogQueryVariables = Exact<{
  first: number;
}>;


export type PlatformAuditLogQuery = { platformAuditLog: Array<{ at: string, actor: string, action: string, subjectTenant: string | null, input: string, outcome: string, source: string }> };

export type PlatformMeQueryVariables = Exact<{ [key: string]: never; }>;


export type PlatformMeQuery = { me: { kind: string, name: string } };

export type AccountFieldsFragment = { id: string, number: string, customerId: string, balance: string, state: AccountState, balanceState: BalanceState, relay: RelayPosition, holdPower: boolean, creditLimit: string, alarm1: string, alarm2: string, propertyFee: string, createdAt: string, closedAt: string | null, meters: Array<{ id: string, propertyId: string, address: string, shopNo: string, linkState: LinkState, feeState: FeeState, tariffId: string | null, live: { energyTotal: string | null } }> };

export type CustomersQueryVariables = Exact<{
  q?: string | null | undefined;
  page: number;
  pageSize: number;
}>;


export type CustomersQuery = { customers: { total: number, page: number, pageSize: number, items: Array<{ id: string, name: string, phone: string, shopNo: string, retiredAt: string | null }> } };

export type CreateCustomerMutationVariables = Exact<{
  input: CreateCustomerInput;
}>;


export type CreateCustomerMutation = { createCustomer: { id: string, name: string, phone: string, shopNo: string } };

export type CustomerAccountsQueryVariables = Exact<{
  customerId: string | number;
}>;


export type CustomerAccountsQuery = { accounts: { total: number, items: Array<{ id: string, number: string, customerId: string, balance: string, state: AccountState, balanceState: BalanceState, relay: RelayPosition, holdPower: boolean, creditLimit: string, alarm1: string, alarm2: string, propertyFee: string, createdAt: string, closedAt: string | null, meters: Array<{ id: string, propertyId: string, address: string, shopNo: string, linkState: LinkState, feeState: FeeState, tariffId: string | null, live: { energyTotal: string | null } }> }> } };

export type FreeMetersQueryVariables = Exact<{
  propertyId?: string | number | null | undefined;
  q?: string | null | undefined;
}>;


export type FreeMetersQuery = { meters: { total: number, items: Array<{ id: string, address: string, shopNo: string, linkState: LinkState, live: { energyTotal: string | null } }> } };

export type TariffsQueryVariables = Exact<{ [key: string]: never; }>;


export type TariffsQuery = { tariffs: Array<{ id: string, name: string }> };

export type OpenAccountMutationVariables = Exact<{
  input: OpenAccountInput;
}>;


export type OpenAccountMutation = { openAccount: { receiptNo: number | null, account: { id: string, number: string, customerId: string, balance: string, state: AccountState, balanceState: BalanceState, relay: RelayPosition, holdPower: boolean, creditLimit: string, alarm1: string, alarm2: string, propertyFee: string, createdAt: string, closedAt: string | null, meters: Array<{ id: string, propertyId: string, address: string, shopNo: string, linkState: LinkState, feeState: FeeState, tariffId: string | null, live: { energyTotal: string | null } }> } } };

export type SetAccountTermsMutationVariables = Exact<{
  input: AccountTermsInput;
}>;


export type SetAccountTermsMutation = { setAccountTerms: { account: { id: string, number: string, customerId: string, balance: string, state: AccountState, balanceState: BalanceState, relay: RelayPosition, holdPower: boolean, creditLimit: string, alarm1: string, alarm2: string, propertyFee: string, createdAt: string, closedAt: string | null, meters: Array<{ id: string, propertyId: string, address: string, shopNo: string, linkState: LinkState, feeState: FeeState, tariffId: string | null, live: { energyTotal: string | null } }> } } };

export type AssignTariffMutationVariables = Exact<{
  input: AssignTariffInput;
}>;


export type AssignTariffMutation = { assignTariff: boolean };

export type CloseAccountMutationVariables = Exact<{
  id: string | number;
  note: string;
}>;


export type CloseAccountMutation = { closeAccount: { receiptNo: number | null, account: { id: string, number: string, customerId: string, balance: string, state: AccountState, balanceState: BalanceState, relay: RelayPosition, holdPower: boolean, creditLimit: string, alarm1: string, alarm2: string, propertyFee: string, createdAt: string, closedAt: string | null, meters: Array<{ id: string, propertyId: string, address: string, shopNo: string, linkState: LinkState, feeState: FeeState, tariffId: string | null, live: { energyTotal: string | null } }> } } };

export type ReplaceMeterMutationVariables = Exact<{
  input: ReplaceMeterInput;
}>;


export type ReplaceMeterMutation = { replaceMeter: { id: string, number: string, customerId: string, balance: string, state: AccountState, balanceState: BalanceState, relay: RelayPosition, holdPower: boolean, creditLimit: string, alarm1: string, alarm2: string, propertyFee: string, createdAt: string, closedAt: string | null, meters: Array<{ id: string, propertyId: string, address: string, shopNo: string, linkState: LinkState, feeState: FeeState, tariffId: string | null, live: { energyTotal: string | null } }> } };

export type AssignMeterToAccountMutationVariables = Exact<{
  accountId: string | number;
  meterId: string | number;
}>;


export type AssignMeterToAccountMutation = { assignMeterToAccount: { id: string, number: string, customerId: string, balance: string, state: AccountState, balanceState: BalanceState, relay: RelayPosition, holdPower: boolean, creditLimit: string, alarm1: string, alarm2: string, propertyFee: string, createdAt: string, closedAt: string | null, meters: Array<{ id: string, propertyId: string, address: string, shopNo: string, linkState: LinkState, feeState: FeeState, tariffId: string | null, live: { energyTotal: string | null } }> } };

export type IssueBindingCodeMutationVariables = Exact<{
  accountId: string | number;
  rotate: boolean;
}>;


export type IssueBindingCodeMutation = { issueBindingCode: string };

export type OverviewQueryVariables = Exact<{
  propertyId?: string | number | null | undefined;
}>;


export type OverviewQuery = { overview: { energyThisMonth: string, energyLastMonth: string, salesThisMonth: string, salesLastMonth: string, activeAlarms: number, meters: { total: number, notOpened: number, closed: number, tripped: number, holdPower: number, prepaid: number, postpaid: number, online: number, lost: number, neverSeen: number }, gateways: { total: number, online: number, lost: number, neverSeen: number }, energyToday: Array<{ hour: number, energy: string }>, energyYesterday: Array<{ hour: number, energy: string }>, rechargeByChannel: Array<{ channel: string, amount: string, count: number }>, lostMeters: Array<{ id: string, address: string, shopNo: string, lastSeenAt: string | null, customer: { name: string } | null, area: { name: string } | null }>, lostGateways: Array<{ id: string, serial: string, name: string, lastSeenAt: string | null }> } };

export type LedgerEntriesQueryVariables = Exact<{
  filter?: EntryFilter | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type LedgerEntriesQuery = { ledgerEntries: { items: Array<{ accountNumber: string, payeeId: string | null, entry: { id: string, accountId: string, kind: EntryKind, amount: string, createdAt: string, receiptNo: number | null, meterId: string | null, reversesId: string | null, externalRef: string | null, note: string, invoicedAt: string | null, operator: string, channel: string | null } }>, pageInfo: { endCursor: string | null, hasNextPage: boolean } }, ledgerTotals: { count: number, credits: string, debits: string, net: string } };

export type MarkInvoicedMutationVariables = Exact<{
  entryIds: Array<string | number> | string | number;
}>;


export type MarkInvoicedMutation = { markInvoiced: number };

export type PayeesQueryVariables = Exact<{ [key: string]: never; }>;


export type PayeesQuery = { payees: Array<{ id: string, name: string }> };

export type ReadingFieldsFragment = { readAt: string | null, energyTotal: string | null, energySharp: string | null, energyPeak: string | null, energyFlat: string | null, energyValley: string | null, reverseEnergy: string | null, voltageA: string | null, voltageB: string | null, voltageC: string | null, currentA: string | null, currentB: string | null, currentC: string | null, activePower: string | null, reactivePower: string | null, powerFactor: string | null, frequency: string | null, maxDemand: string | null, remainingAmount: string | null, overdraftAmount: string | null, relayOpen: boolean | null, holdPower: boolean | null, phaseLoss: Array<string>, underVoltage: Array<string> };

export type MeterDetailQueryVariables = Exact<{
  id: string | number;
}>;


export type MeterDetailQuery = { meter: { id: string, address: string, model: string, phases: number, ptRatio: number, ctRatio: number, linkType: LinkType, billingMode: BillingMode, shopNo: string, propertyId: string, gatewayId: string | null, linkState: LinkState, lastSeenAt: string | null, createdAt: string, retiredAt: string | null, walletMismatch: string | null, feeState: FeeState, priceNow: string | null, customer: { id: string, name: string, phone: string } | null, area: { id: string, name: string } | null, account: { id: string, number: string, balance: string, state: AccountState, balanceState: BalanceState, holdPower: boolean, creditLimit: string, alarm1: string, alarm2: string } | null, live: { readAt: string | null, energyTotal: string | null, energySharp: string | null, energyPeak: string | null, energyFlat: string | null, energyValley: string | null, reverseEnergy: string | null, voltageA: string | null, voltageB: string | null, voltageC: string | null, currentA: string | null, currentB: string | null, currentC: string | null, activePower: string | null, reactivePower: string | null, powerFactor: string | null, frequency: string | null, maxDemand: string | null, remainingAmount: string | null, overdraftAmount: string | null, relayOpen: boolean | null, holdPower: boolean | null, phaseLoss: Array<string>, underVoltage: Array<string> } } | null };

export type MeterReadingsQueryVariables = Exact<{
  id: string | number;
  from: string;
  to: string;
  first: number;
  after?: string | null | undefined;
}>;


export type MeterReadingsQuery = { meter: { id: string, readings: { items: Array<{ readAt: string | null, energyTotal: string | null, energySharp: string | null, energyPeak: string | null, energyFlat: string | null, energyValley: string | null, reverseEnergy: string | null, voltageA: string | null, voltageB: string | null, voltageC: string | null, currentA: string | null, currentB: string | null, currentC: string | null, activePower: string | null, reactivePower: string | null, powerFactor: string | null, frequency: string | null, maxDemand: string | null, remainingAmount: string | null, overdraftAmount: string | null, relayOpen: boolean | null, holdPower: boolean | null, phaseLoss: Array<string>, underVoltage: Array<string> }>, pageInfo: { endCursor: string | null, hasNextPage: boolean } } } | null };

export type MeterTrendQueryVariables = Exact<{
  meterId: string | number;
  from: string;
  to: string;
  bucket: TrendBucket;
}>;


export type MeterTrendQuery = { meterTrend: Array<{ at: string, energy: string, voltageA: string | null, currentA: string | null, activePower: string | null, powerFactor: string | null }> };

export type MeterAnomaliesQueryVariables = Exact<{
  meterId: string | number;
}>;


export type MeterAnomaliesQuery = { settlementAnomalies: Array<{ id: string, kind: string, detail: string, readAt: string, detectedAt: string, resolvedAt: string | null, resolution: string | null }> };

export type RotateDeviceCredentialMutationVariables = Exact<{
  input: DeviceInput;
}>;


export type RotateDeviceCredentialMutation = { rotateDeviceCredential: { brokerUrl: string | null, username: string, password: string, uplinkTopic: string, downlinkTopic: string } };

export type MeterProfileFieldsFragment = { meterId: string, profileId: string, lacks: Array<{ di: string, reason: string, learnedAt: string }> };

export type MeterProfileQueryVariables = Exact<{
  meterId: string | number;
}>;


export type MeterProfileQuery = { meterProfile: { meterId: string, profileId: string, lacks: Array<{ di: string, reason: string, learnedAt: string }> }, deviceProfiles: Array<{ id: string, name: string, scheme: CommandSchemeKind, builtin: boolean }> };

export type SetMeterProfileMutationVariables = Exact<{
  meterId: string | number;
  profileId: string | number;
}>;


export type SetMeterProfileMutation = { setMeterProfile: { meterId: string, profileId: string, lacks: Array<{ di: string, reason: string, learnedAt: string }> } };

export type ForgetMeterLacksMutationVariables = Exact<{
  meterId: string | number;
}>;


export type ForgetMeterLacksMutation = { forgetMeterLacks: number };

export type MeterFreezesQueryVariables = Exact<{
  meterId: string | number;
  from: string;
  to: string;
}>;


export type MeterFreezesQuery = { meterFreezes: Array<{ frozenAt: string, total: string, tariffs: Array<string | null>, platformTotal: string | null, platformReadAt: string | null, difference: string | null }> };

export type MonitorMeterFragment = { id: string, address: string, shopNo: string, propertyId: string, areaId: string | null, gatewayId: string | null, accountId: string | null, billingMode: BillingMode, linkState: LinkState, lastSeenAt: string | null, feeState: FeeState, priceNow: string | null, rateNow: TouRate | null, balance: string | null, accountNumber: string | null, customerName: string | null, areaName: string | null, live: { readAt: string | null, energyTotal: string | null, relayOpen: boolean | null } };

export type MonitorMetersQueryVariables = Exact<{
  filter?: MeterFilter | null | undefined;
  page: number;
  pageSize: number;
}>;


export type MonitorMetersQuery = { meters: { total: number, page: number, pageSize: number, items: Array<{ id: string, address: string, shopNo: string, propertyId: string, areaId: string | null, gatewayId: string | null, accountId: string | null, billingMode: BillingMode, linkState: LinkState, lastSeenAt: string | null, feeState: FeeState, priceNow: string | null, rateNow: TouRate | null, balance: string | null, accountNumber: string | null, customerName: string | null, areaName: string | null, live: { readAt: string | null, energyTotal: string | null, relayOpen: boolean | null } }> } };

export type MonitorOptionsQueryVariables = Exact<{
  propertyId?: string | number | null | undefined;
}>;


export type MonitorOptionsQuery = { areas: Array<{ id: string, name: string, propertyId: string, retiredAt: string | null }>, gateways: { items: Array<{ id: string, name: string, serial: string, propertyId: string, retiredAt: string | null }> } };

export type CommandFieldsFragment = { id: string, meterId: string, meterAddress: string, accountId: string | null, kind: string, source: string, reason: string, status: string, attempts: number, createdAt: string, sentAt: string | null, repliedAt: string | null, confirmedAt: string | null };

export type TripMeterMutationVariables = Exact<{
  input: MeterCommandInput;
}>;


export type TripMeterMutation = { tripMeter: { id: string, meterId: string, meterAddress: string, accountId: string | null, kind: string, source: string, reason: string, status: string, attempts: number, createdAt: string, sentAt: string | null, repliedAt: string | null, confirmedAt: string | null } };

export type CloseMeterMutationVariables = Exact<{
  input: MeterCommandInput;
}>;


export type CloseMeterMutation = { closeMeter: { id: string, meterId: string, meterAddress: string, accountId: string | null, kind: string, source: string, reason: string, status: string, attempts: number, createdAt: string, sentAt: string | null, repliedAt: string | null, confirmedAt: string | null } };

export type SetMeterHoldPowerMutationVariables = Exact<{
  input: MeterCommandInput;
  hold: boolean;
}>;


export type SetMeterHoldPowerMutation = { setMeterHoldPower: { id: string, meterId: string, meterAddress: string, accountId: string | null, kind: string, source: string, reason: string, status: string, attempts: number, createdAt: string, sentAt: string | null, repliedAt: string | null, confirmedAt: string | null } };

export type ReadMeterNowMutationVariables = Exact<{
  input: MeterCommandInput;
}>;


export type ReadMeterNowMutation = { readMeterNow: { id: string, meterId: string, meterAddress: string, accountId: string | null, kind: string, source: string, reason: string, status: string, attempts: number, createdAt: string, sentAt: string | null, repliedAt: string | null, confirmedAt: string | null } };

export type BatchCommandMutationVariables = Exact<{
  input: BatchCommandInput;
}>;


export type BatchCommandMutation = { batchCommand: { id: string, total: number } };

export type PayeeFieldsFragment = { id: string, name: string, mode: string, subMchid: string, propertyId: string | null, areaId: string | null, createdAt: string, credentials: Array<{ channel: string, appId: string, merchantId: string, serial: string, verifyKeyIds: Array<string>, updatedAt: string }> };

export type ReconciliationFieldsFragment = { payeeId: string, date: string, ranAt: string, billRows: number, matched: number, discrepancies: Array<{ kind: string, outTradeNo: string, ours: string | null, theirs: string | null }> };

export type DifferenceFieldsFragment = { id: string, orderId: string, payeeId: string, channel: string, transactionId: string, amount: string, paidAt: string, reason: string, state: string, resolution: string, resolvedBy: string | null, resolvedAt: string | null };

export type RefundFieldsFragment = { id: string, orderId: string, outRefundNo: string, amount: string, reason: string, state: string, refundId: string | null, lastError: string, createdAt: string, finishedAt: string | null };

export type OrderFieldsFragment = { id: string, outTradeNo: string, accountId: string, payeeId: string, channel: string, amount: string, state: string, transactionId: string | null, createdAt: string, paidAt: string | null };

export type PayeeListQueryVariables = Exact<{ [key: string]: never; }>;


export type PayeeListQuery = { payees: Array<{ id: string, name: string, mode: string, subMchid: string, propertyId: string | null, areaId: string | null, createdAt: string, credentials: Array<{ channel: string, appId: string, merchantId: string, serial: string, verifyKeyIds: Array<string>, updatedAt: string }> }> };

export type PayeeAreasQueryVariables = Exact<{
  propertyId: string | number;
}>;


export type PayeeAreasQuery = { areas: Array<{ id: string, name: string, retiredAt: string | null }> };

export type PaymentSummaryQueryVariables = Exact<{
  from: string;
  to: string;
}>;


export type PaymentSummaryQuery = { paymentSummary: Array<{ payeeId: string, name: string, subMchid: string, payments: number, paid: string, refunded: string, net: string, byChannel: Array<{ channel: string, payments: number, paid: string, refunded: string }> }> };

export type ReconciliationsQueryVariables = Exact<{
  payeeId?: string | number | null | undefined;
}>;


export type ReconciliationsQuery = { reconciliations: Array<{ payeeId: string, date: string, ranAt: string, billRows: number, matched: number, discrepancies: Array<{ kind: string, outTradeNo: string, ours: string | null, theirs: string | null }> }> };

export type PaymentDifferencesQueryVariables = Exact<{
  openOnly: boolean;
}>;


export type PaymentDifferencesQuery = { paymentDifferences: Array<{ id: string, orderId: string, payeeId: string, channel: string, transactionId: string, amount: string, paidAt: string, reason: string, state: string, resolution: string, resolvedBy: string | null, resolvedAt: string | null }> };

export type OrderAccountsQueryVariables = Exact<{
  q: string;
}>;


export type OrderAccountsQuery = { accounts: { items: Array<{ id: string, number: string, balance: string, meters: Array<{ address: string, shopNo: string, customer: { name: string } | null }> }> } };

export type RechargeOrdersQueryVariables = Exact<{
  accountId: string | number;
}>;


export type RechargeOrdersQuery = { rechargeOrders: Array<{ id: string, outTradeNo: string, accountId: string, payeeId: string, channel: string, amount: string, state: string, transactionId: string | null, createdAt: string, paidAt: string | null }> };

export type PaymentRefundsQueryVariables = Exact<{
  orderId: string | number;
}>;


export type PaymentRefundsQuery = { paymentRefunds: Array<{ id: string, orderId: string, outRefundNo: string, amount: string, reason: string, state: string, refundId: string | null, lastError: string, createdAt: string, finishedAt: string | null }> };

export type CreatePayeeMutationVariables = Exact<{
  input: CreatePayeeInput;
}>;


export type CreatePayeeMutation = { createPayee: { id: string, name: string, mode: string, subMchid: string, propertyId: string | null, areaId: string | null, createdAt: string, credentials: Array<{ channel: string, appId: string, merchantId: string, serial: string, verifyKeyIds: Array<string>, updatedAt: string }> } };

export type SetPayeeWechatKeysMutationVariables = Exact<{
  input: PayeeWechatKeysInput;
}>;


export type SetPayeeWechatKeysMutation = { setPayeeWechatKeys: { id: string, name: string, mode: string, subMchid: string, propertyId: string | null, areaId: string | null, createdAt: string, credentials: Array<{ channel: string, appId: string, merchantId: string, serial: string, verifyKeyIds: Array<string>, updatedAt: string }> } };

export type SetPayeeAlipayMutationVariables = Exact<{
  input: PayeeAlipayInput;
}>;


export type SetPayeeAlipayMutation = { setPayeeAlipay: { id: string, name: string, mode: string, subMchid: string, propertyId: string | null, areaId: string | null, createdAt: string, credentials: Array<{ channel: string, appId: string, merchantId: string, serial: string, verifyKeyIds: Array<string>, updatedAt: string }> } };

export type RefreshWechatPayCertificatesMutationVariables = Exact<{
  payeeId: string | number;
}>;


export type RefreshWechatPayCertificatesMutation = { refreshWechatPayCertificates: { id: string, name: string, mode: string, subMchid: string, propertyId: string | null, areaId: string | null, createdAt: string, credentials: Array<{ channel: string, appId: string, merchantId: string, serial: string, verifyKeyIds: Array<string>, updatedAt: string }> } };

export type ReconcilePaymentsMutationVariables = Exact<{
  input: ReconcileInput;
}>;


export type ReconcilePaymentsMutation = { reconcilePayments: { payeeId: string, date: string, ranAt: string, billRows: number, matched: number, discrepancies: Array<{ kind: string, outTradeNo: string, ours: string | null, theirs: string | null }> } };

export type ResolvePaymentDifferenceMutationVariables = Exact<{
  id: string | number;
  resolution: string;
}>;


export type ResolvePaymentDifferenceMutation = { resolvePaymentDifference: { id: string, orderId: string, payeeId: string, channel: string, transactionId: string, amount: string, paidAt: string, reason: string, state: string, resolution: string, resolvedBy: string | null, resolvedAt: string | null } };

export type RefundPaymentMutationVariables = Exact<{
  input: RefundPaymentInput;
}>;


export type RefundPaymentMutation = { refundPayment: { id: string, orderId: string, outRefundNo: string, amount: string, reason: string, state: string, refundId: string | null, lastError: string, createdAt: string, finishedAt: string | null } };

export type OperatorFieldsFragment = { id: string, username: string, displayName: string, propertyIds: Array<string> | null, status: OperatorStatus, lastLoginAt: string | null, createdAt: string, role: { id: string, name: string } };

export type RoleFieldsFragment = { id: string, name: string, permissions: Array<Permission>, builtin: boolean };

export type ParkClientFieldsFragment = { id: string, name: string, clientId: string, scopes: Array<string>, propertyIds: Array<string>, createdAt: string, rotatedAt: string | null, revokedAt: string | null };

export type SessionFieldsFragment = { id: string, principalKind: string, principalId: string, source: string, userAgent: string, createdAt: string, lastUsedAt: string, expiresAt: string, revokedAt: string | null, revokedReason: string | null };

export type PeopleDataQueryVariables = Exact<{ [key: string]: never; }>;


export type PeopleDataQuery = { me: { sessionId: string | null }, operators: Array<{ id: string, username: string, displayName: string, propertyIds: Array<string> | null, status: OperatorStatus, lastLoginAt: string | null, createdAt: string, role: { id: string, name: string } }>, roles: Array<{ id: string, name: string, permissions: Array<Permission>, builtin: boolean }> };

export type ParkClientsQueryVariables = Exact<{ [key: string]: never; }>;


export type ParkClientsQuery = { parkClients: Array<{ id: string, name: string, clientId: string, scopes: Array<string>, propertyIds: Array<string>, createdAt: string, rotatedAt: string | null, revokedAt: string | null }> };

export type SessionsQueryVariables = Exact<{
  operatorId?: string | number | null | undefined;
  includeEnded: boolean;
}>;


export type SessionsQuery = { sessions: Array<{ id: string, principalKind: string, principalId: string, source: string, userAgent: string, createdAt: string, lastUsedAt: string, expiresAt: string, revokedAt: string | null, revokedReason: string | null }> };

export type AuditLogQueryVariables = Exact<{
  filter?: AuditFilter | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type AuditLogQuery = { auditLog: { items: Array<{ id: string, at: string, actorKind: string, actorId: string, actorName: string, action: string, targetId: string | null, input: string, before: string | null, after: string | null, outcome: string, source: string }>, pageInfo: { endCursor: string | null, hasNextPage: boolean } } };

export type CreateOperatorMutationVariables = Exact<{
  input: CreateOperatorInput;
}>;


export type CreateOperatorMutation = { createOperator: { id: string, username: string, displayName: string, propertyIds: Array<string> | null, status: OperatorStatus, lastLoginAt: string | null, createdAt: string, role: { id: string, name: string } } };

export type UpdateOperatorMutationVariables = Exact<{
  input: UpdateOperatorInput;
}>;


export type UpdateOperatorMutation = { updateOperator: { id: string, username: string, displayName: string, propertyIds: Array<string> | null, status: OperatorStatus, lastLoginAt: string | null, createdAt: string, role: { id: string, name: string } } };

export type SetOperatorActiveMutationVariables = Exact<{
  input: SetOperatorActiveInput;
}>;


export type SetOperatorActiveMutation = { setOperatorActive: { id: string, username: string, displayName: string, propertyIds: Array<string> | null, status: OperatorStatus, lastLoginAt: string | null, createdAt: string, role: { id: string, name: string } } };

export type ResetOperatorPasswordMutationVariables = Exact<{
  input: ResetOperatorPasswordInput;
}>;


export type ResetOperatorPasswordMutation = { resetOperatorPassword: { id: string, username: string, displayName: string, propertyIds: Array<string> | null, status: OperatorStatus, lastLoginAt: string | null, createdAt: string, role: { id: string, name: string } } };

export type RevokeSessionMutationVariables = Exact<{
  id: string | number;
}>;


export type RevokeSessionMutation = { revokeSession: { id: string, principalKind: string, principalId: string, source: string, userAgent: string, createdAt: string, lastUsedAt: string, expiresAt: string, revokedAt: string | null, revokedReason: string | null } };

export type CreateRoleMutationVariables = Exact<{
  input: RoleInput;
}>;


export type CreateRoleMutation = { createRole: { id: string, name: string, permissions: Array<Permission>, builtin: boolean } };

export type UpdateRoleMutationVariables = Exact<{
  input: UpdateRoleInput;
}>;


export type UpdateRoleMutation = { updateRole: { id: string, name: string, permissions: Array<Permission>, builtin: boolean } };

export type CreateParkClientMutationVariables = Exact<{
  input: CreateParkClientInput;
}>;


export type CreateParkClientMutation = { createParkClient: { clientSecret: string, client: { id: string, name: string, clientId: string, scopes: Array<string>, propertyIds: Array<string>, createdAt: string, rotatedAt: string | null, revokedAt: string | null } } };

export type RotateParkClientSecretMutationVariables = Exact<{
  id: string | number;
}>;


export type RotateParkClientSecretMutation = { rotateParkClientSecret: { clientSecret: string, client: { id: string, name: string, clientId: string, scopes: Array<string>, propertyIds: Array<string>, createdAt: string, rotatedAt: string | null, revokedAt: string | null } } };

export type RevokeParkClientMutationVariables = Exact<{
  id: string | number;
}>;


export type RevokeParkClientMutation = { revokeParkClient: { id: string, name: string, clientId: string, scopes: Array<string>, propertyIds: Array<string>, createdAt: string, rotatedAt: string | null, revokedAt: string | null } };

export type SalesReportQueryVariables = Exact<{
  from: string;
  to: string;
  bucket: SalesBucket;
  by: SalesBy;
  propertyId?: string | number | null | undefined;
}>;


export type SalesReportQuery = { salesReport: Array<{ period: string, key: string, name: string, count: number, amount: string }> };

export type MeterReadingReportQueryVariables = Exact<{
  from: string;
  to: string;
  propertyId?: string | number | null | undefined;
  areaId?: string | number | null | undefined;
}>;


export type MeterReadingReportQuery = { meterReadingReport: Array<{ meterId: string, address: string, propertyId: string, areaId: string | null, accountNumber: string | null, customerName: string | null, ratio: number, startRegister: string | null, startReadAt: string | null, endRegister: string | null, endReadAt: string | null, usage: string | null }> };

export type ReportAreasQueryVariables = Exact<{
  propertyId?: string | number | null | undefined;
}>;


export type ReportAreasQuery = { areas: Array<{ id: string, name: string, propertyId: string, retiredAt: string | null }> };

export type LowBalanceReportQueryVariables = Exact<{
  propertyId?: string | number | null | undefined;
  includeLow: boolean;
}>;


export type LowBalanceReportQuery = { lowBalanceReport: Array<{ accountId: string, number: string, customerName: string, phone: string, balance: string, balanceState: string }> };

export type EnergyReportQueryVariables = Exact<{
  from: string;
  to: string;
  bucket: EnergyBucket;
  by: EnergyBy;
  propertyId?: string | number | null | undefined;
  areaId?: string | number | null | undefined;
}>;


export type EnergyReportQuery = { energyReport: Array<{ period: string, key: string, name: string, total: string, sharp: string, peak: string, flat: string, valley: string }> };

export type DemandReportQueryVariables = Exact<{
  period: string;
  propertyId?: string | number | null | undefined;
  areaId?: string | number | null | undefined;
}>;


export type DemandReportQuery = { demandReport: Array<{ meterId: string, address: string, propertyId: string, accountNumber: string | null, customerName: string | null, ratio: number, registerDemand: string | null, intervalDemand: string | null, intervalFrom: string | null, intervalTo: string | null, basis: string | null }> };

export type LostDevicesReportQueryVariables = Exact<{
  propertyId?: string | number | null | undefined;
}>;


export type LostDevicesReportQuery = { lostDevicesReport: Array<{ kind: string, id: string, label: string, propertyId: string, areaId: string | null, accountNumber: string | null, lastSeenAt: string | null }> };

export type EntryFieldsFragment = { id: string, accountId: string, kind: EntryKind, amount: string, createdAt: string, receiptNo: number | null, meterId: string | null, reversesId: string | null, externalRef: string | null, note: string, invoicedAt: string | null, operator: string, channel: string | null };

export type FindAccountsQueryVariables = Exact<{
  filter: MeterFilter;
}>;


export type FindAccountsQuery = { meters: { total: number, items: Array<{ id: string, address: string, shopNo: string, customer: { id: string, name: string, phone: string } | null, account: { id: string, number: string, balance: string, state: AccountState } | null }> } };

export type SearchAccountsQueryVariables = Exact<{
  q: string;
}>;


export type SearchAccountsQuery = { accounts: { total: number, items: Array<{ id: string, number: string, balance: string, state: AccountState, customerId: string, meters: Array<{ id: string, address: string, shopNo: string, customer: { id: string, name: string, phone: string } | null }> }> } };

export type RechargeFeeQueryVariables = Exact<{
  accountId: string | number;
  amount: string;
}>;


export type RechargeFeeQuery = { rechargeFee: string };

export type SalesAccountQueryVariables = Exact<{
  id: string | number;
}>;


export type SalesAccountQuery = { account: { id: string, number: string, customerId: string, balance: string, state: AccountState, balanceState: BalanceState, relay: RelayPosition, holdPower: boolean, creditLimit: string, alarm1: string, alarm2: string, propertyFee: string, createdAt: string, closedAt: string | null, ledger: { items: Array<{ id: string, accountId: string, kind: EntryKind, amount: string, createdAt: string, receiptNo: number | null, meterId: string | null, reversesId: string | null, externalRef: string | null, note: string, invoicedAt: string | null, operator: string, channel: string | null }> }, meters: Array<{ id: string, propertyId: string, address: string, shopNo: string, linkState: LinkState, feeState: FeeState, tariffId: string | null, live: { energyTotal: string | null } }> } | null };

export type AccountByNumberMetersQueryVariables = Exact<{
  accountId: string | number;
}>;


export type AccountByNumberMetersQuery = { meters: { items: Array<{ id: string, address: string, shopNo: string, customer: { id: string, name: string, phone: string } | null }> } };

export type RechargeMutationVariables = Exact<{
  input: RechargeInput;
}>;


export type RechargeMutation = { recharge: { receiptNo: number | null, account: { id: string, balance: string, balanceState: BalanceState }, entries: Array<{ id: string, accountId: string, kind: EntryKind, amount: string, createdAt: string, receiptNo: number | null, meterId: string | null, reversesId: string | null, externalRef: string | null, note: string, invoicedAt: string | null, operator: string, channel: string | null }> } };

export type RefundMutationVariables = Exact<{
  input: RefundInput;
}>;


export type RefundMutation = { refund: { receiptNo: number | null, account: { id: string, balance: string, balanceState: BalanceState } } };

export type ReverseEntryMutationVariables = Exact<{
  entryId: string | number;
  note: string;
}>;


export type ReverseEntryMutation = { reverseEntry: { receiptNo: number | null, account: { id: string, balance: string, balanceState: BalanceState } } };

export type TransferBalanceMutationVariables = Exact<{
  input: TransferInput;
}>;


export type TransferBalanceMutation = { transferBalance: { from: { receiptNo: number | null, account: { id: string, balance: string } }, to: { account: { id: string, balance: string } } } };

export type ReceiptQueryVariables = Exact<{
  number: number;
}>;


export type ReceiptQuery = { receipt: { number: number, total: string, html: string, account: { id: string, number: string, balance: string }, entries: Array<{ id: string, kind: EntryKind, amount: string, createdAt: string }> } | null };

export type CustomerAppDataQueryVariables = Exact<{ [key: string]: never; }>;


export type CustomerAppDataQuery = { wechatApp: { appId: string, apiBase: string } | null, wechatOfficialAccount: { appId: string, apiBase: string, authorizeUrl: string } | null, wechatTemplates: Array<{ alarmKind: string, templateId: string, page: string, fields: Array<{ key: string, source: TemplateSource }> }>, tenant: { id: string, name: string } };

export type SetWechatAppMutationVariables = Exact<{
  input: SetWechatAppInput;
}>;


export type SetWechatAppMutation = { setWechatApp: boolean };

export type SetWechatOfficialAccountMutationVariables = Exact<{
  input: SetWechatOfficialAccountInput;
}>;


export type SetWechatOfficialAccountMutation = { setWechatOfficialAccount: { appId: string, apiBase: string, authorizeUrl: string } };

export type DeviceProfileFieldsFragment = { id: string, name: string, reads: Array<string>, scheme: CommandSchemeKind, passwordLevel: number | null, operatorCode: string | null, hasPassword: boolean, registerMap: string | null, jsonMap: string | null, builtin: boolean, createdAt: string | null };

export type DeviceProfilesQueryVariables = Exact<{ [key: string]: never; }>;


export type DeviceProfilesQuery = { deviceProfiles: Array<{ id: string, name: string, reads: Array<string>, scheme: CommandSchemeKind, passwordLevel: number | null, operatorCode: string | null, hasPassword: boolean, registerMap: string | null, jsonMap: string | null, builtin: boolean, createdAt: string | null }> };

export type CreateDeviceProfileMutationVariables = Exact<{
  input: CreateDeviceProfileInput;
}>;


export type CreateDeviceProfileMutation = { createDeviceProfile: { id: string, name: string, reads: Array<string>, scheme: CommandSchemeKind, passwordLevel: number | null, operatorCode: string | null, hasPassword: boolean, registerMap: string | null, jsonMap: string | null, builtin: boolean, createdAt: string | null } };

export type RetireDeviceProfileMutationVariables = Exact<{
  id: string | number;
}>;


export type RetireDeviceProfileMutation = { retireDeviceProfile: boolean };

export type ForwardTargetFieldsFragment = { id: string, name: string, url: string, events: Array<ForwardEvent>, propertyIds: Array<string>, state: string, createdAt: string, transport: ForwardTransportKind, username: string, counts: { pending: number, delivered: number, dead: number } };

export type ForwardTargetsQueryVariables = Exact<{ [key: string]: never; }>;


export type ForwardTargetsQuery = { forwardTargets: Array<{ id: string, name: string, url: string, events: Array<ForwardEvent>, propertyIds: Array<string>, state: string, createdAt: string, transport: ForwardTransportKind, username: string, counts: { pending: number, delivered: number, dead: number } }> };

export type ForwardLogQueryVariables = Exact<{
  state?: string | null | undefined;
  first: number;
  attempts: number;
}>;


export type ForwardLogQuery = { forwardTargets: Array<{ id: string, counts: { pending: number, delivered: number, dead: number }, deliveries: Array<{ kind: string, reference: string, subject: string, at: string, state: string, attempts: number, nextAt: string, lastError: string, deliveredAt: string | null }>, attempts: Array<{ at: string, events: number, status: number, error: string, durationMs: number }> }> };

export type CreateForwardTargetMutationVariables = Exact<{
  input: CreateForwardTargetInput;
}>;


export type CreateForwardTargetMutation = { createForwardTarget: { secret: string, target: { id: string, name: string, url: string, events: Array<ForwardEvent>, propertyIds: Array<string>, state: string, createdAt: string, transport: ForwardTransportKind, username: string, counts: { pending: number, delivered: number, dead: number } } } };

export type PauseForwardTargetMutationVariables = Exact<{
  id: string | number;
}>;


export type PauseForwardTargetMutation = { pauseForwardTarget: { id: string, name: string, url: string, events: Array<ForwardEvent>, propertyIds: Array<string>, state: string, createdAt: string, transport: ForwardTransportKind, username: string, counts: { pending: number, delivered: number, dead: number } } };

export type ResumeForwardTargetMutationVariables = Exact<{
  id: string | number;
}>;


export type ResumeForwardTargetMutation = { resumeForwardTarget: { id: string, name: string, url: string, events: Array<ForwardEvent>, propertyIds: Array<string>, state: string, createdAt: string, transport: ForwardTransportKind, username: string, counts: { pending: number, delivered: number, dead: number } } };

export type RetireForwardTargetMutationVariables = Exact<{
  id: string | number;
}>;


export type RetireForwardTargetMutation = { retireForwardTarget: { id: string, state: string } };

export type ReplayForwardTargetMutationVariables = Exact<{
  id: string | number;
  from: string;
}>;


export type ReplayForwardTargetMutation = { replayForwardTarget: number };

export type ReportRunFieldsFragment = { id: string, periodFrom: string, periodTo: string, state: string, attempts: number, nextAt: string, lastError: string, rowsSent: number | null, createdAt: string, sentAt: string | null };

export type ReportScheduleFieldsFragment = { id: string, name: string, report: string, params: string, format: ExportFormat, lang: string, cadence: ScheduleCadence, hour: number, channel: ScheduleChannel, recipients: Array<string>, url: string, state: string, nextRunAt: string, createdBy: string, createdAt: string };

export type ReportSchedulesQueryVariables = Exact<{ [key: string]: never; }>;


export type ReportSchedulesQuery = { reportSchedules: Array<{ id: string, name: string, report: string, params: string, format: ExportFormat, lang: string, cadence: ScheduleCadence, hour: number, channel: ScheduleChannel, recipients: Array<string>, url: string, state: string, nextRunAt: string, createdBy: string, createdAt: string, runs: Array<{ id: string, periodFrom: string, periodTo: string, state: string, attempts: number, nextAt: string, lastError: string, rowsSent: number | null, createdAt: string, sentAt: string | null }> }> };

export type ReportScheduleRunsQueryVariables = Exact<{
  first: number;
}>;


export type ReportScheduleRunsQuery = { reportSchedules: Array<{ id: string, runs: Array<{ id: string, periodFrom: string, periodTo: string, state: string, attempts: number, nextAt: string, lastError: string, rowsSent: number | null, createdAt: string, sentAt: string | null }> }> };

export type ScheduleAreasQueryVariables = Exact<{ [key: string]: never; }>;


export type ScheduleAreasQuery = { areas: Array<{ id: string, name: string, propertyId: string, retiredAt: string | null }> };

export type CreateReportScheduleMutationVariables = Exact<{
  input: CreateReportScheduleInput;
}>;


export type CreateReportScheduleMutation = { createReportSchedule: { secret: string | null, schedule: { id: string, name: string, report: string, params: string, format: ExportFormat, lang: string, cadence: ScheduleCadence, hour: number, channel: ScheduleChannel, recipients: Array<string>, url: string, state: string, nextRunAt: string, createdBy: string, createdAt: string } } };

export type PauseReportScheduleMutationVariables = Exact<{
  id: string | number;
}>;


export type PauseReportScheduleMutation = { pauseReportSchedule: { id: string, state: string, nextRunAt: string } };

export type ResumeReportScheduleMutationVariables = Exact<{
  id: string | number;
}>;


export type ResumeReportScheduleMutation = { resumeReportSchedule: { id: string, state: string, nextRunAt: string } };

export type RetireReportScheduleMutationVariables = Exact<{
  id: string | number;
}>;


export type RetireReportScheduleMutation = { retireReportSchedule: { id: string, state: string } };

export type RunReportScheduleMutationVariables = Exact<{
  id: string | number;
  from: string;
  to: string;
}>;


export type RunReportScheduleMutation = { runReportSchedule: { id: string, periodFrom: string, periodTo: string, state: string, attempts: number, nextAt: string, lastError: string, rowsSent: number | null, createdAt: string, sentAt: string | null } };

export type MoneySettingsFieldsFragment = { defaultTariffId: string | null, cataloguePrice: string | null, marginPercent: string, priceCap: string | null, jumpLimitKw: string, settlementDay: number, settlementHour: number, serviceFeePercent: string, serviceFeeFixed: string, defaultThresholds: { creditLimit: string, alarm1: string, alarm2: string } };

export type SettingsDataQueryVariables = Exact<{ [key: string]: never; }>;


export type SettingsDataQuery = { notificationSettings: { provider: string, endpoint: string, accessKeyId: string, secretSet: boolean, signName: string, sdkAppId: string, region: string, contacts: Array<string>, quietStart: string | null, quietEnd: string | null, dailyLimit: number } | null, notificationTemplates: Array<{ alarmKind: string, templateCode: string }>, friendlyHours: Array<{ name: string, weekdays: Array<number>, date: string | null, start: string, end: string }>, moneySettings: { defaultTariffId: string | null, cataloguePrice: string | null, marginPercent: string, priceCap: string | null, jumpLimitKw: string, settlementDay: number, settlementHour: number, serviceFeePercent: string, serviceFeeFixed: string, defaultThresholds: { creditLimit: string, alarm1: string, alarm2: string } }, tenant: { id: string, timeZone: string, readingIntervalSeconds: number, lostAfterIntervals: number } };

export type NotificationsQueryVariables = Exact<{
  status?: string | null | undefined;
  first: number;
}>;


export type NotificationsQuery = { notifications: Array<{ id: string, channel: string, alarmKind: string, recipient: string, templateCode: string, params: string, status: string, attempts: number, lastError: string, createdAt: string, sentAt: string | null }> };

export type SetNotificationSettingsMutationVariables = Exact<{
  input: NotificationSettingsInput;
}>;


export type SetNotificationSettingsMutation = { setNotificationSettings: { provider: string, secretSet: boolean } };

export type SetNotificationTemplateMutationVariables = Exact<{
  alarmKind: string;
  templateCode: string;
}>;


export type SetNotificationTemplateMutation = { setNotificationTemplate: Array<{ alarmKind: string, templateCode: string }> };

export type SetWechatTemplateMutationVariables = Exact<{
  input: WechatTemplateInput;
}>;


export type SetWechatTemplateMutation = { setWechatTemplate: { alarmKind: string, templateId: string } };

export type SetFriendlyHoursMutationVariables = Exact<{
  windows: Array<FriendlyWindowInput> | FriendlyWindowInput;
}>;


export type SetFriendlyHoursMutation = { setFriendlyHours: Array<{ name: string, weekdays: Array<number>, date: string | null, start: string, end: string }> };

export type SetReadingScheduleMutationVariables = Exact<{
  readingIntervalSeconds: number;
  lostAfterIntervals: number;
}>;


export type SetReadingScheduleMutation = { setReadingSchedule: { id: string, readingIntervalSeconds: number, lostAfterIntervals: number } };

export type SetServiceFeeMutationVariables = Exact<{
  input: ServiceFeeInput;
}>;


export type SetServiceFeeMutation = { setServiceFee: { defaultTariffId: string | null, cataloguePrice: string | null, marginPercent: string, priceCap: string | null, jumpLimitKw: string, settlementDay: number, settlementHour: number, serviceFeePercent: string, serviceFeeFixed: string, defaultThresholds: { creditLimit: string, alarm1: string, alarm2: string } } };

export type SetPriceRuleMutationVariables = Exact<{
  input: PriceRuleInput;
}>;


export type SetPriceRuleMutation = { setPriceRule: { defaultTariffId: string | null, cataloguePrice: string | null, marginPercent: string, priceCap: string | null, jumpLimitKw: string, settlementDay: number, settlementHour: number, serviceFeePercent: string, serviceFeeFixed: string, defaultThresholds: { creditLimit: string, alarm1: string, alarm2: string } } };

export type SetBillingSettingsMutationVariables = Exact<{
  input: BillingSettingsInput;
}>;


export type SetBillingSettingsMutation = { setBillingSettings: { defaultTariffId: string | null, cataloguePrice: string | null, marginPercent: string, priceCap: string | null, jumpLimitKw: string, settlementDay: number, settlementHour: number, serviceFeePercent: string, serviceFeeFixed: string, defaultThresholds: { creditLimit: string, alarm1: string, alarm2: string } } };

export type SetDefaultThresholdsMutationVariables = Exact<{
  input: ThresholdsInput;
}>;


export type SetDefaultThresholdsMutation = { setDefaultThresholds: { defaultTariffId: string | null, cataloguePrice: string | null, marginPercent: string, priceCap: string | null, jumpLimitKw: string, settlementDay: number, settlementHour: number, serviceFeePercent: string, serviceFeeFixed: string, defaultThresholds: { creditLimit: string, alarm1: string, alarm2: string } } };

export type SendTestNotificationMutationVariables = Exact<{
  alarmKind: string;
  phone: string;
}>;


export type SendTestNotificationMutation = { sendTestNotification: { sent: boolean, templateCode: string, providerRef: string | null, error: string | null } };

export type AllocationRunFieldsFragment = { groupId: string, period: string, energy: string | null, amount: string, createdAt: string, shares: Array<{ accountId: string, weight: string, amount: string, disposition: ShareDisposition, entryId: string | null }> };

export type AllocationGroupFieldsFragment = { id: string, name: string, meterId: string | null, fixedAmount: string | null, method: AllocationMethod, retiredAt: string | null, members: Array<{ accountId: string, weight: string }>, runs: Array<{ groupId: string, period: string, energy: string | null, amount: string, createdAt: string, shares: Array<{ accountId: string, weight: string, amount: string, disposition: ShareDisposition, entryId: string | null }> }> };

export type AllocationGroupsQueryVariables = Exact<{
  includeRetired: boolean;
}>;


export type AllocationGroupsQuery = { allocationGroups: Array<{ id: string, name: string, meterId: string | null, fixedAmount: string | null, method: AllocationMethod, retiredAt: string | null, members: Array<{ accountId: string, weight: string }>, runs: Array<{ groupId: string, period: string, energy: string | null, amount: string, createdAt: string, shares: Array<{ accountId: string, weight: string, amount: string, disposition: ShareDisposition, entryId: string | null }> }> }> };

export type SharedMeterSearchQueryVariables = Exact<{
  q?: string | null | undefined;
}>;


export type SharedMeterSearchQuery = { meters: { items: Array<{ id: string, address: string, shopNo: string, areaName: string | null, tariffId: string | null }> } };

export type CreateAllocationGroupMutationVariables = Exact<{
  input: CreateAllocationGroupInput;
}>;


export type CreateAllocationGroupMutation = { createAllocationGroup: { id: string, name: string, meterId: string | null, fixedAmount: string | null, method: AllocationMethod, retiredAt: string | null, members: Array<{ accountId: string, weight: string }>, runs: Array<{ groupId: string, period: string, energy: string | null, amount: string, createdAt: string, shares: Array<{ accountId: string, weight: string, amount: string, disposition: ShareDisposition, entryId: string | null }> }> } };

export type RunAllocationMutationVariables = Exact<{
  groupId: string | number;
  period: string;
}>;


export type RunAllocationMutation = { runAllocation: { groupId: string, period: string, energy: string | null, amount: string, createdAt: string, shares: Array<{ accountId: string, weight: string, amount: string, disposition: ShareDisposition, entryId: string | null }> } };

export type RetireAllocationGroupMutationVariables = Exact<{
  id: string | number;
}>;


export type RetireAllocationGroupMutation = { retireAllocationGroup: { id: string, name: string, meterId: string | null, fixedAmount: string | null, method: AllocationMethod, retiredAt: string | null, members: Array<{ accountId: string, weight: string }>, runs: Array<{ groupId: string, period: string, energy: string | null, amount: string, createdAt: string, shares: Array<{ accountId: string, weight: string, amount: string, disposition: ShareDisposition, entryId: string | null }> }> } };

export type SitePropertyFragment = { id: string, name: string, address: string, contactName: string, contactPhone: string, createdAt: string, retiredAt: string | null };

export type SiteAreaFragment = { id: string, propertyId: string, name: string, floorArea: string | null, retiredAt: string | null };

export type SiteGatewayFragment = { id: string, propertyId: string, serial: string, name: string, linkState: LinkState, lastSeenAt: string | null, retiredAt: string | null };

export type SiteMeterFragment = { id: string, address: string, model: string, phases: number, ptRatio: number, ctRatio: number, linkType: LinkType, billingMode: BillingMode, shopNo: string, propertyId: string, areaId: string | null, areaName: string | null, gatewayId: string | null, tariffId: string | null, linkState: LinkState, lastSeenAt: string | null, retiredAt: string | null };

export type CredentialsFragment = { brokerUrl: string | null, username: string, password: string, uplinkTopic: string, downlinkTopic: string };

export type SitePropertiesQueryVariables = Exact<{ [key: string]: never; }>;


export type SitePropertiesQuery = { properties: Array<{ id: string, name: string, address: string, contactName: string, contactPhone: string, createdAt: string, retiredAt: string | null }> };

export type SiteAreasQueryVariables = Exact<{
  propertyId: string | number;
}>;


export type SiteAreasQuery = { areas: Array<{ id: string, propertyId: string, name: string, floorArea: string | null, retiredAt: string | null }> };

export type SiteGatewaysQueryVariables = Exact<{
  propertyId: string | number;
  page: number;
  pageSize: number;
}>;


export type SiteGatewaysQuery = { gateways: { total: number, items: Array<{ id: string, propertyId: string, serial: string, name: string, linkState: LinkState, lastSeenAt: string | null, retiredAt: string | null }> } };

export type SiteMetersQueryVariables = Exact<{
  filter: MeterFilter;
  page: number;
  pageSize: number;
}>;


export type SiteMetersQuery = { meters: { total: number, items: Array<{ id: string, address: string, model: string, phases: number, ptRatio: number, ctRatio: number, linkType: LinkType, billingMode: BillingMode, shopNo: string, propertyId: string, areaId: string | null, areaName: string | null, gatewayId: string | null, tariffId: string | null, linkState: LinkState, lastSeenAt: string | null, retiredAt: string | null }> } };

export type CreatePropertyMutationVariables = Exact<{
  input: CreatePropertyInput;
}>;


export type CreatePropertyMutation = { createProperty: { id: string, name: string, address: string, contactName: string, contactPhone: string, createdAt: string, retiredAt: string | null } };

export type UpdatePropertyMutationVariables = Exact<{
  input: UpdatePropertyInput;
}>;


export type UpdatePropertyMutation = { updateProperty: { id: string, name: string, address: string, contactName: string, contactPhone: string, createdAt: string, retiredAt: string | null } };

export type RetirePropertyMutationVariables = Exact<{
  id: string | number;
}>;


export type RetirePropertyMutation = { retireProperty: { id: string, name: string, address: string, contactName: string, contactPhone: string, createdAt: string, retiredAt: string | null } };

export type CreateAreaMutationVariables = Exact<{
  input: CreateAreaInput;
}>;


export type CreateAreaMutation = { createArea: { id: string, propertyId: string, name: string, floorArea: string | null, retiredAt: string | null } };

export type UpdateAreaMutationVariables = Exact<{
  input: UpdateAreaInput;
}>;


export type UpdateAreaMutation = { updateArea: { id: string, propertyId: string, name: string, floorArea: string | null, retiredAt: string | null } };

export type RetireAreaMutationVariables = Exact<{
  id: string | number;
}>;


export type RetireAreaMutation = { retireArea: { id: string, propertyId: string, name: string, floorArea: string | null, retiredAt: string | null } };

export type RegisterGatewayMutationVariables = Exact<{
  input: RegisterGatewayInput;
}>;


export type RegisterGatewayMutation = { registerGateway: { gateway: { id: string, propertyId: string, serial: string, name: string, linkState: LinkState, lastSeenAt: string | null, retiredAt: string | null }, credentials: { brokerUrl: string | null, username: string, password: string, uplinkTopic: string, downlinkTopic: string } } };

export type UpdateGatewayMutationVariables = Exact<{
  input: UpdateGatewayInput;
}>;


export type UpdateGatewayMutation = { updateGateway: { id: string, propertyId: string, serial: string, name: string, linkState: LinkState, lastSeenAt: string | null, retiredAt: string | null } };

export type RetireGatewayMutationVariables = Exact<{
  id: string | number;
}>;


export type RetireGatewayMutation = { retireGateway: { id: string, propertyId: string, serial: string, name: string, linkState: LinkState, lastSeenAt: string | null, retiredAt: string | null } };

export type RegisterMeterMutationVariables = Exact<{
  input: RegisterMeterInput;
}>;


export type RegisterMeterMutation = { registerMeter: { meter: { id: string, address: string, model: string, phases: number, ptRatio: number, ctRatio: number, linkType: LinkType, billingMode: BillingMode, shopNo: string, propertyId: string, areaId: string | null, areaName: string | null, gatewayId: string | null, tariffId: string | null, linkState: LinkState, lastSeenAt: string | null, retiredAt: string | null }, credentials: { brokerUrl: string | null, username: string, password: string, uplinkTopic: string, downlinkTopic: string } | null } };

export type RetireMeterMutationVariables = Exact<{
  id: string | number;
}>;


export type RetireMeterMutation = { retireMeter: { id: string, address: string, model: string, phases: number, ptRatio: number, ctRatio: number, linkType: LinkType, billingMode: BillingMode, shopNo: string, propertyId: string, areaId: string | null, areaName: string | null, gatewayId: string | null, tariffId: string | null, linkState: LinkState, lastSeenAt: string | null, retiredAt: string | null } };

export type RotateCredentialMutationVariables = Exact<{
  input: DeviceInput;
}>;


export type RotateCredentialMutation = { rotateDeviceCredential: { brokerUrl: string | null, username: string, password: string, uplinkTopic: string, downlinkTopic: string } };

export type RevokeCredentialMutationVariables = Exact<{
  input: DeviceInput;
}>;


export type RevokeCredentialMutation = { revokeDeviceCredential: boolean };

export type AccountStatementQueryVariables = Exact<{
  accountId: string | number;
  from: string;
  to: string;
}>;


export type AccountStatementQuery = { tenant: { name: string, timeZone: string }, accountStatement: { accountId: string, accountNumber: string, customerName: string, from: string, to: string, opening: string, credits: string, debits: string, closing: string, lines: Array<{ at: string, kind: string, label: string, entries: number, amount: string, balance: string, receiptNo: number | null, note: string }> } };

export type TariffVersionFieldsFragment = { effectiveFrom: string, source: TouSource, capacityPricePerKw: string | null, aboveCap: boolean, createdAt: string, prices: Array<{ rate: TouRate, price: string }>, periods: Array<{ start: string, end: string, rate: TouRate }>, seasons: Array<{ from: string, to: string, periods: Array<{ start: string, end: string, rate: TouRate }> }>, dates: Array<{ date: string, periods: Array<{ start: string, end: string, rate: TouRate }> }>, tiers: { cycle: TierCycle, steps: Array<{ upTo: string | null, add: string }> } | null };

export type TariffFieldsFragment = { id: string, name: string, createdAt: string, retiredAt: string | null, versions: Array<{ effectiveFrom: string, source: TouSource, capacityPricePerKw: string | null, aboveCap: boolean, createdAt: string, prices: Array<{ rate: TouRate, price: string }>, periods: Array<{ start: string, end: string, rate: TouRate }>, seasons: Array<{ from: string, to: string, periods: Array<{ start: string, end: string, rate: TouRate }> }>, dates: Array<{ date: string, periods: Array<{ start: string, end: string, rate: TouRate }> }>, tiers: { cycle: TierCycle, steps: Array<{ upTo: string | null, add: string }> } | null }> };

export type TariffListQueryVariables = Exact<{ [key: string]: never; }>;


export type TariffListQuery = { tariffs: Array<{ id: string, name: string, createdAt: string, retiredAt: string | null, versions: Array<{ effectiveFrom: string, source: TouSource, capacityPricePerKw: string | null, aboveCap: boolean, createdAt: string, prices: Array<{ rate: TouRate, price: string }>, periods: Array<{ start: string, end: string, rate: TouRate }>, seasons: Array<{ from: string, to: string, periods: Array<{ start: string, end: string, rate: TouRate }> }>, dates: Array<{ date: string, periods: Array<{ start: string, end: string, rate: TouRate }> }>, tiers: { cycle: TierCycle, steps: Array<{ upTo: string | null, add: string }> } | null }> }>, moneySettings: { defaultTariffId: string | null, cataloguePrice: string | null, marginPercent: string, priceCap: string | null }, properties: Array<{ id: string, name: string, retiredAt: string | null, tariffId: string | null }> };

export type PriceNoticeQueryVariables = Exact<{ [key: string]: never; }>;


export type PriceNoticeQuery = { priceNotice: string };

export type TariffMeterSearchQueryVariables = Exact<{
  q?: string | null | undefined;
}>;


export type TariffMeterSearchQuery = { meters: { items: Array<{ id: string, address: string, shopNo: string, tariffId: string | null }> } };

export type CreateTariffMutationVariables = Exact<{
  input: CreateTariffInput;
}>;


export type CreateTariffMutation = { createTariff: { id: string, name: string, createdAt: string, retiredAt: string | null, versions: Array<{ effectiveFrom: string, source: TouSource, capacityPricePerKw: string | null, aboveCap: boolean, createdAt: string, prices: Array<{ rate: TouRate, price: string }>, periods: Array<{ start: string, end: string, rate: TouRate }>, seasons: Array<{ from: string, to: string, periods: Array<{ start: string, end: string, rate: TouRate }> }>, dates: Array<{ date: string, periods: Array<{ start: string, end: string, rate: TouRate }> }>, tiers: { cycle: TierCycle, steps: Array<{ upTo: string | null, add: string }> } | null }> } };

export type AddTariffVersionMutationVariables = Exact<{
  input: AddTariffVersionInput;
}>;


export type AddTariffVersionMutation = { addTariffVersion: { id: string, name: string, createdAt: string, retiredAt: string | null, versions: Array<{ effectiveFrom: string, source: TouSource, capacityPricePerKw: string | null, aboveCap: boolean, createdAt: string, prices: Array<{ rate: TouRate, price: string }>, periods: Array<{ start: string, end: string, rate: TouRate }>, seasons: Array<{ from: string, to: string, periods: Array<{ start: string, end: string, rate: TouRate }> }>, dates: Array<{ date: string, periods: Array<{ start: string, end: string, rate: TouRate }> }>, tiers: { cycle: TierCycle, steps: Array<{ upTo: string | null, add: string }> } | null }> } };

export type AssignTariffToMutationVariables = Exact<{
  input: AssignTariffInput;
}>;


export type AssignTariffToMutation = { assignTariff: boolean };

export type RetireTariffMutationVariables = Exact<{
  id: string | number;
}>;


export type RetireTariffMutation = { retireTariff: { id: string, retiredAt: string | null } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const AlarmFieldsFragmentDoc = new TypedDocumentString(`
    fragment AlarmFields on Alarm {
  id
  kind
  severity
  state
  subjectKind
  subjectId
  parentId
  folded
  detail
  raisedAt
  clearedAt
  acknowledgedAt
  acknowledgedBy
  subjectLabel
  propertyId
}
    `, {"fragmentName":"AlarmFields"}) as unknown as TypedDocumentString<AlarmFieldsFragment, unknown>;
export const BillFieldsFragmentDoc = new TypedDocumentString(`
    fragment BillFields on Bill {
  id
  accountId
  period
  version
  state
  total
  periodStart
  periodEnd
  createdAt
  issuedAt
  paidAt
}
    `, {"fragmentName":"BillFields"}) as unknown as TypedDocumentString<BillFieldsFragment, unknown>;
export const BillLineFieldsFragmentDoc = new TypedDocumentString(`
    fragment BillLineFields on BillLine {
  lineNo
  kind
  meterId
  description
  quantity
  unitPrice
  amount
}
    `, {"fragmentName":"BillLineFields"}) as unknown as TypedDocumentString<BillLineFieldsFragment, unknown>;
export const BillAccountFieldsFragmentDoc = new TypedDocumentString(`
    fragment BillAccountFields on Account {
  id
  number
  propertyFee
  meters {
    id
    address
    shopNo
    propertyId
    areaName
    billingMode
    customer {
      id
      name
      phone
    }
  }
}
    `, {"fragmentName":"BillAccountFields"}) as unknown as TypedDocumentString<BillAccountFieldsFragment, unknown>;
export const PlatformTenantFieldsFragmentDoc = new TypedDocumentString(`
    fragment PlatformTenantFields on PlatformTenant {
  id
  name
  slug
  timeZone
  status
}
    `, {"fragmentName":"PlatformTenantFields"}) as unknown as TypedDocumentString<PlatformTenantFieldsFragment, unknown>;
export const PaymentProviderFieldsFragmentDoc = new TypedDocumentString(`
    fragment PaymentProviderFields on PaymentProviderView {
  spMchid
  spAppid
  serial
  wechatKeySerials
  apiBase
  notifyUrl
}
    `, {"fragmentName":"PaymentProviderFields"}) as unknown as TypedDocumentString<PaymentProviderFieldsFragment, unknown>;
export const AccountFieldsFragmentDoc = new TypedDocumentString(`
    fragment AccountFields on Account {
  id
  number
  customerId
  balance
  state
  balanceState
  relay
  holdPower
  creditLimit
  alarm1
  alarm2
  propertyFee
  createdAt
  closedAt
  meters {
    id
    propertyId
    address
    shopNo
    linkState
    feeState
    tariffId
    live {
      energyTotal
    }
  }
}
    `, {"fragmentName":"AccountFields"}) as unknown as TypedDocumentString<AccountFieldsFragment, unknown>;
export const ReadingFieldsFragmentDoc = new TypedDocumentString(`
    fragment ReadingFields on Reading {
  readAt
  energyTotal
  energySharp
  energyPeak
  energyFlat
  energyValley
  reverseEnergy
  voltageA
  voltageB
  voltageC
  currentA
  currentB
  currentC
  activePower
  reactivePower
  powerFactor
  frequency
  maxDemand
  remainingAmount
  overdraftAmount
  relayOpen
  holdPower
  phaseLoss
  underVoltage
}
    `, {"fragmentName":"ReadingFields"}) as unknown as TypedDocumentString<ReadingFieldsFragment, unknown>;
export const MeterProfileFieldsFragmentDoc = new TypedDocumentString(`
    fragment MeterProfileFields on MeterProfile {
  meterId
  profileId
  lacks {
    di
    reason
    learnedAt
  }
}
    `, {"fragmentName":"MeterProfileFields"}) as unknown as TypedDocumentString<MeterProfileFieldsFragment, unknown>;
export const MonitorMeterFragmentDoc = new TypedDocumentString(`
    fragment MonitorMeter on Meter {
  id
  address
  shopNo
  propertyId
  areaId
  gatewayId
  accountId
  billingMode
  linkState
  lastSeenAt
  feeState
  priceNow
  rateNow
  balance
  accountNumber
  customerName
  areaName
  live {
    readAt
    energyTotal
    relayOpen
  }
}
    `, {"fragmentName":"MonitorMeter"}) as unknown as TypedDocumentString<MonitorMeterFragment, unknown>;
export const CommandFieldsFragmentDoc = new TypedDocumentString(`
    fragment CommandFields on Command {
  id
  meterId
  meterAddress
  accountId
  kind
  source
  reason
  status
  attempts
  createdAt
  sentAt
  repliedAt
  confirmedAt
}
    `, {"fragmentName":"CommandFields"}) as unknown as TypedDocumentString<CommandFieldsFragment, unknown>;
export const PayeeFieldsFragmentDoc = new TypedDocumentString(`
    fragment PayeeFields on Payee {
  id
  name
  mode
  subMchid
  propertyId
  areaId
  createdAt
  credentials {
    channel
    appId
    merchantId
    serial
    verifyKeyIds
    updatedAt
  }
}
    `, {"fragmentName":"PayeeFields"}) as unknown as TypedDocumentString<PayeeFieldsFragment, unknown>;
export const ReconciliationFieldsFragmentDoc = new TypedDocumentString(`
    fragment ReconciliationFields on Reconciliation {
  payeeId
  date
  ranAt
  billRows
  matched
  discrepancies {
    kind
    outTradeNo
    ours
    theirs
  }
}
    `, {"fragmentName":"ReconciliationFields"}) as unknown as TypedDocumentString<ReconciliationFieldsFragment, unknown>;
export const DifferenceFieldsFragmentDoc = new TypedDocumentString(`
    fragment DifferenceFields on PaymentDifference {
  id
  orderId
  payeeId
  channel
  transactionId
  amount
  paidAt
  reason
  state
  resolution
  resolvedBy
  resolvedAt
}
    `, {"fragmentName":"DifferenceFields"}) as unknown as TypedDocumentString<DifferenceFieldsFragment, unknown>;
export const RefundFieldsFragmentDoc = new TypedDocumentString(`
    fragment RefundFields on PaymentRefund {
  id
  orderId
  outRefundNo
  amount
  reason
  state
  refundId
  lastError
  createdAt
  finishedAt
}
    `, {"fragmentName":"RefundFields"}) as unknown as TypedDocumentString<RefundFieldsFragment, unknown>;
export const OrderFieldsFragmentDoc = new TypedDocumentString(`
    fragment OrderFields on RechargeOrder {
  id
  outTradeNo
  accountId
  payeeId
  channel
  amount
  state
  transactionId
  createdAt
  paidAt
}
    `, {"fragmentName":"OrderFields"}) as unknown as TypedDocumentString<OrderFieldsFragment, unknown>;
export const OperatorFieldsFragmentDoc = new TypedDocumentString(`
    fragment OperatorFields on Operator {
  id
  username
  displayName
  role {
    id
    name
  }
  propertyIds
  status
  lastLoginAt
  createdAt
}
    `, {"fragmentName":"OperatorFields"}) as unknown as TypedDocumentString<OperatorFieldsFragment, unknown>;
export const RoleFieldsFragmentDoc = new TypedDocumentString(`
    fragment RoleFields on Role {
  id
  name
  permissions
  builtin
}
    `, {"fragmentName":"RoleFields"}) as unknown as TypedDocumentString<RoleFieldsFragment, unknown>;
export const ParkClientFieldsFragmentDoc = new TypedDocumentString(`
    fragment ParkClientFields on ParkClient {
  id
  name
  clientId
  scopes
  propertyIds
  createdAt
  rotatedAt
  revokedAt
}
    `, {"fragmentName":"ParkClientFields"}) as unknown as TypedDocumentString<ParkClientFieldsFragment, unknown>;
export const SessionFieldsFragmentDoc = new TypedDocumentString(`
    fragment SessionFields on Session {
  id
  principalKind
  principalId
  source
  userAgent
  createdAt
  lastUsedAt
  expiresAt
  revokedAt
  revokedReason
}
    `, {"fragmentName":"SessionFields"}) as unknown as TypedDocumentString<SessionFieldsFragment, unknown>;
export const EntryFieldsFragmentDoc = new TypedDocumentString(`
    fragment EntryFields on LedgerEntry {
  id
  accountId
  kind
  amount
  createdAt
  receiptNo
  meterId
  reversesId
  externalRef
  note
  invoicedAt
  operator
  channel
}
    `, {"fragmentName":"EntryFields"}) as unknown as TypedDocumentString<EntryFieldsFragment, unknown>;
export const DeviceProfileFieldsFragmentDoc = new TypedDocumentString(`
    fragment DeviceProfileFields on DeviceProfile {
  id
  name
  reads
  scheme
  passwordLevel
  operatorCode
  hasPassword
  registerMap
  jsonMap
  builtin
  createdAt
}
    `, {"fragmentName":"DeviceProfileFields"}) as unknown as TypedDocumentString<DeviceProfileFieldsFragment, unknown>;
export const ForwardTargetFieldsFragmentDoc = new TypedDocumentString(`
    fragment ForwardTargetFields on ForwardTarget {
  id
  name
  url
  events
  propertyIds
  state
  createdAt
  transport
  username
  counts {
    pending
    delivered
    dead
  }
}
    `, {"fragmentName":"ForwardTargetFields"}) as unknown as TypedDocumentString<ForwardTargetFieldsFragment, unknown>;
export const ReportRunFieldsFragmentDoc = new TypedDocumentString(`
    fragment ReportRunFields on ReportRun {
  id
  periodFrom
  periodTo
  state
  attempts
  nextAt
  lastError
  rowsSent
  createdAt
  sentAt
}
    `, {"fragmentName":"ReportRunFields"}) as unknown as TypedDocumentString<ReportRunFieldsFragment, unknown>;
export const ReportScheduleFieldsFragmentDoc = new TypedDocumentString(`
    fragment ReportScheduleFields on ReportSchedule {
  id
  name
  report
  params
  format
  lang
  cadence
  hour
  channel
  recipients
  url
  state
  nextRunAt
  createdBy
  createdAt
}
    `, {"fragmentName":"ReportScheduleFields"}) as unknown as TypedDocumentString<ReportScheduleFieldsFragment, unknown>;
export const MoneySettingsFieldsFragmentDoc = new TypedDocumentString(`
    fragment MoneySettingsFields on MoneySettings {
  defaultTariffId
  cataloguePrice
  marginPercent
  priceCap
  jumpLimitKw
  settlementDay
  settlementHour
  serviceFeePercent
  serviceFeeFixed
  defaultThresholds {
    creditLimit
    alarm1
    alarm2
  }
}
    `, {"fragmentName":"MoneySettingsFields"}) as unknown as TypedDocumentString<MoneySettingsFieldsFragment, unknown>;
export const AllocationRunFieldsFragmentDoc = new TypedDocumentString(`
    fragment AllocationRunFields on AllocationRun {
  groupId
  period
  energy
  amount
  createdAt
  shares {
    accountId
    weight
    amount
    disposition
    entryId
  }
}
    `, {"fragmentName":"AllocationRunFields"}) as unknown as TypedDocumentString<AllocationRunFieldsFragment, unknown>;
export const AllocationGroupFieldsFragmentDoc = new TypedDocumentString(`
    fragment AllocationGroupFields on AllocationGroup {
  id
  name
  meterId
  fixedAmount
  method
  retiredAt
  members {
    accountId
    weight
  }
  runs {
    ...AllocationRunFields
  }
}
    fragment AllocationRunFields on AllocationRun {
  groupId
  period
  energy
  amount
  createdAt
  shares {
    accountId
    weight
    amount
    disposition
    entryId
  }
}`, {"fragmentName":"AllocationGroupFields"}) as unknown as TypedDocumentString<AllocationGroupFieldsFragment, unknown>;
export const SitePropertyFragmentDoc = new TypedDocumentString(`
    fragment SiteProperty on Property {
  id
  name
  address
  contactName
  contactPhone
  createdAt
  retiredAt
}
    `, {"fragmentName":"SiteProperty"}) as unknown as TypedDocumentString<SitePropertyFragment, unknown>;
export const SiteAreaFragmentDoc = new TypedDocumentString(`
    fragment SiteArea on Area {
  id
  propertyId
  name
  floorArea
  retiredAt
}
    `, {"fragmentName":"SiteArea"}) as unknown as TypedDocumentString<SiteAreaFragment, unknown>;
export const SiteGatewayFragmentDoc = new TypedDocumentString(`
    fragment SiteGateway on Gateway {
  id
  propertyId
  serial
  name
  linkState
  lastSeenAt
  retiredAt
}
    `, {"fragmentName":"SiteGateway"}) as unknown as TypedDocumentString<SiteGatewayFragment, unknown>;
export const SiteMeterFragmentDoc = new TypedDocumentString(`
    fragment SiteMeter on Meter {
  id
  address
  model
  phases
  ptRatio
  ctRatio
  linkType
  billingMode
  shopNo
  propertyId
  areaId
  areaName
  gatewayId
  tariffId
  linkState
  lastSeenAt
  retiredAt
}
    `, {"fragmentName":"SiteMeter"}) as unknown as TypedDocumentString<SiteMeterFragment, unknown>;
export const CredentialsFragmentDoc = new TypedDocumentString(`
    fragment Credentials on DeviceCredentials {
  brokerUrl
  username
  password
  uplinkTopic
  downlinkTopic
}
    `, {"fragmentName":"Credentials"}) as unknown as TypedDocumentString<CredentialsFragment, unknown>;
export const TariffVersionFieldsFragmentDoc = new TypedDocumentString(`
    fragment TariffVersionFields on TariffVersion {
  effectiveFrom
  prices {
    rate
    price
  }
  periods {
    start
    end
    rate
  }
  seasons {
    from
    to
    periods {
      start
      end
      rate
    }
  }
  dates {
    date
    periods {
      start
      end
      rate
    }
  }
  source
  tiers {
    cycle
    steps {
      upTo
      add
    }
  }
  capacityPricePerKw
  aboveCap
  createdAt
}
    `, {"fragmentName":"TariffVersionFields"}) as unknown as TypedDocumentString<TariffVersionFieldsFragment, unknown>;
export const TariffFieldsFragmentDoc = new TypedDocumentString(`
    fragment TariffFields on Tariff {
  id
  name
  createdAt
  retiredAt
  versions {
    ...TariffVersionFields
  }
}
    fragment TariffVersionFields on TariffVersion {
  effectiveFrom
  prices {
    rate
    price
  }
  periods {
    start
    end
    rate
  }
  seasons {
    from
    to
    periods {
      start
      end
      rate
    }
  }
  dates {
    date
    periods {
      start
      end
      rate
    }
  }
  source
  tiers {
    cycle
    steps {
      upTo
      add
    }
  }
  capacityPricePerKw
  aboveCap
  createdAt
}`, {"fragmentName":"TariffFields"}) as unknown as TypedDocumentString<TariffFieldsFragment, unknown>;
export const ActiveAlarmsDocument = new TypedDocumentString(`
    query ActiveAlarms($first: Int!) {
  alarms(activeOnly: true, first: $first) {
    ...AlarmFields
  }
}
    fragment AlarmFields on Alarm {
  id
  kind
  severity
  state
  subjectKind
  subjectId
  parentId
  folded
  detail
  raisedAt
  clearedAt
  acknowledgedAt
  acknowledgedBy
  subjectLabel
  propertyId
}`) as unknown as TypedDocumentString<ActiveAlarmsQuery, ActiveAlarmsQueryVariables>;
export const AlarmChangesDocument = new TypedDocumentString(`
    subscription AlarmChanges {
  alarmChanges {
    change
    alarm {
      ...AlarmFields
    }
  }
}
    fragment AlarmFields on Alarm {
  id
  kind
  severity
  state
  subjectKind
  subjectId
  parentId
  folded
  detail
  raisedAt
  clearedAt
  acknowledgedAt
  acknowledgedBy
  subjectLabel
  propertyId
}`) as unknown as TypedDocumentString<AlarmChangesSubscription, AlarmChangesSubscriptionVariables>;
export const SessionInfoDocument = new TypedDocumentString(`
    query SessionInfo {
  me {
    kind
    id
    name
    permissions
    propertyIds
  }
  tenant {
    id
    name
    timeZone
    readingIntervalSeconds
  }
  properties {
    id
    name
    retiredAt
  }
}
    `) as unknown as TypedDocumentString<SessionInfoQuery, SessionInfoQueryVariables>;
export const ChangeMyPasswordDocument = new TypedDocumentString(`
    mutation ChangeMyPassword($input: ChangeMyPasswordInput!) {
  changeMyPassword(input: $input)
}
    `) as unknown as TypedDocumentString<ChangeMyPasswordMutation, ChangeMyPasswordMutationVariables>;
export const AlarmsDocument = new TypedDocumentString(`
    query Alarms($activeOnly: Boolean!, $kind: String, $subjectId: ID, $propertyId: ID, $includeFolded: Boolean!, $first: Int!) {
  alarms(
    activeOnly: $activeOnly
    kind: $kind
    subjectId: $subjectId
    propertyId: $propertyId
    includeFolded: $includeFolded
    first: $first
  ) {
    ...AlarmFields
  }
}
    fragment AlarmFields on Alarm {
  id
  kind
  severity
  state
  subjectKind
  subjectId
  parentId
  folded
  detail
  raisedAt
  clearedAt
  acknowledgedAt
  acknowledgedBy
  subjectLabel
  propertyId
}`) as unknown as TypedDocumentString<AlarmsQuery, AlarmsQueryVariables>;
export const AcknowledgeAlarmDocument = new TypedDocumentString(`
    mutation AcknowledgeAlarm($id: ID!) {
  acknowledgeAlarm(id: $id) {
    ...AlarmFields
  }
}
    fragment AlarmFields on Alarm {
  id
  kind
  severity
  state
  subjectKind
  subjectId
  parentId
  folded
  detail
  raisedAt
  clearedAt
  acknowledgedAt
  acknowledgedBy
  subjectLabel
  propertyId
}`) as unknown as TypedDocumentString<AcknowledgeAlarmMutation, AcknowledgeAlarmMutationVariables>;
export const BillsDocument = new TypedDocumentString(`
    query Bills($period: String, $accountId: ID, $page: Int!, $pageSize: Int!) {
  bills(period: $period, accountId: $accountId, page: $page, pageSize: $pageSize) {
    ...BillFields
  }
}
    fragment BillFields on Bill {
  id
  accountId
  period
  version
  state
  total
  periodStart
  periodEnd
  createdAt
  issuedAt
  paidAt
}`) as unknown as TypedDocumentString<BillsQuery, BillsQueryVariables>;
export const BillDetailDocument = new TypedDocumentString(`
    query BillDetail($id: ID!) {
  bill(id: $id) {
    ...BillFields
    lines {
      ...BillLineFields
    }
  }
}
    fragment BillFields on Bill {
  id
  accountId
  period
  version
  state
  total
  periodStart
  periodEnd
  createdAt
  issuedAt
  paidAt
}
fragment BillLineFields on BillLine {
  lineNo
  kind
  meterId
  description
  quantity
  unitPrice
  amount
}`) as unknown as TypedDocumentString<BillDetailQuery, BillDetailQueryVariables>;
export const BillVersionsDocument = new TypedDocumentString(`
    query BillVersions($period: String!, $accountId: ID!) {
  bills(period: $period, accountId: $accountId, page: 1, pageSize: 100) {
    ...BillFields
  }
}
    fragment BillFields on Bill {
  id
  accountId
  period
  version
  state
  total
  periodStart
  periodEnd
  createdAt
  issuedAt
  paidAt
}`) as unknown as TypedDocumentString<BillVersionsQuery, BillVersionsQueryVariables>;
export const BillAccountDocument = new TypedDocumentString(`
    query BillAccount($id: ID!) {
  account(id: $id) {
    ...BillAccountFields
  }
}
    fragment BillAccountFields on Account {
  id
  number
  propertyFee
  meters {
    id
    address
    shopNo
    propertyId
    areaName
    billingMode
    customer {
      id
      name
      phone
    }
  }
}`) as unknown as TypedDocumentString<BillAccountQuery, BillAccountQueryVariables>;
export const BillMeterDocument = new TypedDocumentString(`
    query BillMeter($id: ID!) {
  meter(id: $id) {
    id
    address
    shopNo
  }
}
    `) as unknown as TypedDocumentString<BillMeterQuery, BillMeterQueryVariables>;
export const BillAccountSearchDocument = new TypedDocumentString(`
    query BillAccountSearch($q: String!) {
  accounts(q: $q, page: 1, pageSize: 20) {
    items {
      ...BillAccountFields
    }
  }
}
    fragment BillAccountFields on Account {
  id
  number
  propertyFee
  meters {
    id
    address
    shopNo
    propertyId
    areaName
    billingMode
    customer {
      id
      name
      phone
    }
  }
}`) as unknown as TypedDocumentString<BillAccountSearchQuery, BillAccountSearchQueryVariables>;
export const RunBillsDocument = new TypedDocumentString(`
    mutation RunBills($period: String!, $propertyId: ID) {
  runBills(period: $period, propertyId: $propertyId) {
    created
    skipped {
      accountId
      reason
    }
  }
}
    `) as unknown as TypedDocumentString<RunBillsMutation, RunBillsMutationVariables>;
export const IssueBillDocument = new TypedDocumentString(`
    mutation IssueBill($id: ID!) {
  issueBill(id: $id) {
    ...BillFields
  }
}
    fragment BillFields on Bill {
  id
  accountId
  period
  version
  state
  total
  periodStart
  periodEnd
  createdAt
  issuedAt
  paidAt
}`) as unknown as TypedDocumentString<IssueBillMutation, IssueBillMutationVariables>;
export const ReissueBillDocument = new TypedDocumentString(`
    mutation ReissueBill($id: ID!) {
  reissueBill(id: $id) {
    ...BillFields
  }
}
    fragment BillFields on Bill {
  id
  accountId
  period
  version
  state
  total
  periodStart
  periodEnd
  createdAt
  issuedAt
  paidAt
}`) as unknown as TypedDocumentString<ReissueBillMutation, ReissueBillMutationVariables>;
export const MarkBillPaidDocument = new TypedDocumentString(`
    mutation MarkBillPaid($id: ID!, $amount: Decimal, $channel: BillPaymentChannel!, $reference: String!) {
  markBillPaid(id: $id, amount: $amount, channel: $channel, reference: $reference) {
    bill {
      ...BillFields
    }
    posting {
      receiptNo
      account {
        id
        number
      }
      entries {
        id
        kind
        amount
        receiptNo
        note
        detail
        createdAt
      }
    }
  }
}
    fragment BillFields on Bill {
  id
  accountId
  period
  version
  state
  total
  periodStart
  periodEnd
  createdAt
  issuedAt
  paidAt
}`) as unknown as TypedDocumentString<MarkBillPaidMutation, MarkBillPaidMutationVariables>;
export const BillPrintDocument = new TypedDocumentString(`
    query BillPrint($id: ID!) {
  tenant {
    name
    timeZone
  }
  bill(id: $id) {
    ...BillFields
    lines {
      ...BillLineFields
    }
  }
}
    fragment BillFields on Bill {
  id
  accountId
  period
  version
  state
  total
  periodStart
  periodEnd
  createdAt
  issuedAt
  paidAt
}
fragment BillLineFields on BillLine {
  lineNo
  kind
  meterId
  description
  quantity
  unitPrice
  amount
}`) as unknown as TypedDocumentString<BillPrintQuery, BillPrintQueryVariables>;
export const CommandsDocument = new TypedDocumentString(`
    query Commands($meterId: ID, $first: Int!, $status: String, $kind: String) {
  commands(meterId: $meterId, first: $first, status: $status, kind: $kind) {
    ...CommandFields
  }
}
    fragment CommandFields on Command {
  id
  meterId
  meterAddress
  accountId
  kind
  source
  reason
  status
  attempts
  createdAt
  sentAt
  repliedAt
  confirmedAt
}`) as unknown as TypedDocumentString<CommandsQuery, CommandsQueryVariables>;
export const CommandBatchDocument = new TypedDocumentString(`
    query CommandBatch($id: ID!, $status: String) {
  commandBatch(id: $id) {
    id
    kind
    reason
    total
    finished
    confirmed
    createdAt
    progress {
      status
      count
    }
    commands(status: $status, first: 500) {
      ...CommandFields
    }
  }
}
    fragment CommandFields on Command {
  id
  meterId
  meterAddress
  accountId
  kind
  source
  reason
  status
  attempts
  createdAt
  sentAt
  repliedAt
  confirmedAt
}`) as unknown as TypedDocumentString<CommandBatchQuery, CommandBatchQueryVariables>;
export const CancelCommandDocument = new TypedDocumentString(`
    mutation CancelCommand($id: ID!) {
  cancelCommand(id: $id) {
    ...CommandFields
  }
}
    fragment CommandFields on Command {
  id
  meterId
  meterAddress
  accountId
  kind
  source
  reason
  status
  attempts
  createdAt
  sentAt
  repliedAt
  confirmedAt
}`) as unknown as TypedDocumentString<CancelCommandMutation, CancelCommandMutationVariables>;
export const ResendCommandDocument = new TypedDocumentString(`
    mutation ResendCommand($id: ID!) {
  resendCommand(id: $id) {
    ...CommandFields
  }
}
    fragment CommandFields on Command {
  id
  meterId
  meterAddress
  accountId
  kind
  source
  reason
  status
  attempts
  createdAt
  sentAt
  repliedAt
  confirmedAt
}`) as unknown as TypedDocumentString<ResendCommandMutation, ResendCommandMutationVariables>;
export const CommandBatchesDocument = new TypedDocumentString(`
    query CommandBatches($first: Int!) {
  commandBatches(first: $first) {
    id
    kind
    reason
    total
    finished
    confirmed
    createdAt
    progress {
      status
      count
    }
  }
}
    `) as unknown as TypedDocumentString<CommandBatchesQuery, CommandBatchesQueryVariables>;
export const PlatformTenantsDocument = new TypedDocumentString(`
    query PlatformTenants {
  platformTenants {
    ...PlatformTenantFields
  }
}
    fragment PlatformTenantFields on PlatformTenant {
  id
  name
  slug
  timeZone
  status
}`) as unknown as TypedDocumentString<PlatformTenantsQuery, PlatformTenantsQueryVariables>;
export const CreateTenantDocument = new TypedDocumentString(`
    mutation CreateTenant($input: CreateTenantInput!) {
  createTenant(input: $input) {
    ...PlatformTenantFields
  }
}
    fragment PlatformTenantFields on PlatformTenant {
  id
  name
  slug
  timeZone
  status
}`) as unknown as TypedDocumentString<CreateTenantMutation, CreateTenantMutationVariables>;
export const SuspendTenantDocument = new TypedDocumentString(`
    mutation SuspendTenant($slug: String!) {
  suspendTenant(input: {slug: $slug}) {
    ...PlatformTenantFields
  }
}
    fragment PlatformTenantFields on PlatformTenant {
  id
  name
  slug
  timeZone
  status
}`) as unknown as TypedDocumentString<SuspendTenantMutation, SuspendTenantMutationVariables>;
export const ReactivateTenantDocument = new TypedDocumentString(`
    mutation ReactivateTenant($slug: String!) {
  reactivateTenant(input: {slug: $slug}) {
    ...PlatformTenantFields
  }
}
    fragment PlatformTenantFields on PlatformTenant {
  id
  name
  slug
  timeZone
  status
}`) as unknown as TypedDocumentString<ReactivateTenantMutation, ReactivateTenantMutationVariables>;
export const PaymentProviderDocument = new TypedDocumentString(`
    query PaymentProvider {
  paymentProvider {
    ...PaymentProviderFields
  }
}
    fragment PaymentProviderFields on PaymentProviderView {
  spMchid
  spAppid
  serial
  wechatKeySerials
  apiBase
  notifyUrl
}`) as unknown as TypedDocumentString<PaymentProviderQuery, PaymentProviderQueryVariables>;
export const SetPaymentProviderDocument = new TypedDocumentString(`
    mutation SetPaymentProvider($input: PaymentProviderInput!) {
  setPaymentProvider(input: $input) {
    ...PaymentProviderFields
  }
}
    fragment PaymentProviderFields on PaymentProviderView {
  spMchid
  spAppid
  serial
  wechatKeySerials
  apiBase
  notifyUrl
}`) as unknown as TypedDocumentString<SetPaymentProviderMutation, SetPaymentProviderMutationVariables>;
export const RefreshProviderCertificatesDocument = new TypedDocumentString(`
    mutation RefreshProviderCertificates {
  refreshProviderCertificates {
    ...PaymentProviderFields
  }
}
    fragment PaymentProviderFields on PaymentProviderView {
  spMchid
  spAppid
  serial
  wechatKeySerials
  apiBase
  notifyUrl
}`) as unknown as TypedDocumentString<RefreshProviderCertificatesMutation, RefreshProviderCertificatesMutationVariables>;
export const PlatformHealthDocument = new TypedDocumentString(`
    query PlatformHealth {
  platformHealth {
    tenants
    activeTenants
    suspendedTenants
    meters
    metersOnline
    metersLost
    gateways
    gatewaysLost
    commandsQueued
    commandsSent
    notificationsPending
    openAlarms
    checkedAt
  }
}
    `) as unknown as TypedDocumentString<PlatformHealthQuery, PlatformHealthQueryVariables>;
export const PlatformAuditLogDocument = new TypedDocumentString(`
    query PlatformAuditLog($first: Int!) {
  platformAuditLog(first: $first) {
    at
    actor
    action
    subjectTenant
    input
    outcome
    source
  }
}
    `) as unknown as TypedDocumentString<PlatformAuditLogQuery, PlatformAuditLogQueryVariables>;
export const PlatformMeDocument = new TypedDocumentString(`
    query PlatformMe {
  me {
    kind
    name
  }
}
    `) as unknown as TypedDocumentString<PlatformMeQuery, PlatformMeQueryVariables>;
export const CustomersDocument = new TypedDocumentString(`
    query Customers($q: String, $page: Int!, $pageSize: Int!) {
  customers(q: $q, page: $page, pageSize: $pageSize) {
    total
    page
    pageSize
    items {
      id
      name
      phone
      shopNo
      retiredAt
    }
  }
}
    `) as unknown as TypedDocumentString<CustomersQuery, CustomersQueryVariables>;
export const CreateCustomerDocument = new TypedDocumentString(`
    mutation CreateCustomer($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    id
    name
    phone
    shopNo
  }
}
    `) as unknown as TypedDocumentString<CreateCustomerMutation, CreateCustomerMutationVariables>;
export const CustomerAccountsDocument = new TypedDocumentString(`
    query CustomerAccounts($customerId: ID!) {
  accounts(customerId: $customerId, page: 1, pageSize: 100) {
    total
    items {
      ...AccountFields
    }
  }
}
    fragment AccountFields on Account {
  id
  number
  customerId
  balance
  state
  balanceState
  relay
  holdPower
  creditLimit
  alarm1
  alarm2
  propertyFee
  createdAt
  closedAt
  meters {
    id
    propertyId
    address
    shopNo
    linkState
    feeState
    tariffId
    live {
      energyTotal
    }
  }
}`) as unknown as TypedDocumentString<CustomerAccountsQuery, CustomerAccountsQueryVariables>;
export const FreeMetersDocument = new TypedDocumentString(`
    query FreeMeters($propertyId: ID, $q: String) {
  meters(
    filter: {propertyId: $propertyId, q: $q, feeState: NOT_OPENED}
    page: 1
    pageSize: 200
  ) {
    total
    items {
      id
      address
      shopNo
      linkState
      live {
        energyTotal
      }
    }
  }
}
    `) as unknown as TypedDocumentString<FreeMetersQuery, FreeMetersQueryVariables>;
export const TariffsDocument = new TypedDocumentString(`
    query Tariffs {
  tariffs {
    id
    name
  }
}
    `) as unknown as TypedDocumentString<TariffsQuery, TariffsQueryVariables>;
export const OpenAccountDocument = new TypedDocumentString(`
    mutation OpenAccount($input: OpenAccountInput!) {
  openAccount(input: $input) {
    receiptNo
    account {
      ...AccountFields
    }
  }
}
    fragment AccountFields on Account {
  id
  number
  customerId
  balance
  state
  balanceState
  relay
  holdPower
  creditLimit
  alarm1
  alarm2
  propertyFee
  createdAt
  closedAt
  meters {
    id
    propertyId
    address
    shopNo
    linkState
    feeState
    tariffId
    live {
      energyTotal
    }
  }
}`) as unknown as TypedDocumentString<OpenAccountMutation, OpenAccountMutationVariables>;
export const SetAccountTermsDocument = new TypedDocumentString(`
    mutation SetAccountTerms($input: AccountTermsInput!) {
  setAccountTerms(input: $input) {
    account {
      ...AccountFields
    }
  }
}
    fragment AccountFields on Account {
  id
  number
  customerId
  balance
  state
  balanceState
  relay
  holdPower
  creditLimit
  alarm1
  alarm2
  propertyFee
  createdAt
  closedAt
  meters {
    id
    propertyId
    address
    shopNo
    linkState
    feeState
    tariffId
    live {
      energyTotal
    }
  }
}`) as unknown as TypedDocumentString<SetAccountTermsMutation, SetAccountTermsMutationVariables>;
export const AssignTariffDocument = new TypedDocumentString(`
    mutation AssignTariff($input: AssignTariffInput!) {
  assignTariff(input: $input)
}
    `) as unknown as TypedDocumentString<AssignTariffMutation, AssignTariffMutationVariables>;
export const CloseAccountDocument = new TypedDocumentString(`
    mutation CloseAccount($id: ID!, $note: String!) {
  closeAccount(id: $id, note: $note) {
    receiptNo
    account {
      ...AccountFields
    }
  }
}
    fragment AccountFields on Account {
  id
  number
  customerId
  balance
  state
  balanceState
  relay
  holdPower
  creditLimit
  alarm1
  alarm2
  propertyFee
  createdAt
  closedAt
  meters {
    id
    propertyId
    address
    shopNo
    linkState
    feeState
    tariffId
    live {
      energyTotal
    }
  }
}`) as unknown as TypedDocumentString<CloseAccountMutation, CloseAccountMutationVariables>;
export const ReplaceMeterDocument = new TypedDocumentString(`
    mutation ReplaceMeter($input: ReplaceMeterInput!) {
  replaceMeter(input: $input) {
    ...AccountFields
  }
}
    fragment AccountFields on Account {
  id
  number
  customerId
  balance
  state
  balanceState
  relay
  holdPower
  creditLimit
  alarm1
  alarm2
  propertyFee
  createdAt
  closedAt
  meters {
    id
    propertyId
    address
    shopNo
    linkState
    feeState
    tariffId
    live {
      energyTotal
    }
  }
}`) as unknown as TypedDocumentString<ReplaceMeterMutation, ReplaceMeterMutationVariables>;
export const AssignMeterToAccountDocument = new TypedDocumentString(`
    mutation AssignMeterToAccount($accountId: ID!, $meterId: ID!) {
  assignMeterToAccount(accountId: $accountId, meterId: $meterId) {
    ...AccountFields
  }
}
    fragment AccountFields on Account {
  id
  number
  customerId
  balance
  state
  balanceState
  relay
  holdPower
  creditLimit
  alarm1
  alarm2
  propertyFee
  createdAt
  closedAt
  meters {
    id
    propertyId
    address
    shopNo
    linkState
    feeState
    tariffId
    live {
      energyTotal
    }
  }
}`) as unknown as TypedDocumentString<AssignMeterToAccountMutation, AssignMeterToAccountMutationVariables>;
export const IssueBindingCodeDocument = new TypedDocumentString(`
    mutation IssueBindingCode($accountId: ID!, $rotate: Boolean!) {
  issueBindingCode(accountId: $accountId, rotate: $rotate)
}
    `) as unknown as TypedDocumentString<IssueBindingCodeMutation, IssueBindingCodeMutationVariables>;
export const OverviewDocument = new TypedDocumentString(`
    query Overview($propertyId: ID) {
  overview(propertyId: $propertyId) {
    meters {
      total
      notOpened
      closed
      tripped
      holdPower
      prepaid
      postpaid
      online
      lost
      neverSeen
    }
    gateways {
      total
      online
      lost
      neverSeen
    }
    energyToday {
      hour
      energy
    }
    energyYesterday {
      hour
      energy
    }
    energyThisMonth
    energyLastMonth
    salesThisMonth
    salesLastMonth
    rechargeByChannel {
      channel
      amount
      count
    }
    activeAlarms
    lostMeters {
      id
      address
      shopNo
      lastSeenAt
      customer {
        name
      }
      area {
        name
      }
    }
    lostGateways {
      id
      serial
      name
      lastSeenAt
    }
  }
}
    `) as unknown as TypedDocumentString<OverviewQuery, OverviewQueryVariables>;
export const LedgerEntriesDocument = new TypedDocumentString(`
    query LedgerEntries($filter: EntryFilter, $first: Int!, $after: String) {
  ledgerEntries(filter: $filter, first: $first, after: $after) {
    items {
      accountNumber
      payeeId
      entry {
        ...EntryFields
      }
    }
    pageInfo {
      endCursor
      hasNextPage
    }
  }
  ledgerTotals(filter: $filter) {
    count
    credits
    debits
    net
  }
}
    fragment EntryFields on LedgerEntry {
  id
  accountId
  kind
  amount
  createdAt
  receiptNo
  meterId
  reversesId
  externalRef
  note
  invoicedAt
  operator
  channel
}`) as unknown as TypedDocumentString<LedgerEntriesQuery, LedgerEntriesQueryVariables>;
export const MarkInvoicedDocument = new TypedDocumentString(`
    mutation MarkInvoiced($entryIds: [ID!]!) {
  markInvoiced(entryIds: $entryIds)
}
    `) as unknown as TypedDocumentString<MarkInvoicedMutation, MarkInvoicedMutationVariables>;
export const PayeesDocument = new TypedDocumentString(`
    query Payees {
  payees {
    id
    name
  }
}
    `) as unknown as TypedDocumentString<PayeesQuery, PayeesQueryVariables>;
export const MeterDetailDocument = new TypedDocumentString(`
    query MeterDetail($id: ID!) {
  meter(id: $id) {
    id
    address
    model
    phases
    ptRatio
    ctRatio
    linkType
    billingMode
    shopNo
    propertyId
    gatewayId
    linkState
    lastSeenAt
    createdAt
    retiredAt
    walletMismatch
    feeState
    priceNow
    customer {
      id
      name
      phone
    }
    area {
      id
      name
    }
    account {
      id
      number
      balance
      state
      balanceState
      holdPower
      creditLimit
      alarm1
      alarm2
    }
    live {
      ...ReadingFields
    }
  }
}
    fragment ReadingFields on Reading {
  readAt
  energyTotal
  energySharp
  energyPeak
  energyFlat
  energyValley
  reverseEnergy
  voltageA
  voltageB
  voltageC
  currentA
  currentB
  currentC
  activePower
  reactivePower
  powerFactor
  frequency
  maxDemand
  remainingAmount
  overdraftAmount
  relayOpen
  holdPower
  phaseLoss
  underVoltage
}`) as unknown as TypedDocumentString<MeterDetailQuery, MeterDetailQueryVariables>;
export const MeterReadingsDocument = new TypedDocumentString(`
    query MeterReadings($id: ID!, $from: DateTime!, $to: DateTime!, $first: Int!, $after: String) {
  meter(id: $id) {
    id
    readings(from: $from, to: $to, first: $first, after: $after) {
      items {
        ...ReadingFields
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
}
    fragment ReadingFields on Reading {
  readAt
  energyTotal
  energySharp
  energyPeak
  energyFlat
  energyValley
  reverseEnergy
  voltageA
  voltageB
  voltageC
  currentA
  currentB
  currentC
  activePower
  reactivePower
  powerFactor
  frequency
  maxDemand
  remainingAmount
  overdraftAmount
  relayOpen
  holdPower
  phaseLoss
  underVoltage
}`) as unknown as TypedDocumentString<MeterReadingsQuery, MeterReadingsQueryVariables>;
export const MeterTrendDocument = new TypedDocumentString(`
    query MeterTrend($meterId: ID!, $from: DateTime!, $to: DateTime!, $bucket: TrendBucket!) {
  meterTrend(meterId: $meterId, from: $from, to: $to, bucket: $bucket) {
    at
    energy
    voltageA
    currentA
    activePower
    powerFactor
  }
}
    `) as unknown as TypedDocumentString<MeterTrendQuery, MeterTrendQueryVariables>;
export const MeterAnomaliesDocument = new TypedDocumentString(`
    query MeterAnomalies($meterId: ID!) {
  settlementAnomalies(openOnly: false, meterId: $meterId) {
    id
    kind
    detail
    readAt
    detectedAt
    resolvedAt
    resolution
  }
}
    `) as unknown as TypedDocumentString<MeterAnomaliesQuery, MeterAnomaliesQueryVariables>;
export const RotateDeviceCredentialDocument = new TypedDocumentString(`
    mutation RotateDeviceCredential($input: DeviceInput!) {
  rotateDeviceCredential(input: $input) {
    brokerUrl
    username
    password
    uplinkTopic
    downlinkTopic
  }
}
    `) as unknown as TypedDocumentString<RotateDeviceCredentialMutation, RotateDeviceCredentialMutationVariables>;
export const MeterProfileDocument = new TypedDocumentString(`
    query MeterProfile($meterId: ID!) {
  meterProfile(meterId: $meterId) {
    ...MeterProfileFields
  }
  deviceProfiles {
    id
    name
    scheme
    builtin
  }
}
    fragment MeterProfileFields on MeterProfile {
  meterId
  profileId
  lacks {
    di
    reason
    learnedAt
  }
}`) as unknown as TypedDocumentString<MeterProfileQuery, MeterProfileQueryVariables>;
export const SetMeterProfileDocument = new TypedDocumentString(`
    mutation SetMeterProfile($meterId: ID!, $profileId: ID!) {
  setMeterProfile(meterId: $meterId, profileId: $profileId) {
    ...MeterProfileFields
  }
}
    fragment MeterProfileFields on MeterProfile {
  meterId
  profileId
  lacks {
    di
    reason
    learnedAt
  }
}`) as unknown as TypedDocumentString<SetMeterProfileMutation, SetMeterProfileMutationVariables>;
export const ForgetMeterLacksDocument = new TypedDocumentString(`
    mutation ForgetMeterLacks($meterId: ID!) {
  forgetMeterLacks(meterId: $meterId)
}
    `) as unknown as TypedDocumentString<ForgetMeterLacksMutation, ForgetMeterLacksMutationVariables>;
export const MeterFreezesDocument = new TypedDocumentString(`
    query MeterFreezes($meterId: ID!, $from: DateTime!, $to: DateTime!) {
  meterFreezes(meterId: $meterId, from: $from, to: $to) {
    frozenAt
    total
    tariffs
    platformTotal
    platformReadAt
    difference
  }
}
    `) as unknown as TypedDocumentString<MeterFreezesQuery, MeterFreezesQueryVariables>;
export const MonitorMetersDocument = new TypedDocumentString(`
    query MonitorMeters($filter: MeterFilter, $page: Int!, $pageSize: Int!) {
  meters(filter: $filter, page: $page, pageSize: $pageSize) {
    total
    page
    pageSize
    items {
      ...MonitorMeter
    }
  }
}
    fragment MonitorMeter on Meter {
  id
  address
  shopNo
  propertyId
  areaId
  gatewayId
  accountId
  billingMode
  linkState
  lastSeenAt
  feeState
  priceNow
  rateNow
  balance
  accountNumber
  customerName
  areaName
  live {
    readAt
    energyTotal
    relayOpen
  }
}`) as unknown as TypedDocumentString<MonitorMetersQuery, MonitorMetersQueryVariables>;
export const MonitorOptionsDocument = new TypedDocumentString(`
    query MonitorOptions($propertyId: ID) {
  areas(propertyId: $propertyId) {
    id
    name
    propertyId
    retiredAt
  }
  gateways(page: 1, pageSize: 500) {
    items {
      id
      name
      serial
      propertyId
      retiredAt
    }
  }
}
    `) as unknown as TypedDocumentString<MonitorOptionsQuery, MonitorOptionsQueryVariables>;
export const TripMeterDocument = new TypedDocumentString(`
    mutation TripMeter($input: MeterCommandInput!) {
  tripMeter(input: $input) {
    ...CommandFields
  }
}
    fragment CommandFields on Command {
  id
  meterId
  meterAddress
  accountId
  kind
  source
  reason
  status
  attempts
  createdAt
  sentAt
  repliedAt
  confirmedAt
}`) as unknown as TypedDocumentString<TripMeterMutation, TripMeterMutationVariables>;
export const CloseMeterDocument = new TypedDocumentString(`
    mutation CloseMeter($input: MeterCommandInput!) {
  closeMeter(input: $input) {
    ...CommandFields
  }
}
    fragment CommandFields on Command {
  id
  meterId
  meterAddress
  accountId
  kind
  source
  reason
  status
  attempts
  createdAt
  sentAt
  repliedAt
  confirmedAt
}`) as unknown as TypedDocumentString<CloseMeterMutation, CloseMeterMutationVariables>;
export const SetMeterHoldPowerDocument = new TypedDocumentString(`
    mutation SetMeterHoldPower($input: MeterCommandInput!, $hold: Boolean!) {
  setMeterHoldPower(input: $input, hold: $hold) {
    ...CommandFields
  }
}
    fragment CommandFields on Command {
  id
  meterId
  meterAddress
  accountId
  kind
  source
  reason
  status
  attempts
  createdAt
  sentAt
  repliedAt
  confirmedAt
}`) as unknown as TypedDocumentString<SetMeterHoldPowerMutation, SetMeterHoldPowerMutationVariables>;
export const ReadMeterNowDocument = new TypedDocumentString(`
    mutation ReadMeterNow($input: MeterCommandInput!) {
  readMeterNow(input: $input) {
    ...CommandFields
  }
}
    fragment CommandFields on Command {
  id
  meterId
  meterAddress
  accountId
  kind
  source
  reason
  status
  attempts
  createdAt
  sentAt
  repliedAt
  confirmedAt
}`) as unknown as TypedDocumentString<ReadMeterNowMutation, ReadMeterNowMutationVariables>;
export const BatchCommandDocument = new TypedDocumentString(`
    mutation BatchCommand($input: BatchCommandInput!) {
  batchCommand(input: $input) {
    id
    total
  }
}
    `) as unknown as TypedDocumentString<BatchCommandMutation, BatchCommandMutationVariables>;
export const PayeeListDocument = new TypedDocumentString(`
    query PayeeList {
  payees {
    ...PayeeFields
  }
}
    fragment PayeeFields on Payee {
  id
  name
  mode
  subMchid
  propertyId
  areaId
  createdAt
  credentials {
    channel
    appId
    merchantId
    serial
    verifyKeyIds
    updatedAt
  }
}`) as unknown as TypedDocumentString<PayeeListQuery, PayeeListQueryVariables>;
export const PayeeAreasDocument = new TypedDocumentString(`
    query PayeeAreas($propertyId: ID!) {
  areas(propertyId: $propertyId) {
    id
    name
    retiredAt
  }
}
    `) as unknown as TypedDocumentString<PayeeAreasQuery, PayeeAreasQueryVariables>;
export const PaymentSummaryDocument = new TypedDocumentString(`
    query PaymentSummary($from: DateTime!, $to: DateTime!) {
  paymentSummary(from: $from, to: $to) {
    payeeId
    name
    subMchid
    payments
    paid
    refunded
    net
    byChannel {
      channel
      payments
      paid
      refunded
    }
  }
}
    `) as unknown as TypedDocumentString<PaymentSummaryQuery, PaymentSummaryQueryVariables>;
export const ReconciliationsDocument = new TypedDocumentString(`
    query Reconciliations($payeeId: ID) {
  reconciliations(payeeId: $payeeId) {
    ...ReconciliationFields
  }
}
    fragment ReconciliationFields on Reconciliation {
  payeeId
  date
  ranAt
  billRows
  matched
  discrepancies {
    kind
    outTradeNo
    ours
    theirs
  }
}`) as unknown as TypedDocumentString<ReconciliationsQuery, ReconciliationsQueryVariables>;
export const PaymentDifferencesDocument = new TypedDocumentString(`
    query PaymentDifferences($openOnly: Boolean!) {
  paymentDifferences(openOnly: $openOnly) {
    ...DifferenceFields
  }
}
    fragment DifferenceFields on PaymentDifference {
  id
  orderId
  payeeId
  channel
  transactionId
  amount
  paidAt
  reason
  state
  resolution
  resolvedBy
  resolvedAt
}`) as unknown as TypedDocumentString<PaymentDifferencesQuery, PaymentDifferencesQueryVariables>;
export const OrderAccountsDocument = new TypedDocumentString(`
    query OrderAccounts($q: String!) {
  accounts(q: $q, page: 1, pageSize: 20) {
    items {
      id
      number
      balance
      meters {
        address
        shopNo
        customer {
          name
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<OrderAccountsQuery, OrderAccountsQueryVariables>;
export const RechargeOrdersDocument = new TypedDocumentString(`
    query RechargeOrders($accountId: ID!) {
  rechargeOrders(accountId: $accountId) {
    ...OrderFields
  }
}
    fragment OrderFields on RechargeOrder {
  id
  outTradeNo
  accountId
  payeeId
  channel
  amount
  state
  transactionId
  createdAt
  paidAt
}`) as unknown as TypedDocumentString<RechargeOrdersQuery, RechargeOrdersQueryVariables>;
export const PaymentRefundsDocument = new TypedDocumentString(`
    query PaymentRefunds($orderId: ID!) {
  paymentRefunds(orderId: $orderId) {
    ...RefundFields
  }
}
    fragment RefundFields on PaymentRefund {
  id
  orderId
  outRefundNo
  amount
  reason
  state
  refundId
  lastError
  createdAt
  finishedAt
}`) as unknown as TypedDocumentString<PaymentRefundsQuery, PaymentRefundsQueryVariables>;
export const CreatePayeeDocument = new TypedDocumentString(`
    mutation CreatePayee($input: CreatePayeeInput!) {
  createPayee(input: $input) {
    ...PayeeFields
  }
}
    fragment PayeeFields on Payee {
  id
  name
  mode
  subMchid
  propertyId
  areaId
  createdAt
  credentials {
    channel
    appId
    merchantId
    serial
    verifyKeyIds
    updatedAt
  }
}`) as unknown as TypedDocumentString<CreatePayeeMutation, CreatePayeeMutationVariables>;
export const SetPayeeWechatKeysDocument = new TypedDocumentString(`
    mutation SetPayeeWechatKeys($input: PayeeWechatKeysInput!) {
  setPayeeWechatKeys(input: $input) {
    ...PayeeFields
  }
}
    fragment PayeeFields on Payee {
  id
  name
  mode
  subMchid
  propertyId
  areaId
  createdAt
  credentials {
    channel
    appId
    merchantId
    serial
    verifyKeyIds
    updatedAt
  }
}`) as unknown as TypedDocumentString<SetPayeeWechatKeysMutation, SetPayeeWechatKeysMutationVariables>;
export const SetPayeeAlipayDocument = new TypedDocumentString(`
    mutation SetPayeeAlipay($input: PayeeAlipayInput!) {
  setPayeeAlipay(input: $input) {
    ...PayeeFields
  }
}
    fragment PayeeFields on Payee {
  id
  name
  mode
  subMchid
  propertyId
  areaId
  createdAt
  credentials {
    channel
    appId
    merchantId
    serial
    verifyKeyIds
    updatedAt
  }
}`) as unknown as TypedDocumentString<SetPayeeAlipayMutation, SetPayeeAlipayMutationVariables>;
export const RefreshWechatPayCertificatesDocument = new TypedDocumentString(`
    mutation RefreshWechatPayCertificates($payeeId: ID!) {
  refreshWechatPayCertificates(payeeId: $payeeId) {
    ...PayeeFields
  }
}
    fragment PayeeFields on Payee {
  id
  name
  mode
  subMchid
  propertyId
  areaId
  createdAt
  credentials {
    channel
    appId
    merchantId
    serial
    verifyKeyIds
    updatedAt
  }
}`) as unknown as TypedDocumentString<RefreshWechatPayCertificatesMutation, RefreshWechatPayCertificatesMutationVariables>;
export const ReconcilePaymentsDocument = new TypedDocumentString(`
    mutation ReconcilePayments($input: ReconcileInput!) {
  reconcilePayments(input: $input) {
    ...ReconciliationFields
  }
}
    fragment ReconciliationFields on Reconciliation {
  payeeId
  date
  ranAt
  billRows
  matched
  discrepancies {
    kind
    outTradeNo
    ours
    theirs
  }
}`) as unknown as TypedDocumentString<ReconcilePaymentsMutation, ReconcilePaymentsMutationVariables>;
export const ResolvePaymentDifferenceDocument = new TypedDocumentString(`
    mutation ResolvePaymentDifference($id: ID!, $resolution: String!) {
  resolvePaymentDifference(id: $id, resolution: $resolution) {
    ...DifferenceFields
  }
}
    fragment DifferenceFields on PaymentDifference {
  id
  orderId
  payeeId
  channel
  transactionId
  amount
  paidAt
  reason
  state
  resolution
  resolvedBy
  resolvedAt
}`) as unknown as TypedDocumentString<ResolvePaymentDifferenceMutation, ResolvePaymentDifferenceMutationVariables>;
export const RefundPaymentDocument = new TypedDocumentString(`
    mutation RefundPayment($input: RefundPaymentInput!) {
  refundPayment(input: $input) {
    ...RefundFields
  }
}
    fragment RefundFields on PaymentRefund {
  id
  orderId
  outRefundNo
  amount
  reason
  state
  refundId
  lastError
  createdAt
  finishedAt
}`) as unknown as TypedDocumentString<RefundPaymentMutation, RefundPaymentMutationVariables>;
export const PeopleDataDocument = new TypedDocumentString(`
    query PeopleData {
  me {
    sessionId
  }
  operators {
    ...OperatorFields
  }
  roles {
    ...RoleFields
  }
}
    fragment OperatorFields on Operator {
  id
  username
  displayName
  role {
    id
    name
  }
  propertyIds
  status
  lastLoginAt
  createdAt
}
fragment RoleFields on Role {
  id
  name
  permissions
  builtin
}`) as unknown as TypedDocumentString<PeopleDataQuery, PeopleDataQueryVariables>;
export const ParkClientsDocument = new TypedDocumentString(`
    query ParkClients {
  parkClients {
    ...ParkClientFields
  }
}
    fragment ParkClientFields on ParkClient {
  id
  name
  clientId
  scopes
  propertyIds
  createdAt
  rotatedAt
  revokedAt
}`) as unknown as TypedDocumentString<ParkClientsQuery, ParkClientsQueryVariables>;
export const SessionsDocument = new TypedDocumentString(`
    query Sessions($operatorId: ID, $includeEnded: Boolean!) {
  sessions(operatorId: $operatorId, includeEnded: $includeEnded) {
    ...SessionFields
  }
}
    fragment SessionFields on Session {
  id
  principalKind
  principalId
  source
  userAgent
  createdAt
  lastUsedAt
  expiresAt
  revokedAt
  revokedReason
}`) as unknown as TypedDocumentString<SessionsQuery, SessionsQueryVariables>;
export const AuditLogDocument = new TypedDocumentString(`
    query AuditLog($filter: AuditFilter, $first: Int!, $after: String) {
  auditLog(filter: $filter, first: $first, after: $after) {
    items {
      id
      at
      actorKind
      actorId
      actorName
      action
      targetId
      input
      before
      after
      outcome
      source
    }
    pageInfo {
      endCursor
      hasNextPage
    }
  }
}
    `) as unknown as TypedDocumentString<AuditLogQuery, AuditLogQueryVariables>;
export const CreateOperatorDocument = new TypedDocumentString(`
    mutation CreateOperator($input: CreateOperatorInput!) {
  createOperator(input: $input) {
    ...OperatorFields
  }
}
    fragment OperatorFields on Operator {
  id
  username
  displayName
  role {
    id
    name
  }
  propertyIds
  status
  lastLoginAt
  createdAt
}`) as unknown as TypedDocumentString<CreateOperatorMutation, CreateOperatorMutationVariables>;
export const UpdateOperatorDocument = new TypedDocumentString(`
    mutation UpdateOperator($input: UpdateOperatorInput!) {
  updateOperator(input: $input) {
    ...OperatorFields
  }
}
    fragment OperatorFields on Operator {
  id
  username
  displayName
  role {
    id
    name
  }
  propertyIds
  status
  lastLoginAt
  createdAt
}`) as unknown as TypedDocumentString<UpdateOperatorMutation, UpdateOperatorMutationVariables>;
export const SetOperatorActiveDocument = new TypedDocumentString(`
    mutation SetOperatorActive($input: SetOperatorActiveInput!) {
  setOperatorActive(input: $input) {
    ...OperatorFields
  }
}
    fragment OperatorFields on Operator {
  id
  username
  displayName
  role {
    id
    name
  }
  propertyIds
  status
  lastLoginAt
  createdAt
}`) as unknown as TypedDocumentString<SetOperatorActiveMutation, SetOperatorActiveMutationVariables>;
export const ResetOperatorPasswordDocument = new TypedDocumentString(`
    mutation ResetOperatorPassword($input: ResetOperatorPasswordInput!) {
  resetOperatorPassword(input: $input) {
    ...OperatorFields
  }
}
    fragment OperatorFields on Operator {
  id
  username
  displayName
  role {
    id
    name
  }
  propertyIds
  status
  lastLoginAt
  createdAt
}`) as unknown as TypedDocumentString<ResetOperatorPasswordMutation, ResetOperatorPasswordMutationVariables>;
export const RevokeSessionDocument = new TypedDocumentString(`
    mutation RevokeSession($id: ID!) {
  revokeSession(input: {id: $id}) {
    ...SessionFields
  }
}
    fragment SessionFields on Session {
  id
  principalKind
  principalId
  source
  userAgent
  createdAt
  lastUsedAt
  expiresAt
  revokedAt
  revokedReason
}`) as unknown as TypedDocumentString<RevokeSessionMutation, RevokeSessionMutationVariables>;
export const CreateRoleDocument = new TypedDocumentString(`
    mutation CreateRole($input: RoleInput!) {
  createRole(input: $input) {
    ...RoleFields
  }
}
    fragment RoleFields on Role {
  id
  name
  permissions
  builtin
}`) as unknown as TypedDocumentString<CreateRoleMutation, CreateRoleMutationVariables>;
export const UpdateRoleDocument = new TypedDocumentString(`
    mutation UpdateRole($input: UpdateRoleInput!) {
  updateRole(input: $input) {
    ...RoleFields
  }
}
    fragment RoleFields on Role {
  id
  name
  permissions
  builtin
}`) as unknown as TypedDocumentString<UpdateRoleMutation, UpdateRoleMutationVariables>;
export const CreateParkClientDocument = new TypedDocumentString(`
    mutation CreateParkClient($input: CreateParkClientInput!) {
  createParkClient(input: $input) {
    client {
      ...ParkClientFields
    }
    clientSecret
  }
}
    fragment ParkClientFields on ParkClient {
  id
  name
  clientId
  scopes
  propertyIds
  createdAt
  rotatedAt
  revokedAt
}`) as unknown as TypedDocumentString<CreateParkClientMutation, CreateParkClientMutationVariables>;
export const RotateParkClientSecretDocument = new TypedDocumentString(`
    mutation RotateParkClientSecret($id: ID!) {
  rotateParkClientSecret(input: {id: $id}) {
    client {
      ...ParkClientFields
    }
    clientSecret
  }
}
    fragment ParkClientFields on ParkClient {
  id
  name
  clientId
  scopes
  propertyIds
  createdAt
  rotatedAt
  revokedAt
}`) as unknown as TypedDocumentString<RotateParkClientSecretMutation, RotateParkClientSecretMutationVariables>;
export const RevokeParkClientDocument = new TypedDocumentString(`
    mutation RevokeParkClient($id: ID!) {
  revokeParkClient(input: {id: $id}) {
    ...ParkClientFields
  }
}
    fragment ParkClientFields on ParkClient {
  id
  name
  clientId
  scopes
  propertyIds
  createdAt
  rotatedAt
  revokedAt
}`) as unknown as TypedDocumentString<RevokeParkClientMutation, RevokeParkClientMutationVariables>;
export const SalesReportDocument = new TypedDocumentString(`
    query SalesReport($from: DateTime!, $to: DateTime!, $bucket: SalesBucket!, $by: SalesBy!, $propertyId: ID) {
  salesReport(
    from: $from
    to: $to
    bucket: $bucket
    by: $by
    propertyId: $propertyId
  ) {
    period
    key
    name
    count
    amount
  }
}
    `) as unknown as TypedDocumentString<SalesReportQuery, SalesReportQueryVariables>;
export const MeterReadingReportDocument = new TypedDocumentString(`
    query MeterReadingReport($from: DateTime!, $to: DateTime!, $propertyId: ID, $areaId: ID) {
  meterReadingReport(
    from: $from
    to: $to
    propertyId: $propertyId
    areaId: $areaId
  ) {
    meterId
    address
    propertyId
    areaId
    accountNumber
    customerName
    ratio
    startRegister
    startReadAt
    endRegister
    endReadAt
    usage
  }
}
    `) as unknown as TypedDocumentString<MeterReadingReportQuery, MeterReadingReportQueryVariables>;
export const ReportAreasDocument = new TypedDocumentString(`
    query ReportAreas($propertyId: ID) {
  areas(propertyId: $propertyId) {
    id
    name
    propertyId
    retiredAt
  }
}
    `) as unknown as TypedDocumentString<ReportAreasQuery, ReportAreasQueryVariables>;
export const LowBalanceReportDocument = new TypedDocumentString(`
    query LowBalanceReport($propertyId: ID, $includeLow: Boolean!) {
  lowBalanceReport(propertyId: $propertyId, includeLow: $includeLow) {
    accountId
    number
    customerName
    phone
    balance
    balanceState
  }
}
    `) as unknown as TypedDocumentString<LowBalanceReportQuery, LowBalanceReportQueryVariables>;
export const EnergyReportDocument = new TypedDocumentString(`
    query EnergyReport($from: DateTime!, $to: DateTime!, $bucket: EnergyBucket!, $by: EnergyBy!, $propertyId: ID, $areaId: ID) {
  energyReport(
    from: $from
    to: $to
    bucket: $bucket
    by: $by
    propertyId: $propertyId
    areaId: $areaId
  ) {
    period
    key
    name
    total
    sharp
    peak
    flat
    valley
  }
}
    `) as unknown as TypedDocumentString<EnergyReportQuery, EnergyReportQueryVariables>;
export const DemandReportDocument = new TypedDocumentString(`
    query DemandReport($period: String!, $propertyId: ID, $areaId: ID) {
  demandReport(period: $period, propertyId: $propertyId, areaId: $areaId) {
    meterId
    address
    propertyId
    accountNumber
    customerName
    ratio
    registerDemand
    intervalDemand
    intervalFrom
    intervalTo
    basis
  }
}
    `) as unknown as TypedDocumentString<DemandReportQuery, DemandReportQueryVariables>;
export const LostDevicesReportDocument = new TypedDocumentString(`
    query LostDevicesReport($propertyId: ID) {
  lostDevicesReport(propertyId: $propertyId) {
    kind
    id
    label
    propertyId
    areaId
    accountNumber
    lastSeenAt
  }
}
    `) as unknown as TypedDocumentString<LostDevicesReportQuery, LostDevicesReportQueryVariables>;
export const FindAccountsDocument = new TypedDocumentString(`
    query FindAccounts($filter: MeterFilter!) {
  meters(filter: $filter, page: 1, pageSize: 20) {
    total
    items {
      id
      address
      shopNo
      customer {
        id
        name
        phone
      }
      account {
        id
        number
        balance
        state
      }
    }
  }
}
    `) as unknown as TypedDocumentString<FindAccountsQuery, FindAccountsQueryVariables>;
export const SearchAccountsDocument = new TypedDocumentString(`
    query SearchAccounts($q: String!) {
  accounts(q: $q, page: 1, pageSize: 20) {
    total
    items {
      id
      number
      balance
      state
      customerId
      meters {
        id
        address
        shopNo
        customer {
          id
          name
          phone
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<SearchAccountsQuery, SearchAccountsQueryVariables>;
export const RechargeFeeDocument = new TypedDocumentString(`
    query RechargeFee($accountId: ID!, $amount: Decimal!) {
  rechargeFee(accountId: $accountId, amount: $amount)
}
    `) as unknown as TypedDocumentString<RechargeFeeQuery, RechargeFeeQueryVariables>;
export const SalesAccountDocument = new TypedDocumentString(`
    query SalesAccount($id: ID!) {
  account(id: $id) {
    ...AccountFields
    ledger(first: 30) {
      items {
        ...EntryFields
      }
    }
  }
}
    fragment AccountFields on Account {
  id
  number
  customerId
  balance
  state
  balanceState
  relay
  holdPower
  creditLimit
  alarm1
  alarm2
  propertyFee
  createdAt
  closedAt
  meters {
    id
    propertyId
    address
    shopNo
    linkState
    feeState
    tariffId
    live {
      energyTotal
    }
  }
}
fragment EntryFields on LedgerEntry {
  id
  accountId
  kind
  amount
  createdAt
  receiptNo
  meterId
  reversesId
  externalRef
  note
  invoicedAt
  operator
  channel
}`) as unknown as TypedDocumentString<SalesAccountQuery, SalesAccountQueryVariables>;
export const AccountByNumberMetersDocument = new TypedDocumentString(`
    query AccountByNumberMeters($accountId: ID!) {
  meters(filter: {accountId: $accountId}, page: 1, pageSize: 50) {
    items {
      id
      address
      shopNo
      customer {
        id
        name
        phone
      }
    }
  }
}
    `) as unknown as TypedDocumentString<AccountByNumberMetersQuery, AccountByNumberMetersQueryVariables>;
export const RechargeDocument = new TypedDocumentString(`
    mutation Recharge($input: RechargeInput!) {
  recharge(input: $input) {
    receiptNo
    account {
      id
      balance
      balanceState
    }
    entries {
      ...EntryFields
    }
  }
}
    fragment EntryFields on LedgerEntry {
  id
  accountId
  kind
  amount
  createdAt
  receiptNo
  meterId
  reversesId
  externalRef
  note
  invoicedAt
  operator
  channel
}`) as unknown as TypedDocumentString<RechargeMutation, RechargeMutationVariables>;
export const RefundDocument = new TypedDocumentString(`
    mutation Refund($input: RefundInput!) {
  refund(input: $input) {
    receiptNo
    account {
      id
      balance
      balanceState
    }
  }
}
    `) as unknown as TypedDocumentString<RefundMutation, RefundMutationVariables>;
export const ReverseEntryDocument = new TypedDocumentString(`
    mutation ReverseEntry($entryId: ID!, $note: String!) {
  reverseEntry(entryId: $entryId, note: $note) {
    receiptNo
    account {
      id
      balance
      balanceState
    }
  }
}
    `) as unknown as TypedDocumentString<ReverseEntryMutation, ReverseEntryMutationVariables>;
export const TransferBalanceDocument = new TypedDocumentString(`
    mutation TransferBalance($input: TransferInput!) {
  transferBalance(input: $input) {
    from {
      receiptNo
      account {
        id
        balance
      }
    }
    to {
      account {
        id
        balance
      }
    }
  }
}
    `) as unknown as TypedDocumentString<TransferBalanceMutation, TransferBalanceMutationVariables>;
export const ReceiptDocument = new TypedDocumentString(`
    query Receipt($number: Int!) {
  receipt(number: $number) {
    number
    total
    html
    account {
      id
      number
      balance
    }
    entries {
      id
      kind
      amount
      createdAt
    }
  }
}
    `) as unknown as TypedDocumentString<ReceiptQuery, ReceiptQueryVariables>;
export const CustomerAppDataDocument = new TypedDocumentString(`
    query CustomerAppData {
  wechatApp {
    appId
    apiBase
  }
  wechatOfficialAccount {
    appId
    apiBase
    authorizeUrl
  }
  wechatTemplates {
    alarmKind
    templateId
    fields {
      key
      source
    }
    page
  }
  tenant {
    id
    name
  }
}
    `) as unknown as TypedDocumentString<CustomerAppDataQuery, CustomerAppDataQueryVariables>;
export const SetWechatAppDocument = new TypedDocumentString(`
    mutation SetWechatApp($input: SetWechatAppInput!) {
  setWechatApp(input: $input)
}
    `) as unknown as TypedDocumentString<SetWechatAppMutation, SetWechatAppMutationVariables>;
export const SetWechatOfficialAccountDocument = new TypedDocumentString(`
    mutation SetWechatOfficialAccount($input: SetWechatOfficialAccountInput!) {
  setWechatOfficialAccount(input: $input) {
    appId
    apiBase
    authorizeUrl
  }
}
    `) as unknown as TypedDocumentString<SetWechatOfficialAccountMutation, SetWechatOfficialAccountMutationVariables>;
export const DeviceProfilesDocument = new TypedDocumentString(`
    query DeviceProfiles {
  deviceProfiles {
    ...DeviceProfileFields
  }
}
    fragment DeviceProfileFields on DeviceProfile {
  id
  name
  reads
  scheme
  passwordLevel
  operatorCode
  hasPassword
  registerMap
  jsonMap
  builtin
  createdAt
}`) as unknown as TypedDocumentString<DeviceProfilesQuery, DeviceProfilesQueryVariables>;
export const CreateDeviceProfileDocument = new TypedDocumentString(`
    mutation CreateDeviceProfile($input: CreateDeviceProfileInput!) {
  createDeviceProfile(input: $input) {
    ...DeviceProfileFields
  }
}
    fragment DeviceProfileFields on DeviceProfile {
  id
  name
  reads
  scheme
  passwordLevel
  operatorCode
  hasPassword
  registerMap
  jsonMap
  builtin
  createdAt
}`) as unknown as TypedDocumentString<CreateDeviceProfileMutation, CreateDeviceProfileMutationVariables>;
export const RetireDeviceProfileDocument = new TypedDocumentString(`
    mutation RetireDeviceProfile($id: ID!) {
  retireDeviceProfile(id: $id)
}
    `) as unknown as TypedDocumentString<RetireDeviceProfileMutation, RetireDeviceProfileMutationVariables>;
export const ForwardTargetsDocument = new TypedDocumentString(`
    query ForwardTargets {
  forwardTargets {
    ...ForwardTargetFields
  }
}
    fragment ForwardTargetFields on ForwardTarget {
  id
  name
  url
  events
  propertyIds
  state
  createdAt
  transport
  username
  counts {
    pending
    delivered
    dead
  }
}`) as unknown as TypedDocumentString<ForwardTargetsQuery, ForwardTargetsQueryVariables>;
export const ForwardLogDocument = new TypedDocumentString(`
    query ForwardLog($state: String, $first: Int!, $attempts: Int!) {
  forwardTargets {
    id
    counts {
      pending
      delivered
      dead
    }
    deliveries(state: $state, first: $first) {
      kind
      reference
      subject
      at
      state
      attempts
      nextAt
      lastError
      deliveredAt
    }
    attempts(first: $attempts) {
      at
      events
      status
      error
      durationMs
    }
  }
}
    `) as unknown as TypedDocumentString<ForwardLogQuery, ForwardLogQueryVariables>;
export const CreateForwardTargetDocument = new TypedDocumentString(`
    mutation CreateForwardTarget($input: CreateForwardTargetInput!) {
  createForwardTarget(input: $input) {
    secret
    target {
      ...ForwardTargetFields
    }
  }
}
    fragment ForwardTargetFields on ForwardTarget {
  id
  name
  url
  events
  propertyIds
  state
  createdAt
  transport
  username
  counts {
    pending
    delivered
    dead
  }
}`) as unknown as TypedDocumentString<CreateForwardTargetMutation, CreateForwardTargetMutationVariables>;
export const PauseForwardTargetDocument = new TypedDocumentString(`
    mutation PauseForwardTarget($id: ID!) {
  pauseForwardTarget(id: $id) {
    ...ForwardTargetFields
  }
}
    fragment ForwardTargetFields on ForwardTarget {
  id
  name
  url
  events
  propertyIds
  state
  createdAt
  transport
  username
  counts {
    pending
    delivered
    dead
  }
}`) as unknown as TypedDocumentString<PauseForwardTargetMutation, PauseForwardTargetMutationVariables>;
export const ResumeForwardTargetDocument = new TypedDocumentString(`
    mutation ResumeForwardTarget($id: ID!) {
  resumeForwardTarget(id: $id) {
    ...ForwardTargetFields
  }
}
    fragment ForwardTargetFields on ForwardTarget {
  id
  name
  url
  events
  propertyIds
  state
  createdAt
  transport
  username
  counts {
    pending
    delivered
    dead
  }
}`) as unknown as TypedDocumentString<ResumeForwardTargetMutation, ResumeForwardTargetMutationVariables>;
export const RetireForwardTargetDocument = new TypedDocumentString(`
    mutation RetireForwardTarget($id: ID!) {
  retireForwardTarget(id: $id) {
    id
    state
  }
}
    `) as unknown as TypedDocumentString<RetireForwardTargetMutation, RetireForwardTargetMutationVariables>;
export const ReplayForwardTargetDocument = new TypedDocumentString(`
    mutation ReplayForwardTarget($id: ID!, $from: DateTime!) {
  replayForwardTarget(id: $id, from: $from)
}
    `) as unknown as TypedDocumentString<ReplayForwardTargetMutation, ReplayForwardTargetMutationVariables>;
export const ReportSchedulesDocument = new TypedDocumentString(`
    query ReportSchedules {
  reportSchedules {
    ...ReportScheduleFields
    runs(first: 1) {
      ...ReportRunFields
    }
  }
}
    fragment ReportRunFields on ReportRun {
  id
  periodFrom
  periodTo
  state
  attempts
  nextAt
  lastError
  rowsSent
  createdAt
  sentAt
}
fragment ReportScheduleFields on ReportSchedule {
  id
  name
  report
  params
  format
  lang
  cadence
  hour
  channel
  recipients
  url
  state
  nextRunAt
  createdBy
  createdAt
}`) as unknown as TypedDocumentString<ReportSchedulesQuery, ReportSchedulesQueryVariables>;
export const ReportScheduleRunsDocument = new TypedDocumentString(`
    query ReportScheduleRuns($first: Int!) {
  reportSchedules {
    id
    runs(first: $first) {
      ...ReportRunFields
    }
  }
}
    fragment ReportRunFields on ReportRun {
  id
  periodFrom
  periodTo
  state
  attempts
  nextAt
  lastError
  rowsSent
  createdAt
  sentAt
}`) as unknown as TypedDocumentString<ReportScheduleRunsQuery, ReportScheduleRunsQueryVariables>;
export const ScheduleAreasDocument = new TypedDocumentString(`
    query ScheduleAreas {
  areas {
    id
    name
    propertyId
    retiredAt
  }
}
    `) as unknown as TypedDocumentString<ScheduleAreasQuery, ScheduleAreasQueryVariables>;
export const CreateReportScheduleDocument = new TypedDocumentString(`
    mutation CreateReportSchedule($input: CreateReportScheduleInput!) {
  createReportSchedule(input: $input) {
    schedule {
      ...ReportScheduleFields
    }
    secret
  }
}
    fragment ReportScheduleFields on ReportSchedule {
  id
  name
  report
  params
  format
  lang
  cadence
  hour
  channel
  recipients
  url
  state
  nextRunAt
  createdBy
  createdAt
}`) as unknown as TypedDocumentString<CreateReportScheduleMutation, CreateReportScheduleMutationVariables>;
export const PauseReportScheduleDocument = new TypedDocumentString(`
    mutation PauseReportSchedule($id: ID!) {
  pauseReportSchedule(id: $id) {
    id
    state
    nextRunAt
  }
}
    `) as unknown as TypedDocumentString<PauseReportScheduleMutation, PauseReportScheduleMutationVariables>;
export const ResumeReportScheduleDocument = new TypedDocumentString(`
    mutation ResumeReportSchedule($id: ID!) {
  resumeReportSchedule(id: $id) {
    id
    state
    nextRunAt
  }
}
    `) as unknown as TypedDocumentString<ResumeReportScheduleMutation, ResumeReportScheduleMutationVariables>;
export const RetireReportScheduleDocument = new TypedDocumentString(`
    mutation RetireReportSchedule($id: ID!) {
  retireReportSchedule(id: $id) {
    id
    state
  }
}
    `) as unknown as TypedDocumentString<RetireReportScheduleMutation, RetireReportScheduleMutationVariables>;
export const RunReportScheduleDocument = new TypedDocumentString(`
    mutation RunReportSchedule($id: ID!, $from: DateTime!, $to: DateTime!) {
  runReportSchedule(id: $id, from: $from, to: $to) {
    ...ReportRunFields
  }
}
    fragment ReportRunFields on ReportRun {
  id
  periodFrom
  periodTo
  state
  attempts
  nextAt
  lastError
  rowsSent
  createdAt
  sentAt
}`) as unknown as TypedDocumentString<RunReportScheduleMutation, RunReportScheduleMutationVariables>;
export const SettingsDataDocument = new TypedDocumentString(`
    query SettingsData {
  notificationSettings {
    provider
    endpoint
    accessKeyId
    secretSet
    signName
    sdkAppId
    region
    contacts
    quietStart
    quietEnd
    dailyLimit
  }
  notificationTemplates {
    alarmKind
    templateCode
  }
  friendlyHours {
    name
    weekdays
    date
    start
    end
  }
  moneySettings {
    ...MoneySettingsFields
  }
  tenant {
    id
    timeZone
    readingIntervalSeconds
    lostAfterIntervals
  }
}
    fragment MoneySettingsFields on MoneySettings {
  defaultTariffId
  cataloguePrice
  marginPercent
  priceCap
  jumpLimitKw
  settlementDay
  settlementHour
  serviceFeePercent
  serviceFeeFixed
  defaultThresholds {
    creditLimit
    alarm1
    alarm2
  }
}`) as unknown as TypedDocumentString<SettingsDataQuery, SettingsDataQueryVariables>;
export const NotificationsDocument = new TypedDocumentString(`
    query Notifications($status: String, $first: Int!) {
  notifications(status: $status, first: $first) {
    id
    channel
    alarmKind
    recipient
    templateCode
    params
    status
    attempts
    lastError
    createdAt
    sentAt
  }
}
    `) as unknown as TypedDocumentString<NotificationsQuery, NotificationsQueryVariables>;
export const SetNotificationSettingsDocument = new TypedDocumentString(`
    mutation SetNotificationSettings($input: NotificationSettingsInput!) {
  setNotificationSettings(input: $input) {
    provider
    secretSet
  }
}
    `) as unknown as TypedDocumentString<SetNotificationSettingsMutation, SetNotificationSettingsMutationVariables>;
export const SetNotificationTemplateDocument = new TypedDocumentString(`
    mutation SetNotificationTemplate($alarmKind: String!, $templateCode: String!) {
  setNotificationTemplate(alarmKind: $alarmKind, templateCode: $templateCode) {
    alarmKind
    templateCode
  }
}
    `) as unknown as TypedDocumentString<SetNotificationTemplateMutation, SetNotificationTemplateMutationVariables>;
export const SetWechatTemplateDocument = new TypedDocumentString(`
    mutation SetWechatTemplate($input: WechatTemplateInput!) {
  setWechatTemplate(input: $input) {
    alarmKind
    templateId
  }
}
    `) as unknown as TypedDocumentString<SetWechatTemplateMutation, SetWechatTemplateMutationVariables>;
export const SetFriendlyHoursDocument = new TypedDocumentString(`
    mutation SetFriendlyHours($windows: [FriendlyWindowInput!]!) {
  setFriendlyHours(windows: $windows) {
    name
    weekdays
    date
    start
    end
  }
}
    `) as unknown as TypedDocumentString<SetFriendlyHoursMutation, SetFriendlyHoursMutationVariables>;
export const SetReadingScheduleDocument = new TypedDocumentString(`
    mutation SetReadingSchedule($readingIntervalSeconds: Int!, $lostAfterIntervals: Int!) {
  setReadingSchedule(
    readingIntervalSeconds: $readingIntervalSeconds
    lostAfterIntervals: $lostAfterIntervals
  ) {
    id
    readingIntervalSeconds
    lostAfterIntervals
  }
}
    `) as unknown as TypedDocumentString<SetReadingScheduleMutation, SetReadingScheduleMutationVariables>;
export const SetServiceFeeDocument = new TypedDocumentString(`
    mutation SetServiceFee($input: ServiceFeeInput!) {
  setServiceFee(input: $input) {
    ...MoneySettingsFields
  }
}
    fragment MoneySettingsFields on MoneySettings {
  defaultTariffId
  cataloguePrice
  marginPercent
  priceCap
  jumpLimitKw
  settlementDay
  settlementHour
  serviceFeePercent
  serviceFeeFixed
  defaultThresholds {
    creditLimit
    alarm1
    alarm2
  }
}`) as unknown as TypedDocumentString<SetServiceFeeMutation, SetServiceFeeMutationVariables>;
export const SetPriceRuleDocument = new TypedDocumentString(`
    mutation SetPriceRule($input: PriceRuleInput!) {
  setPriceRule(input: $input) {
    ...MoneySettingsFields
  }
}
    fragment MoneySettingsFields on MoneySettings {
  defaultTariffId
  cataloguePrice
  marginPercent
  priceCap
  jumpLimitKw
  settlementDay
  settlementHour
  serviceFeePercent
  serviceFeeFixed
  defaultThresholds {
    creditLimit
    alarm1
    alarm2
  }
}`) as unknown as TypedDocumentString<SetPriceRuleMutation, SetPriceRuleMutationVariables>;
export const SetBillingSettingsDocument = new TypedDocumentString(`
    mutation SetBillingSettings($input: BillingSettingsInput!) {
  setBillingSettings(input: $input) {
    ...MoneySettingsFields
  }
}
    fragment MoneySettingsFields on MoneySettings {
  defaultTariffId
  cataloguePrice
  marginPercent
  priceCap
  jumpLimitKw
  settlementDay
  settlementHour
  serviceFeePercent
  serviceFeeFixed
  defaultThresholds {
    creditLimit
    alarm1
    alarm2
  }
}`) as unknown as TypedDocumentString<SetBillingSettingsMutation, SetBillingSettingsMutationVariables>;
export const SetDefaultThresholdsDocument = new TypedDocumentString(`
    mutation SetDefaultThresholds($input: ThresholdsInput!) {
  setDefaultThresholds(input: $input) {
    ...MoneySettingsFields
  }
}
    fragment MoneySettingsFields on MoneySettings {
  defaultTariffId
  cataloguePrice
  marginPercent
  priceCap
  jumpLimitKw
  settlementDay
  settlementHour
  serviceFeePercent
  serviceFeeFixed
  defaultThresholds {
    creditLimit
    alarm1
    alarm2
  }
}`) as unknown as TypedDocumentString<SetDefaultThresholdsMutation, SetDefaultThresholdsMutationVariables>;
export const SendTestNotificationDocument = new TypedDocumentString(`
    mutation SendTestNotification($alarmKind: String!, $phone: String!) {
  sendTestNotification(alarmKind: $alarmKind, phone: $phone) {
    sent
    templateCode
    providerRef
    error
  }
}
    `) as unknown as TypedDocumentString<SendTestNotificationMutation, SendTestNotificationMutationVariables>;
export const AllocationGroupsDocument = new TypedDocumentString(`
    query AllocationGroups($includeRetired: Boolean!) {
  allocationGroups(includeRetired: $includeRetired) {
    ...AllocationGroupFields
  }
}
    fragment AllocationRunFields on AllocationRun {
  groupId
  period
  energy
  amount
  createdAt
  shares {
    accountId
    weight
    amount
    disposition
    entryId
  }
}
fragment AllocationGroupFields on AllocationGroup {
  id
  name
  meterId
  fixedAmount
  method
  retiredAt
  members {
    accountId
    weight
  }
  runs {
    ...AllocationRunFields
  }
}`) as unknown as TypedDocumentString<AllocationGroupsQuery, AllocationGroupsQueryVariables>;
export const SharedMeterSearchDocument = new TypedDocumentString(`
    query SharedMeterSearch($q: String) {
  meters(filter: {q: $q}, page: 1, pageSize: 20) {
    items {
      id
      address
      shopNo
      areaName
      tariffId
    }
  }
}
    `) as unknown as TypedDocumentString<SharedMeterSearchQuery, SharedMeterSearchQueryVariables>;
export const CreateAllocationGroupDocument = new TypedDocumentString(`
    mutation CreateAllocationGroup($input: CreateAllocationGroupInput!) {
  createAllocationGroup(input: $input) {
    ...AllocationGroupFields
  }
}
    fragment AllocationRunFields on AllocationRun {
  groupId
  period
  energy
  amount
  createdAt
  shares {
    accountId
    weight
    amount
    disposition
    entryId
  }
}
fragment AllocationGroupFields on AllocationGroup {
  id
  name
  meterId
  fixedAmount
  method
  retiredAt
  members {
    accountId
    weight
  }
  runs {
    ...AllocationRunFields
  }
}`) as unknown as TypedDocumentString<CreateAllocationGroupMutation, CreateAllocationGroupMutationVariables>;
export const RunAllocationDocument = new TypedDocumentString(`
    mutation RunAllocation($groupId: ID!, $period: String!) {
  runAllocation(groupId: $groupId, period: $period) {
    ...AllocationRunFields
  }
}
    fragment AllocationRunFields on AllocationRun {
  groupId
  period
  energy
  amount
  createdAt
  shares {
    accountId
    weight
    amount
    disposition
    entryId
  }
}`) as unknown as TypedDocumentString<RunAllocationMutation, RunAllocationMutationVariables>;
export const RetireAllocationGroupDocument = new TypedDocumentString(`
    mutation RetireAllocationGroup($id: ID!) {
  retireAllocationGroup(id: $id) {
    ...AllocationGroupFields
  }
}
    fragment AllocationRunFields on AllocationRun {
  groupId
  period
  energy
  amount
  createdAt
  shares {
    accountId
    weight
    amount
    disposition
    entryId
  }
}
fragment AllocationGroupFields on AllocationGroup {
  id
  name
  meterId
  fixedAmount
  method
  retiredAt
  members {
    accountId
    weight
  }
  runs {
    ...AllocationRunFields
  }
}`) as unknown as TypedDocumentString<RetireAllocationGroupMutation, RetireAllocationGroupMutationVariables>;
export const SitePropertiesDocument = new TypedDocumentString(`
    query SiteProperties {
  properties {
    ...SiteProperty
  }
}
    fragment SiteProperty on Property {
  id
  name
  address
  contactName
  contactPhone
  createdAt
  retiredAt
}`) as unknown as TypedDocumentString<SitePropertiesQuery, SitePropertiesQueryVariables>;
export const SiteAreasDocument = new TypedDocumentString(`
    query SiteAreas($propertyId: ID!) {
  areas(propertyId: $propertyId) {
    ...SiteArea
  }
}
    fragment SiteArea on Area {
  id
  propertyId
  name
  floorArea
  retiredAt
}`) as unknown as TypedDocumentString<SiteAreasQuery, SiteAreasQueryVariables>;
export const SiteGatewaysDocument = new TypedDocumentString(`
    query SiteGateways($propertyId: ID!, $page: Int!, $pageSize: Int!) {
  gateways(propertyId: $propertyId, page: $page, pageSize: $pageSize) {
    total
    items {
      ...SiteGateway
    }
  }
}
    fragment SiteGateway on Gateway {
  id
  propertyId
  serial
  name
  linkState
  lastSeenAt
  retiredAt
}`) as unknown as TypedDocumentString<SiteGatewaysQuery, SiteGatewaysQueryVariables>;
export const SiteMetersDocument = new TypedDocumentString(`
    query SiteMeters($filter: MeterFilter!, $page: Int!, $pageSize: Int!) {
  meters(filter: $filter, page: $page, pageSize: $pageSize) {
    total
    items {
      ...SiteMeter
    }
  }
}
    fragment SiteMeter on Meter {
  id
  address
  model
  phases
  ptRatio
  ctRatio
  linkType
  billingMode
  shopNo
  propertyId
  areaId
  areaName
  gatewayId
  tariffId
  linkState
  lastSeenAt
  retiredAt
}`) as unknown as TypedDocumentString<SiteMetersQuery, SiteMetersQueryVariables>;
export const CreatePropertyDocument = new TypedDocumentString(`
    mutation CreateProperty($input: CreatePropertyInput!) {
  createProperty(input: $input) {
    ...SiteProperty
  }
}
    fragment SiteProperty on Property {
  id
  name
  address
  contactName
  contactPhone
  createdAt
  retiredAt
}`) as unknown as TypedDocumentString<CreatePropertyMutation, CreatePropertyMutationVariables>;
export const UpdatePropertyDocument = new TypedDocumentString(`
    mutation UpdateProperty($input: UpdatePropertyInput!) {
  updateProperty(input: $input) {
    ...SiteProperty
  }
}
    fragment SiteProperty on Property {
  id
  name
  address
  contactName
  contactPhone
  createdAt
  retiredAt
}`) as unknown as TypedDocumentString<UpdatePropertyMutation, UpdatePropertyMutationVariables>;
export const RetirePropertyDocument = new TypedDocumentString(`
    mutation RetireProperty($id: ID!) {
  retireProperty(input: {id: $id}) {
    ...SiteProperty
  }
}
    fragment SiteProperty on Property {
  id
  name
  address
  contactName
  contactPhone
  createdAt
  retiredAt
}`) as unknown as TypedDocumentString<RetirePropertyMutation, RetirePropertyMutationVariables>;
export const CreateAreaDocument = new TypedDocumentString(`
    mutation CreateArea($input: CreateAreaInput!) {
  createArea(input: $input) {
    ...SiteArea
  }
}
    fragment SiteArea on Area {
  id
  propertyId
  name
  floorArea
  retiredAt
}`) as unknown as TypedDocumentString<CreateAreaMutation, CreateAreaMutationVariables>;
export const UpdateAreaDocument = new TypedDocumentString(`
    mutation UpdateArea($input: UpdateAreaInput!) {
  updateArea(input: $input) {
    ...SiteArea
  }
}
    fragment SiteArea on Area {
  id
  propertyId
  name
  floorArea
  retiredAt
}`) as unknown as TypedDocumentString<UpdateAreaMutation, UpdateAreaMutationVariables>;
export const RetireAreaDocument = new TypedDocumentString(`
    mutation RetireArea($id: ID!) {
  retireArea(input: {id: $id}) {
    ...SiteArea
  }
}
    fragment SiteArea on Area {
  id
  propertyId
  name
  floorArea
  retiredAt
}`) as unknown as TypedDocumentString<RetireAreaMutation, RetireAreaMutationVariables>;
export const RegisterGatewayDocument = new TypedDocumentString(`
    mutation RegisterGateway($input: RegisterGatewayInput!) {
  registerGateway(input: $input) {
    gateway {
      ...SiteGateway
    }
    credentials {
      ...Credentials
    }
  }
}
    fragment SiteGateway on Gateway {
  id
  propertyId
  serial
  name
  linkState
  lastSeenAt
  retiredAt
}
fragment Credentials on DeviceCredentials {
  brokerUrl
  username
  password
  uplinkTopic
  downlinkTopic
}`) as unknown as TypedDocumentString<RegisterGatewayMutation, RegisterGatewayMutationVariables>;
export const UpdateGatewayDocument = new TypedDocumentString(`
    mutation UpdateGateway($input: UpdateGatewayInput!) {
  updateGateway(input: $input) {
    ...SiteGateway
  }
}
    fragment SiteGateway on Gateway {
  id
  propertyId
  serial
  name
  linkState
  lastSeenAt
  retiredAt
}`) as unknown as TypedDocumentString<UpdateGatewayMutation, UpdateGatewayMutationVariables>;
export const RetireGatewayDocument = new TypedDocumentString(`
    mutation RetireGateway($id: ID!) {
  retireGateway(input: {id: $id}) {
    ...SiteGateway
  }
}
    fragment SiteGateway on Gateway {
  id
  propertyId
  serial
  name
  linkState
  lastSeenAt
  retiredAt
}`) as unknown as TypedDocumentString<RetireGatewayMutation, RetireGatewayMutationVariables>;
export const RegisterMeterDocument = new TypedDocumentString(`
    mutation RegisterMeter($input: RegisterMeterInput!) {
  registerMeter(input: $input) {
    meter {
      ...SiteMeter
    }
    credentials {
      ...Credentials
    }
  }
}
    fragment SiteMeter on Meter {
  id
  address
  model
  phases
  ptRatio
  ctRatio
  linkType
  billingMode
  shopNo
  propertyId
  areaId
  areaName
  gatewayId
  tariffId
  linkState
  lastSeenAt
  retiredAt
}
fragment Credentials on DeviceCredentials {
  brokerUrl
  username
  password
  uplinkTopic
  downlinkTopic
}`) as unknown as TypedDocumentString<RegisterMeterMutation, RegisterMeterMutationVariables>;
export const RetireMeterDocument = new TypedDocumentString(`
    mutation RetireMeter($id: ID!) {
  retireMeter(input: {id: $id}) {
    ...SiteMeter
  }
}
    fragment SiteMeter on Meter {
  id
  address
  model
  phases
  ptRatio
  ctRatio
  linkType
  billingMode
  shopNo
  propertyId
  areaId
  areaName
  gatewayId
  tariffId
  linkState
  lastSeenAt
  retiredAt
}`) as unknown as TypedDocumentString<RetireMeterMutation, RetireMeterMutationVariables>;
export const RotateCredentialDocument = new TypedDocumentString(`
    mutation RotateCredential($input: DeviceInput!) {
  rotateDeviceCredential(input: $input) {
    ...Credentials
  }
}
    fragment Credentials on DeviceCredentials {
  brokerUrl
  username
  password
  uplinkTopic
  downlinkTopic
}`) as unknown as TypedDocumentString<RotateCredentialMutation, RotateCredentialMutationVariables>;
export const RevokeCredentialDocument = new TypedDocumentString(`
    mutation RevokeCredential($input: DeviceInput!) {
  revokeDeviceCredential(input: $input)
}
    `) as unknown as TypedDocumentString<RevokeCredentialMutation, RevokeCredentialMutationVariables>;
export const AccountStatementDocument = new TypedDocumentString(`
    query AccountStatement($accountId: ID!, $from: DateTime!, $to: DateTime!) {
  tenant {
    name
    timeZone
  }
  accountStatement(accountId: $accountId, from: $from, to: $to) {
    accountId
    accountNumber
    customerName
    from
    to
    opening
    credits
    debits
    closing
    lines {
      at
      kind
      label
      entries
      amount
      balance
      receiptNo
      note
    }
  }
}
    `) as unknown as TypedDocumentString<AccountStatementQuery, AccountStatementQueryVariables>;
export const TariffListDocument = new TypedDocumentString(`
    query TariffList {
  tariffs {
    ...TariffFields
  }
  moneySettings {
    defaultTariffId
    cataloguePrice
    marginPercent
    priceCap
  }
  properties {
    id
    name
    retiredAt
    tariffId
  }
}
    fragment TariffVersionFields on TariffVersion {
  effectiveFrom
  prices {
    rate
    price
  }
  periods {
    start
    end
    rate
  }
  seasons {
    from
    to
    periods {
      start
      end
      rate
    }
  }
  dates {
    date
    periods {
      start
      end
      rate
    }
  }
  source
  tiers {
    cycle
    steps {
      upTo
      add
    }
  }
  capacityPricePerKw
  aboveCap
  createdAt
}
fragment TariffFields on Tariff {
  id
  name
  createdAt
  retiredAt
  versions {
    ...TariffVersionFields
  }
}`) as unknown as TypedDocumentString<TariffListQuery, TariffListQueryVariables>;
export const PriceNoticeDocument = new TypedDocumentString(`
    query PriceNotice {
  priceNotice
}
    `) as unknown as TypedDocumentString<PriceNoticeQuery, PriceNoticeQueryVariables>;
export const TariffMeterSearchDocument = new TypedDocumentString(`
    query TariffMeterSearch($q: String) {
  meters(filter: {q: $q}, page: 1, pageSize: 20) {
    items {
      id
      address
      shopNo
      tariffId
    }
  }
}
    `) as unknown as TypedDocumentString<TariffMeterSearchQuery, TariffMeterSearchQueryVariables>;
export const CreateTariffDocument = new TypedDocumentString(`
    mutation CreateTariff($input: CreateTariffInput!) {
  createTariff(input: $input) {
    ...TariffFields
  }
}
    fragment TariffVersionFields on TariffVersion {
  effectiveFrom
  prices {
    rate
    price
  }
  periods {
    start
    end
    rate
  }
  seasons {
    from
    to
    periods {
      start
      end
      rate
    }
  }
  dates {
    date
    periods {
      start
      end
      rate
    }
  }
  source
  tiers {
    cycle
    steps {
      upTo
      add
    }
  }
  capacityPricePerKw
  aboveCap
  createdAt
}
fragment TariffFields on Tariff {
  id
  name
  createdAt
  retiredAt
  versions {
    ...TariffVersionFields
  }
}`) as unknown as TypedDocumentString<CreateTariffMutation, CreateTariffMutationVariables>;
export const AddTariffVersionDocument = new TypedDocumentString(`
    mutation AddTariffVersion($input: AddTariffVersionInput!) {
  addTariffVersion(input: $input) {
    ...TariffFields
  }
}
    fragment TariffVersionFields on TariffVersion {
  effectiveFrom
  prices {
    rate
    price
  }
  periods {
    start
    end
    rate
  }
  seasons {
    from
    to
    periods {
      start
      end
      rate
    }
  }
  dates {
    date
    periods {
      start
      end
      rate
    }
  }
  source
  tiers {
    cycle
    steps {
      upTo
      add
    }
  }
  capacityPricePerKw
  aboveCap
  createdAt
}
fragment TariffFields on Tariff {
  id
  name
  createdAt
  retiredAt
  versions {
    ...TariffVersionFields
  }
}`) as unknown as TypedDocumentString<AddTariffVersionMutation, AddTariffVersionMutationVariables>;
export const AssignTariffToDocument = new TypedDocumentString(`
    mutation AssignTariffTo($input: AssignTariffInput!) {
  assignTariff(input: $input)
}
    `) as unknown as TypedDocumentString<AssignTariffToMutation, AssignTariffToMutationVariables>;
export const RetireTariffDocument = new TypedDocumentString(`
    mutation RetireTariff($id: ID!) {
  retireTariff(id: $id) {
    id
    retiredAt
  }
}
    `) as unknown as TypedDocumentString<RetireTariffMutation, RetireTariffMutationVariables>;