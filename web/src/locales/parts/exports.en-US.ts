// Export jobs (exportJob) and list exports (listExport). zh-CN holds the same keys (tests/i18n.test.ts checks).
export default {
  exportJob: {
    title: 'Export', file: 'File', starting: 'Starting the export…',
    rows: '{rows} of {total} rows written',
    done: 'Done: {rows} rows; the download has started',
    again: 'Download again', cancel: 'Stop waiting',
    cancelHint: 'If you stop waiting, the server may still finish the file, but it will not be downloaded; export again when you need it.',
    refused: 'The server refused the export', failed: 'The export failed',
    busy: 'Two exports are already running for your company; try again when one has finished',
  },
  listExport: {
    xlsx: 'Excel', csv: 'CSV',
    periodNeeded: 'The export needs a period: pick the dates first',
  },
}
