// 导出任务（exportJob）与列表导出（listExport）。en-US 中有同样的键（tests/i18n.test.ts 检查）。
export default {
  exportJob: {
    title: '导出文件', file: '文件', starting: '正在提交导出任务…',
    rows: '已写入 {rows} / {total} 行',
    done: '已完成，共 {rows} 行，已开始下载',
    again: '再次下载', cancel: '停止等待',
    cancelHint: '停止等待后服务器可能仍会生成完该文件，但不会再自动下载；需要时请重新导出。',
    refused: '服务器拒绝导出', failed: '导出失败',
    busy: '本公司已有两个导出任务在运行，请等其中一个完成后再试',
  },
  listExport: {
    xlsx: 'Excel', csv: 'CSV',
    periodNeeded: '导出需要日期范围：请先选择期间',
  },
}
