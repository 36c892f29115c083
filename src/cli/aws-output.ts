/**
 * The aws CLI's `--query` and `--output` for `eksauth eks get-token` and `eksauth token`: JMESPath through jmespath
 * (the JavaScript twin of the jmespath.py the aws CLI uses: same spec, no community extensions) and the byte layout
 * of awscli/formatter.py, awscli/text.py and awscli/table.py (v2 for yaml and yaml-stream). Loaded only when one of
 * those flags asks for it, so the plain token path never parses JMESPath or YAML.
 */
import { isatty } from 'node:tty';
import jmespath from 'jmespath';
import { stringify } from 'yaml';
import { profileSetting } from '../aws/settings.js';
import { EksAuthError } from '../errors.js';
import { renderTable } from './aws-table.js';

declare module 'jmespath' {
  /** Parses an expression; throws on a syntax error (untyped in @types/jmespath, exported by the package). */
  export function compile(expression: string): unknown;
}

export const OUTPUT_FORMATS = ['json', 'text', 'table', 'yaml', 'yaml-stream'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const COLOR_MODES = ['on', 'off', 'auto'] as const;
export type ColorMode = (typeof COLOR_MODES)[number];

export interface AwsOutputOptions {
  format: OutputFormat;
  /** A JMESPath expression, already checked with {@link checkQuery}. */
  query?: string;
  /** `--color`; only the table output has colours, as in the aws CLI. */
  color: ColorMode;
  /** The table's title: the command name, `get-token`. */
  title: string;
  /** Columns of the terminal on stdout; the aws CLI uses 80 when stdout is not one. */
  terminalWidth: number;
  /** Whether stdout is a terminal (`--color auto`). */
  isTty: boolean;
}

/**
 * Whether stdout is a terminal and how wide: the aws CLI asks the terminal (TIOCGWINSZ) and uses 80 otherwise.
 *
 * @example
 * ```ts
 * stdoutTerminal(); // { isTty: false, terminalWidth: 80 } when piped
 * ```
 */
export function stdoutTerminal(): { isTty: boolean; terminalWidth: number } {
  const isTty = isatty(1);
  return { isTty, terminalWidth: (isTty && process.stdout.columns) || 80 };
}

/**
 * The profile's `output` setting (`--profile`, else AWS_PROFILE, else default), which `aws eks get-token` honours.
 *
 * @example
 * ```ts
 * await profileOutput('prod', process.env); // 'text' when ~/.aws/config says `output = text` under [profile prod]
 * ```
 */
export function profileOutput(profile: string | undefined, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return profileSetting('output', { ...(profile === undefined ? {} : { profile }), env });
}

/**
 * Throws ERR_USAGE for an expression that does not parse, before anything is signed, as the aws CLI refuses a bad
 * `--query` while it parses the command line.
 *
 * @example
 * ```ts
 * checkQuery('status.token'); // ok
 * checkQuery('[status'); // throws EksAuthError ERR_USAGE
 * ```
 */
export function checkQuery(query: string): void {
  try {
    jmespath.compile(query);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new EksAuthError('ERR_USAGE', `--query ${JSON.stringify(query)} is not a JMESPath expression (${reason}); e.g. --query status.token`);
  }
}

/**
 * What the aws CLI prints for `response` with these options, up to and excluding the newline `aws eks get-token`
 * adds after every output.
 *
 * @example
 * ```ts
 * formatAwsOutput({ status: { token: 'k8s-aws-v1.x' } }, { format: 'text', query: 'status.token', color: 'off', title: 'get-token', terminalWidth: 80, isTty: false });
 * // 'k8s-aws-v1.x\n'
 * ```
 */
export function formatAwsOutput(response: unknown, options: AwsOutputOptions): string {
  const data = options.query === undefined ? response : search(response, options.query);
  switch (options.format) {
    case 'json':
      return formatJson(data);
    case 'text':
      return formatText(data);
    case 'table':
      return renderTable(options.title, data, {
        terminalWidth: options.terminalWidth,
        color: options.color === 'on' || (options.color === 'auto' && options.isTty),
      });
    case 'yaml':
      return isEmptyObject(data) ? '' : dumpYaml(data);
    case 'yaml-stream':
      return isEmptyObject(data) ? '' : dumpYaml([data]);
  }
}

function search(data: unknown, query: string): unknown {
  try {
    // jmespath's types take any JSON document and return any; the result is JSON data.
    return jmespath.search(data, query) as unknown;
  } catch (err) {
    throw new EksAuthError('ERR_USAGE', `--query ${JSON.stringify(query)} failed on the output: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

/** json.dump(indent=4, ensure_ascii=False): JSON.stringify's layout is the same; `{}` prints nothing, as the aws CLI. */
function formatJson(data: unknown): string {
  return isEmptyObject(data) ? '' : `${JSON.stringify(data ?? null, null, 4)}\n`;
}

/**
 * YAMLDumper of aws CLI v2 (ruamel.yaml, safe, block style): scalars as one line of JSON, everything else as block
 * YAML with sorted keys, quoted where YAML 1.2 would read a string as something else (timestamps included).
 */
function dumpYaml(data: unknown): string {
  if (data === null || typeof data !== 'object') return `${JSON.stringify(data ?? null)}\n`;
  const text = stringify(data, { sortMapEntries: true, indentSeq: false, lineWidth: 80, singleQuote: true, blockQuote: false, customTags: ['timestamp'] });
  return text.replace(LONG_WORD_VALUE, (_, indent: string, dashes: string, key: string, word: string) =>
    `${indent}${dashes}${key}: \n${' '.repeat(indent.length + dashes.length + 2)}${word}`);
}

// ruamel.yaml gives a plain word longer than the line width (80) a line of its own below its key, leaving a space
// after the colon; the yaml package keeps it on the key's line. A token is such a word.
const LONG_WORD_VALUE = /^( *)((?:- )*)([^\n]+?): ([^'"\s{[|>&*!%@`#,?-][^\s]{80,})$/gm;

/** Python's str() of a JSON scalar, which the text and table outputs print. */
export function pythonStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  return String(value);
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isScalar = (value: unknown): boolean => typeof value !== 'object' || value === null;
const isDict = (value: unknown): value is Record<string, Json> => typeof value === 'object' && value !== null && !Array.isArray(value);
const sorted = (keys: Iterable<string>): string[] => [...keys].sort(codePointOrder);

/** Python's sort order for str: by code point (JavaScript's default sort compares UTF-16 units). */
export function codePointOrder(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0) ?? 0);
  const y = [...b].map((c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  return x.length - y.length;
}

/** awscli/text.py: tab-separated scalars, one line per object, nested objects under their key in upper case. */
function formatText(data: unknown): string {
  const lines: string[] = [];
  textOf(data as Json, lines);
  return lines.map((line) => `${line}\n`).join('');
}

function textOf(item: Json, lines: string[], identifier?: string, scalarKeys?: string[]): void {
  if (isDict(item)) textOfDict(item, lines, identifier, scalarKeys);
  else if (Array.isArray(item)) textOfList(item, lines, identifier);
  else lines.push(pythonStr(item));
}

function textOfList(item: Json[], lines: string[], identifier?: string): void {
  if (item.length === 0) return;
  if (item.some(isDict)) {
    const keys = sorted(new Set(item.filter(isDict).flatMap((d) => Object.keys(d).filter((k) => isScalar(d[k])))));
    for (const element of item) textOf(element, lines, identifier, keys);
  } else if (item.some(Array.isArray)) {
    const scalars = item.filter(isScalar);
    if (scalars.length > 0) textOfScalars(scalars, lines, identifier);
    for (const nested of item.filter((e) => !isScalar(e))) textOf(nested, lines, identifier);
  } else {
    textOfScalars(item, lines, identifier);
  }
}

function textOfScalars(elements: Json[], lines: string[], identifier?: string): void {
  if (identifier === undefined) lines.push(elements.map(pythonStr).join('\t'));
  else for (const element of elements) lines.push(`${identifier.toUpperCase()}\t${pythonStr(element)}`);
}

function textOfDict(item: Record<string, Json>, lines: string[], identifier?: string, scalarKeys?: string[]): void {
  const scalars: string[] = [];
  const nested: [string, Json][] = [];
  if (scalarKeys === undefined) {
    for (const key of sorted(Object.keys(item))) {
      const value = item[key] as Json;
      if (isScalar(value)) scalars.push(pythonStr(value));
      else nested.push([key, value]);
    }
  } else {
    for (const key of scalarKeys) scalars.push(key in item ? pythonStr(item[key]) : '');
    for (const key of sorted(Object.keys(item).filter((k) => !scalarKeys.includes(k)))) nested.push([key, item[key] as Json]);
  }
  if (scalars.length > 0) lines.push((identifier === undefined ? scalars : [identifier.toUpperCase(), ...scalars]).join('\t'));
  for (const [key, value] of nested) textOf(value, lines, key);
}
