/**
 * The aws CLI's `--output table` (awscli/formatter.py TableFormatter, awscli/table.py MultiTable): sections of
 * bordered rows, nested objects as indented sub-tables, and a table wider than the terminal turned on its side.
 * Facts followed: column widths scale with Python's round (half to even); East Asian wide, fullwidth and ambiguous
 * characters count two columns; colours are colorama's bright blue values and dim yellow indentation bars.
 */
import { eastAsianWidthType } from 'get-east-asian-width';
import { EksAuthError } from '../errors.js';
import { codePointOrder, pythonStr } from './aws-output.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface TableOptions {
  /** Columns of the terminal; 80 when stdout is not a terminal, as the aws CLI. */
  terminalWidth: number;
  color: boolean;
}

const BRIGHT_BLUE = '\x1b[1m\x1b[34m';
const DIM_YELLOW = '\x1b[2m\x1b[33m';
const RESET = '\x1b[0m';

interface Section {
  title: string;
  headers: string[];
  rows: string[][];
  indent: number;
  maxWidths: number[];
}

const newSection = (title: string, indent: number): Section => ({ title, headers: [], rows: [], indent, maxWidths: [] });

/**
 * The table for `data` under `title`, or '' for data the aws CLI prints no table for (null, empty, false).
 *
 * @example
 * ```ts
 * renderTable('get-token', { kind: 'ExecCredential' }, { terminalWidth: 80, color: false });
 * // '-----…\n|  get-token  |\n+------+---…\n|  kind  |  ExecCredential  |\n+------+---…\n'
 * ```
 */
export function renderTable(title: string, data: unknown, options: TableOptions): string {
  const sections: Section[] = [];
  if (!build(sections, title, data as Json, 0)) return '';
  let width = maxWidth(sections);
  if (width > options.terminalWidth) {
    sections.forEach((section, i) => (sections[i] = vertical(section)));
    width = maxWidth(sections);
  }
  return `${'-'.repeat(width)}\n${sections.map((section) => renderSection(section, width, options.color)).join('')}`;
}

const isScalar = (value: unknown): boolean => typeof value !== 'object' || value === null;
const isDict = (value: unknown): value is Record<string, Json> => typeof value === 'object' && value !== null && !Array.isArray(value);

// Python truthiness: None, False, 0, '', [] and {} are all "no table".
function truthy(value: Json): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isDict(value)) return Object.keys(value).length > 0;
  return value !== null && value !== false && value !== 0 && value !== '';
}

function build(sections: Section[], title: string | undefined, current: Json, indent: number): boolean {
  if (!truthy(current)) return false;
  if (title !== undefined) sections.push(newSection(title, indent));
  if (Array.isArray(current)) {
    if (isDict(current[0])) buildFromList(sections, current as Record<string, Json>[], indent, title ?? '');
    else {
      for (const item of current) {
        if (isScalar(item)) addRow(sections, [item]);
        else if (Array.isArray(item) && item.every(isScalar)) addRow(sections, item);
        else build(sections, undefined, item, 0);
      }
    }
  }
  if (isDict(current)) buildFromDict(sections, current, indent);
  return true;
}

function buildFromDict(sections: Section[], current: Record<string, Json>, indent: number): void {
  const [headers, more] = groupKeys(current);
  if (headers.length === 1) addRow(sections, [headers[0] ?? '', current[headers[0] ?? ''] ?? null]);
  else if (headers.length > 0) {
    addHeader(sections, headers);
    addRow(sections, headers.map((key) => current[key] ?? null));
  }
  for (const key of more) build(sections, key, current[key] ?? null, indent + 1);
}

function buildFromList(sections: Section[], current: Record<string, Json>[], indent: number, title: string): void {
  const headers = new Set<string>();
  const more = new Set<string>();
  for (const item of current) {
    const [h, m] = groupKeys(item);
    h.forEach((key) => headers.add(key));
    m.forEach((key) => more.add(key));
  }
  const headerList = [...headers].sort(codePointOrder);
  const moreList = [...more].sort(codePointOrder);
  addHeader(sections, headerList);
  current.forEach((element, i) => {
    if (i > 0 && moreList.length > 0) {
      sections.push(newSection(title, indent));
      addHeader(sections, headerList);
    }
    addRow(sections, headerList.map((key) => (key in element ? (element[key] ?? null) : '')));
    for (const key of moreList) if (key in element) build(sections, key, element[key] ?? null, indent + 1);
  });
}

function groupKeys(current: Record<string, Json>): [string[], string[]] {
  const keys = Object.keys(current).sort(codePointOrder);
  return [keys.filter((key) => isScalar(current[key])), keys.filter((key) => !isScalar(current[key]))];
}

function currentSection(sections: Section[]): Section {
  const section = sections.at(-1);
  if (section === undefined) throw new Error('table: a row before any section');
  return section;
}

function addHeader(sections: Section[], headers: string[]): void {
  const section = currentSection(sections);
  updateWidths(section, headers);
  section.headers = headers;
}

function addRow(sections: Section[], row: Json[]): void {
  const section = currentSection(sections);
  const cells = row.map(pythonStr);
  const columns = section.rows[0]?.length ?? section.headers.length;
  if (columns > 0 && cells.length !== columns) {
    // The aws CLI fails here too ("Row should have N elements"): a table cannot hold rows of different lengths.
    throw new EksAuthError('ERR_USAGE', `--output table cannot show this result: a row of ${cells.length} values among rows of ${columns}; use --output json or text, or a --query that gives rows of one length`);
  }
  section.rows.push(cells);
  updateWidths(section, cells);
}

function updateWidths(section: Section, cells: string[]): void {
  if (section.maxWidths.length === 0) section.maxWidths = cells.map(textWidth);
  else cells.forEach((cell, i) => (section.maxWidths[i] = Math.max(textWidth(cell), section.maxWidths[i] ?? 0)));
}

/** Columns a string takes: two for East Asian wide, fullwidth and ambiguous characters (awscli get_text_length). */
export function textWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const type = eastAsianWidthType(char.codePointAt(0) ?? 0);
    width += type === 'wide' || type === 'fullwidth' || type === 'ambiguous' ? 2 : 1;
  }
  return width;
}

function totalWidth(section: Section): number {
  const columns = section.maxWidths.reduce((sum, w) => sum + w + 4, 0) + 2 + 2 * section.indent;
  return Math.max(textWidth(section.title) + 2 + 2 * section.indent, columns);
}

function maxWidth(sections: Section[]): number {
  return Math.max(...sections.map(totalWidth));
}

// A section of one row and a header becomes header/value pairs, one per line.
function vertical(section: Section): Section {
  const [row] = section.rows;
  if (section.rows.length !== 1 || section.headers.length === 0 || row === undefined) return section;
  const turned = newSection(section.title, section.indent);
  section.headers.forEach((header, i) => {
    const cells = [header, row[i] ?? ''];
    turned.rows.push(cells);
    updateWidths(turned, cells);
  });
  return turned;
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function columnWidths(section: Section, width: number): number[] {
  const unscaled = section.maxWidths.map((w) => w + 4);
  if (unscaled.length === 0) return unscaled;
  const scale = width / unscaled.reduce((a, b) => a + b, 0);
  const scaled = unscaled.map((w) => roundHalfEven(scale * w));
  let off = scaled.reduce((a, b) => a + b, 0) - width;
  while (off !== 0) {
    const order = [...scaled.keys()];
    if (off < 0) order.reverse();
    for (const i of order) {
      scaled[i] = (scaled[i] ?? 0) + (off > 0 ? -1 : 1);
      off += off > 0 ? -1 : 1;
      if (off === 0) break;
    }
  }
  return scaled;
}

function centred(text: string, length: number, leftEdge: string, rightEdge: string, textLength = textWidth(text)): string {
  const start = Math.floor(length / 2) - Math.floor(textLength / 2) - 1;
  const soFar = textWidth(leftEdge) + start + textLength;
  return `${leftEdge}${' '.repeat(Math.max(0, start))}${text}${' '.repeat(Math.max(0, length - textWidth(rightEdge) - soFar))}${rightEdge}`;
}

function leftAligned(text: string, length: number, leftEdge: string, rightEdge: string, textLength: number): string {
  const padding = length - (textLength + 2 + leftEdge.length + rightEdge.length) >= 0 ? 2 : 0;
  const soFar = leftEdge.length + padding + textLength;
  return `${leftEdge}${' '.repeat(padding)}${text}${' '.repeat(Math.max(0, length - soFar - rightEdge.length))}${rightEdge}`;
}

function lineBreak(widths: number[]): string {
  return `${widths.map((w, i) => (i === 0 ? `+${'-'.repeat(w - 2)}+` : `${'-'.repeat(w - 1)}+`)).join('')}\n`;
}

function renderSection(section: Section, fullWidth: number, color: boolean): string {
  const bar = color ? `${DIM_YELLOW}|${RESET}` : '|';
  const width = fullWidth - section.indent * 2;
  const lines: string[] = [];
  if (section.title !== '') {
    lines.push(`${centred(section.title, width, '|', '|')}\n`);
    if (section.headers.length === 0 && section.rows.length === 0) lines.push(`+${'-'.repeat(width - 2)}+\n`);
  }
  const widths = columnWidths(section, width);
  if (section.headers.length > 0) {
    lines.push(lineBreak(widths));
    lines.push(`${section.headers.map((header, i) => centred(header, widths[i] ?? 0, i === 0 ? '|' : '', '|')).join('')}\n`);
  }
  if (section.rows.length > 0 && widths.length > 0) {
    lines.push(lineBreak(widths));
    for (const row of section.rows) {
      const cells = widths.map((w, i) => {
        const cell = row[i] ?? '';
        return leftAligned(color ? `${BRIGHT_BLUE}${cell}${RESET}` : cell, w, i === 0 ? '|' : '', '|', textWidth(cell));
      });
      lines.push(`${cells.join('')}\n`);
    }
    lines.push(lineBreak(widths));
  }
  // IndentedStream: every line between `indent` bars on each side.
  const bars = bar.repeat(section.indent);
  return lines.map((line) => `${bars}${line.slice(0, -1)}${bars}\n`).join('');
}
