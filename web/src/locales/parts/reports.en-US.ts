// Reports: sales, meter readings, arrears and low balances, and their exports.
// zh-CN holds the same keys (tests/i18n.test.ts checks).
export default {
  reports: {
    title: 'Reports',
    tabs: { sales: 'Sales', readings: 'Meter readings', arrears: 'Arrears and low balances' },
    from: 'From', to: 'To', rangeTo: 'to',
    range: { today: 'Today', yesterday: 'Yesterday', last7: 'Last 7 days', thisMonth: 'This month', lastMonth: 'Last month', thisYear: 'This year' },
    total: 'Total', failed: 'The report could not be loaded: see the server’s message above',
    exportXlsx: 'Excel', exportCsv: 'CSV', exportFailed: 'Export failed',
    sales: {
      bucket: 'Per', by: 'By',
      buckets: { DAY: 'Day', MONTH: 'Month', YEAR: 'Year' },
      bys: { CHANNEL: 'Channel', OPERATOR: 'Operator', PAYEE: 'Payee' },
      refundKey: 'Refunds and reversals', onlineKey: 'Online (customers)', deskKey: 'At the desk',
      netAmount: 'Net received (yuan)', count: 'Payments', countN: '{n} payments', amount: 'Amount (yuan)', period: 'Period', yuan: 'Yuan',
      chart: 'Amount received', lines: 'Lines', empty: 'No money received in this range',
      netNote: 'Recharges and bill payments, net of refunds and reversals (money given back is negative)',
    },
    readings: {
      allAreas: 'All areas', address: 'Meter address', area: 'Area', account: 'Account', customer: 'Customer', ratio: 'Ratio',
      startRegister: 'Start (kWh)', startReadAt: 'Start read at', endRegister: 'End (kWh)', endReadAt: 'End read at', usage: 'Usage (kWh)',
      usageTotal: 'Total usage (kWh)', meters: 'Meters', metersN: '{n} meters', withReadings: 'Meters with readings', noReading: 'No reading in the range',
      empty: 'No meter matches',
      note: 'Start: the last register at or before the start (else the first after it); end: the last at or before the end; usage = (end − start) × ratio, as bills count it',
    },
    arrears: {
      includeLow: 'Include low balances (below alarm 1 / 2)', accounts: 'Accounts', accountsN: '{n} accounts', balanceTotal: 'Total balance (yuan)',
      account: 'Account', customer: 'Customer', phone: 'Phone', balance: 'Balance (yuan)', state: 'Balance state',
      empty: 'No account in arrears', emptyLow: 'No account in arrears or low',
      noteArrears: 'Open accounts in arrears or with their credit used up, lowest balance first',
      noteLow: 'Open accounts in arrears, with their credit used up or below an alarm amount, lowest balance first',
    },
  },
}
