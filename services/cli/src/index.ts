export { runFloe, BUNDLED_SAMPLE } from './run.js';
export { analyzeFiles, summaryLines, UsageError } from './analyze.js';
export type { AnalyzeOptions, AnalyzeResult } from './analyze.js';
