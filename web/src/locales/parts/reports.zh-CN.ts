// 报表（reports）：售电统计、抄表报表、欠费与低余额，以及导出。
// en-US 中有同样的键（tests/i18n.test.ts 检查）。
export default {
  reports: {
    title: '报表',
    tabs: { sales: '售电统计', readings: '抄表报表', arrears: '欠费与低余额' },
    from: '开始日期', to: '结束日期', rangeTo: '至',
    range: { today: '今天', yesterday: '昨天', last7: '近 7 天', thisMonth: '本月', lastMonth: '上月', thisYear: '今年' },
    total: '合计', failed: '报表加载失败，见上方的服务器提示',
    exportXlsx: '导出 Excel', exportCsv: '导出 CSV', exportFailed: '导出失败',
    sales: {
      bucket: '统计周期', by: '统计维度',
      buckets: { DAY: '按日', MONTH: '按月', YEAR: '按年' },
      bys: { CHANNEL: '收款渠道', OPERATOR: '操作员', PAYEE: '收款账户' },
      refundKey: '退款与冲正', onlineKey: '线上（客户自助）', deskKey: '柜台收款',
      netAmount: '净收款（元）', count: '笔数', countN: '{n} 笔', amount: '金额（元）', period: '期间', yuan: '元',
      chart: '收款金额', lines: '明细', empty: '所选期间没有收款',
      netNote: '充值与账单缴费，已扣除退款与冲正（负数为退回的金额）',
    },
    readings: {
      allAreas: '全部区域', address: '表地址', area: '区域', account: '户号', customer: '客户', ratio: '倍率',
      startRegister: '起始读数（kWh）', startReadAt: '起始时间', endRegister: '结束读数（kWh）', endReadAt: '结束时间', usage: '用电量（kWh）',
      usageTotal: '用电量合计（kWh）', meters: '电表数', metersN: '{n} 块电表', withReadings: '有读数的电表', noReading: '期间内没有读数',
      empty: '没有符合条件的电表',
      note: '起始读数取开始时刻当时或之前的最后一次读数（没有则取之后的第一次），结束读数取结束时刻当时或之前的最后一次；用电量 = (结束 − 起始) × 倍率，与账单一致',
    },
    arrears: {
      includeLow: '包含低余额（低于报警1/报警2）', accounts: '账户数', accountsN: '{n} 个账户', balanceTotal: '余额合计（元）',
      account: '户号', customer: '客户', phone: '电话', balance: '余额（元）', state: '余额状态',
      empty: '没有欠费的账户', emptyLow: '没有欠费或低余额的账户',
      noteArrears: '在用账户中欠费及透支用尽的，余额由低到高', noteLow: '在用账户中欠费、透支用尽及低于报警金额的，余额由低到高',
    },
  },
}
