/**
 * Finding and reading the kubeconfig to update, by aws-cli's rules (`KubeconfigSelector`, `KubeconfigLoader`,
 * `KubeconfigValidator`), but as a `yaml` Document, so that comments, key order, quoting and unknown keys survive
 * the edit. A file that cannot be read or does not validate is refused with its line and column, and never written.
 */
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Node } from 'yaml';
import { EksAuthError } from '../errors.js';
import { CONFIG_FILE_MAX_BYTES, readRegularFile } from '../lib/regular-file.js';

/** A kubeconfig as loaded for an update: its path, its YAML document and how it was written. */
export interface KubeconfigFile {
  /** Absolute path, as selected (a symlink stays a symlink; the write follows it). */
  path: string;
  doc: Document;
  /** False when the file was missing or empty and `doc` is the new-file template. */
  existed: boolean;
  /** The file's own layout, reused when writing so an update changes only what it must. */
  style: KubeconfigStyle;
}

export interface KubeconfigStyle {
  /** `key:\n  - item` (true) or kubectl's and aws-cli's `key:\n- item` (false). */
  indentSeq: boolean;
  /** `{ a: 1 }` (true) or `{a: 1}` (false). */
  flowCollectionPadding: boolean;
  lineEnding: '\n' | '\r\n';
}

export interface KubeconfigPathOptions {
  /** `--kubeconfig`: overrides KUBECONFIG. `~` is expanded and the path made absolute. */
  kubeconfig?: string;
  /** Where KUBECONFIG and HOME are read; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The candidate files, in order: `--kubeconfig` alone; else KUBECONFIG split on the path delimiter with empty and
 * blank elements dropped; else (or when nothing is left) `~/.kube/config`.
 *
 * @example
 * ```ts
 * import { kubeconfigPaths } from 'eksauth/kubeconfig';
 * console.log(kubeconfigPaths({ env: { KUBECONFIG: '/a/one::/a/two', HOME: '/home/me' } })); // → [ '/a/one', '/a/two' ]
 * console.log(kubeconfigPaths({ env: { HOME: '/home/me' } })); // → [ '/home/me/.kube/config' ]
 * ```
 */
export function kubeconfigPaths(options: KubeconfigPathOptions = {}): string[] {
  const env = options.env ?? process.env;
  const home = env.HOME || homedir();
  if (options.kubeconfig !== undefined) return [expandPath(options.kubeconfig, home)];
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((element) => element.trim() !== '');
  return listed.length > 0 ? listed.map((element) => expandPath(element, home)) : [join(home, '.kube', 'config')];
}

function expandPath(path: string, home: string): string {
  const expanded = path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;
  return isAbsolute(expanded) ? expanded : resolve(expanded);
}

/**
 * Parses kubeconfig text and validates it as aws-cli does: a mapping; `clusters`, `contexts` and `users` lists (or
 * null) of mappings; `apiVersion`, `kind` and `current-context` strings; `preferences` a mapping. Empty text gives
 * the new-file template.
 *
 * @example
 * ```ts
 * import { parseKubeconfig } from 'eksauth/kubeconfig';
 * const file = parseKubeconfig('apiVersion: v1\nkind: Config\nclusters: []\n', '/tmp/config');
 * console.log(file.path, file.doc.get('kind')); // → /tmp/config Config
 * ```
 * @throws EksAuthError ERR_KUBECONFIG_CORRUPT with the line and column of the problem
 */
export function parseKubeconfig(text: string, path: string): KubeconfigFile {
  const lineCounter = new LineCounter();
  // YAML 1.1 is what kubectl's parser speaks: strings such as `yes` or `on` are then quoted when written.
  const doc = parseDocument(text, { version: '1.1', lineCounter, prettyErrors: true, uniqueKeys: true });
  const error = doc.errors[0];
  if (error !== undefined) {
    const at = error.linePos?.[0];
    // prettyErrors appends " at line L, column C:" and a source excerpt; the position is given separately here.
    const reason = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw corrupt(path, at === undefined ? 'is not valid YAML' : `is not valid YAML at line ${at.line}, column ${at.col}`, reason);
  }
  const style = detectStyle(text);
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    const fresh = newKubeconfigDocument();
    if (doc.commentBefore) fresh.commentBefore = doc.commentBefore;
    return { path, doc: fresh, existed: false, style };
  }
  validate(doc, path, lineCounter);
  return { path, doc, existed: true, style };
}

/**
 * Reads one kubeconfig. A missing file gives the new-file template (it is created on write). A symlink is followed;
 * what it leads to must be a regular file of at most 16 MiB: a FIFO, a device (/dev/zero) or a directory is refused
 * at once, without blocking on it or reading it.
 *
 * @example
 * ```ts
 * import { homedir } from 'node:os';
 * import { loadKubeconfig } from 'eksauth/kubeconfig';
 * const file = await loadKubeconfig(`${homedir()}/.kube/config`);
 * console.log(file.existed, file.doc.get('current-context')); // → true arn:aws:eks:eu-west-1:111122223333:cluster/prod
 * ```
 * @throws EksAuthError ERR_KUBECONFIG_INACCESSIBLE (unreadable, not a regular file) or ERR_KUBECONFIG_CORRUPT (invalid, too large)
 */
export async function loadKubeconfig(path: string): Promise<KubeconfigFile> {
  const read = readRegularFile(path, { maxBytes: CONFIG_FILE_MAX_BYTES, followSymlinks: true });
  if ('bytes' in read) return parseKubeconfig(read.bytes.toString('utf8'), path);
  switch (read.reason) {
    case 'missing':
      return { path, doc: newKubeconfigDocument(), existed: false, style: detectStyle('') };
    case 'too-large':
      throw corrupt(path, `is ${read.what}`, 'no kubeconfig is that large');
    case 'not-regular':
      throw inaccessible(path, `is ${read.what}, not a file`);
    default:
      throw inaccessible(path, `cannot be read (${'code' in read ? read.code : read.reason})`);
  }
}

function inaccessible(path: string, what: string): EksAuthError {
  return new EksAuthError('ERR_KUBECONFIG_INACCESSIBLE', `kubeconfig ${path} ${what}; fix it, or pass --kubeconfig with another file (nothing was changed)`);
}

/**
 * aws-cli's choice among several files: the first one that already has a cluster named `clusterArn` (files that
 * fail to load are skipped, with a warning), otherwise the first file, whose load errors are then thrown.
 *
 * @example
 * ```ts
 * import { chooseKubeconfig, kubeconfigPaths } from 'eksauth/kubeconfig';
 * const file = await chooseKubeconfig(kubeconfigPaths(), 'arn:aws:eks:eu-west-1:111122223333:cluster/prod');
 * ```
 */
export async function chooseKubeconfig(
  paths: readonly string[],
  clusterArn: string,
  onWarning: (message: string) => void = () => {},
): Promise<KubeconfigFile> {
  if (paths.length > 1) {
    for (const path of paths) {
      try {
        const file = await loadKubeconfig(path);
        if (hasCluster(file, clusterArn)) return file;
      } catch (err) {
        onWarning(`skipping ${path}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  return loadKubeconfig(paths[0] ?? kubeconfigPaths()[0]!);
}

/**
 * Whether the file has a cluster entry with this name.
 *
 * @example
 * ```ts
 * import { hasCluster, parseKubeconfig } from 'eksauth/kubeconfig';
 * hasCluster(parseKubeconfig('clusters:\n- name: a\n', '/tmp/c'), 'a'); // true
 * ```
 */
export function hasCluster(file: KubeconfigFile, name: string): boolean {
  const clusters = file.doc.get('clusters', true);
  return isSeq(clusters) && clusters.items.some((entry) => isMap(entry) && entry.get('name') === name);
}

/**
 * aws-cli's empty kubeconfig, in its key order: what a missing or empty file starts as.
 *
 * @example
 * ```ts
 * import { newKubeconfigDocument } from 'eksauth/kubeconfig';
 * newKubeconfigDocument().toJS(); // { apiVersion: 'v1', clusters: [], contexts: [], 'current-context': '', kind: 'Config', preferences: {}, users: [] }
 * ```
 */
export function newKubeconfigDocument(): Document {
  return new Document(
    { apiVersion: 'v1', clusters: [], contexts: [], 'current-context': '', kind: 'Config', preferences: {}, users: [] },
    { version: '1.1' },
  );
}

type Expected = 'string' | 'list' | 'mapping';
const KNOWN_KEYS: Record<string, Expected> = {
  apiVersion: 'string', clusters: 'list', contexts: 'list', 'current-context': 'string', kind: 'string', preferences: 'mapping', users: 'list',
};

function validate(doc: Document, path: string, lines: LineCounter): void {
  const where = (node: Node | null | undefined): string => {
    const offset = node?.range?.[0];
    if (offset === undefined) return '';
    const { line, col } = lines.linePos(offset);
    return ` at line ${line}, column ${col}`;
  };
  const root = doc.contents;
  if (!isMap(root)) throw corrupt(path, `is not a kubeconfig${where(root)}`, 'the top level must be a mapping (apiVersion, clusters, users, …)');
  for (const [key, expected] of Object.entries(KNOWN_KEYS)) {
    const node = root.get(key, true) as Node | undefined;
    if (node === undefined || (isScalar(node) && node.value === null)) continue;
    if (kindOf(node) !== expected) throw corrupt(path, `has a bad "${key}"${where(node)}`, `it must be a ${expected}, not a ${kindOf(node)}`);
    if (expected !== 'list' || !isSeq(node)) continue;
    const bad = node.items.find((item) => !isMap(item));
    if (bad !== undefined) throw corrupt(path, `has a bad entry in "${key}"${where(bad as Node)}`, 'every entry must be a mapping with a name');
  }
}

function kindOf(node: Node): string {
  if (isSeq(node)) return 'list';
  if (isMap(node)) return 'mapping';
  if (isScalar(node)) return typeof node.value;
  return 'alias';
}

function corrupt(path: string, what: string, detail: string): EksAuthError {
  return new EksAuthError(
    'ERR_KUBECONFIG_CORRUPT',
    `kubeconfig ${path} ${what}: ${detail}; fix the file, or pass --kubeconfig with another one (nothing was changed)`,
  );
}

function detectStyle(text: string): KubeconfigStyle {
  const indented = /^[^\s#][^\n]*:[ \t]*\r?\n(?:[ \t]*#[^\n]*\r?\n)*[ \t]+- /m.test(text);
  const flush = /^[^\s#][^\n]*:[ \t]*\r?\n(?:[ \t]*#[^\n]*\r?\n)*- /m.test(text);
  return {
    indentSeq: indented && !flush,
    flowCollectionPadding: /[{[] [^\s}\]]/.test(text),
    lineEnding: text.includes('\r\n') ? '\r\n' : '\n',
  };
}
