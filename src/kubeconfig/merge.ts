/**
 * Merging entries into a kubeconfig with aws-cli's rules (`KubeconfigAppender`): clusters, then users, then
 * contexts; an entry with the same name is replaced where it stands, otherwise appended; a list that is missing is
 * added at the end; `current-context` is set to the new context. The edit is made on the YAML document, so
 * everything it does not replace (comments, other entries, unknown keys, key order) stays as it was.
 */
import { isMap, isScalar, isSeq, parseDocument, YAMLSeq } from 'yaml';
import type { Document, Node } from 'yaml';
import { EksAuthError } from '../errors.js';
import type { KubeconfigEntries } from './entries.js';
import { hasCluster } from './load.js';
import type { KubeconfigFile } from './load.js';

export type EntryList = 'clusters' | 'users' | 'contexts';

/** What merging did to one entry, for `--dry-run` summaries. */
export interface EntryChange {
  list: EntryList;
  name: string;
  change: 'added' | 'replaced' | 'unchanged';
  /** For a replaced entry: the fields that differ (values of secret-looking fields are not kept). */
  fields?: FieldChange[];
}

export interface FieldChange {
  /** Dotted path inside the entry, e.g. `cluster.server` or `user.exec.args`. */
  path: string;
  before?: unknown;
  after?: unknown;
}

export interface MergeResult {
  /** `updated` when the file already had a cluster named by the ARN (aws-cli's "Updated context …"), else `added`. */
  action: 'added' | 'updated';
  context: string;
  changes: EntryChange[];
  currentContext: { before?: string; after?: string };
}

export interface MergeOptions {
  /** Set `current-context` to the new context (default true; false for `--no-set-current-context`). */
  setCurrentContext?: boolean;
}

/**
 * Merges one cluster's entries into a loaded kubeconfig, in memory.
 *
 * @example
 * ```ts
 * import { buildKubeconfigEntries, mergeKubeconfigEntries, parseKubeconfig, serializeKubeconfig } from 'eksauth/kubeconfig';
 * const file = parseKubeconfig('# mine\napiVersion: v1\nkind: Config\n', '/tmp/config');
 * const entries = buildKubeconfigEntries({ name: 'prod', arn: 'arn:aws:eks:eu-west-1:111122223333:cluster/prod', endpoint: 'https://x', certificateAuthorityData: '', status: 'ACTIVE' });
 * console.log(mergeKubeconfigEntries(file, entries).action); // → added
 * console.log(serializeKubeconfig(file).split('\n').slice(0, 3).join(' | ')); // → # mine | apiVersion: v1 | kind: Config
 * ```
 */
export function mergeKubeconfigEntries(file: KubeconfigFile, entries: KubeconfigEntries, options: MergeOptions = {}): MergeResult {
  const action = hasCluster(file, entries.cluster.name) ? 'updated' : 'added';
  const changes = [
    insertEntry(file, 'clusters', entries.cluster),
    insertEntry(file, 'users', entries.user),
    insertEntry(file, 'contexts', entries.context),
  ];
  const before = currentContext(file.doc);
  if (options.setCurrentContext ?? true) file.doc.set('current-context', entries.context.name);
  const after = currentContext(file.doc);
  return { action, context: entries.context.name, changes, currentContext: { ...(before === undefined ? {} : { before }), ...(after === undefined ? {} : { after }) } };
}

function currentContext(doc: Document): string | undefined {
  const value = doc.get('current-context');
  return typeof value === 'string' ? value : undefined;
}

function insertEntry(file: KubeconfigFile, list: EntryList, entry: { name: string }): EntryChange {
  const seq = entryList(file, list);
  const node = file.doc.createNode(entry) as Node;
  const at = seq.items.findIndex((item) => isMap(item) && item.get('name') === entry.name);
  if (at < 0) {
    seq.items.push(node);
    return { list, name: entry.name, change: 'added' };
  }
  const old = seq.items[at] as Node;
  // The comments around an entry belong to the user, not to the entry's contents.
  node.commentBefore = old.commentBefore;
  node.comment = old.comment;
  node.spaceBefore = old.spaceBefore;
  seq.items[at] = node;
  const fields = diffFields(old.toJS(file.doc), entry);
  return fields.length === 0 ? { list, name: entry.name, change: 'unchanged' } : { list, name: entry.name, change: 'replaced', fields };
}

/** The list to insert into: created at the end when missing, replaced in place when null (aws-cli's `get(key) or []`). */
function entryList(file: KubeconfigFile, list: EntryList): YAMLSeq {
  const current = file.doc.get(list, true);
  if (isSeq(current)) {
    // `clusters: []` is a flow sequence; filled, it would stay on one line.
    if (current.items.length === 0) current.flow = false;
    return current;
  }
  if (current !== undefined && !(isScalar(current) && current.value === null)) {
    throw new EksAuthError('ERR_KUBECONFIG_CORRUPT', `kubeconfig ${file.path}: cannot insert into "${list}", which is not a list; fix the file (nothing was changed)`);
  }
  const seq = new YAMLSeq();
  file.doc.set(list, seq);
  return seq;
}

const SECRET_FIELD = /token|password|secret|key-data|client-key/i;

/** Leaf differences between two entries as plain values, with secret-looking values left out. */
function diffFields(before: unknown, after: unknown, path = ''): FieldChange[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((key) => diffFields(before[key], after[key], path === '' ? key : `${path}.${key}`));
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if (SECRET_FIELD.test(path)) return [{ path }];
  return [{ path, ...(before === undefined ? {} : { before }), ...(after === undefined ? {} : { after }) }];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The kubeconfig as text, in the file's own layout (sequence indentation, flow padding, line endings) with no line
 * folding. The text is parsed back before it is returned: a document that would not read back the same is never
 * written.
 *
 * @example
 * ```ts
 * import { parseKubeconfig, serializeKubeconfig } from 'eksauth/kubeconfig';
 * console.log(serializeKubeconfig(parseKubeconfig('apiVersion: v1 # keep\n', '/tmp/config')).trim()); // → apiVersion: v1 # keep
 * ```
 * @throws EksAuthError ERR_KUBECONFIG_CORRUPT if the result would not parse back to the same content
 */
export function serializeKubeconfig(file: KubeconfigFile): string {
  const text = file.doc.toString({
    lineWidth: 0,
    indentSeq: file.style.indentSeq,
    flowCollectionPadding: file.style.flowCollectionPadding,
  });
  const reread = parseDocument(text, { version: '1.1' });
  if (reread.errors.length > 0 || JSON.stringify(reread.toJS()) !== JSON.stringify(file.doc.toJS())) {
    throw new EksAuthError('ERR_KUBECONFIG_CORRUPT', `kubeconfig ${file.path}: the updated file would not read back the same (anchors or tags eksauth cannot edit?); nothing was changed`);
  }
  return file.style.lineEnding === '\n' ? text : text.replace(/\n/g, '\r\n');
}
