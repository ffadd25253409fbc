import type { FlowRecord, ParseError } from '@floe/flow';

/** The labelled data sets floe eval reads (the value of `floe eval --format`). */
export type LabelledFormat = 'unsw-nb15' | 'cic-ids' | 'nsl-kdd' | 'ctu' | 'zeek-conn';

/** Every LabelledFormat, in the order `--help` lists them. */
export const LABELLED_FORMATS: readonly LabelledFormat[] = ['unsw-nb15', 'cic-ids', 'nsl-kdd', 'ctu', 'zeek-conn'];

/**
 * What a row's label says: `benign`, `attack` (with its class), or `unknown` (CTU's
 * `Background`, CTU-SME's `Unknown`, an empty label column, a file without labels). Unknown rows
 * are replayed through the detectors but their windows count neither as positive nor negative.
 */
export type LabelKind = 'benign' | 'attack' | 'unknown';

/** A row's label, read from the data set's own label column(s). */
export interface Label {
  kind: LabelKind;
  /** Class name: `benign`, `unknown`, or the attack class as the data set names it (`DDoS`, `C&C`, `Probe`...). */
  cls: string;
  /** The finer label when the data set has one (NSL-KDD's attack name under its category, CTU's full label). */
  detail?: string;
}

/** One imported row: the flow, its label, and the 1-based line number it came from. */
export interface LabelledRecord {
  flow: FlowRecord;
  label: Label;
  line: number;
}

/**
 * What an importer had to invent because the data set does not carry it. Set once per format
 * and printed by `floe eval`, so no figure claims more than the data had.
 */
export interface Synthesized {
  /** Source and destination addresses are made up (one source per row): entity windows are per row. */
  addresses: boolean;
  /** Times are made up (row i at i minutes after the epoch): there is no real time order. */
  times: boolean;
  /** One sentence for the report. */
  note?: string;
}

/**
 * A stateful row importer for one file: the header line names the columns (or, for Zeek TSV,
 * the `#fields` line; Zeek JSON has none). `parseLine` returns a record, an error (field and
 * reason; the caller adds the file), or null for lines that carry no row (header, comments,
 * blank lines, rows that are not IP flows such as Argus `man`/`llc`/`arp` records, counted as
 * skipped by `skipReason`).
 */
export interface RowImporter {
  readonly format: LabelledFormat;
  readonly synthesized: Synthesized;
  parseLine(line: string, lineNo: number): LabelledRecord | ParseError | null;
  /** Why the last null was returned, when it was a row left out rather than a header or blank line (`not-ip`, `management-record`). */
  skipReason?: string;
}
