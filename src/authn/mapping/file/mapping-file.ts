/**
 * A mapping file in the aws-auth format, for clusters without an aws-auth ConfigMap or for static extra rows. Either
 * an aws-auth ConfigMap manifest (sections are YAML strings under `data`), or a plain document whose `mapRoles`,
 * `mapUsers` and `mapAccounts` are lists (a YAML string per section is accepted too).
 */
import { AWS_AUTH_SECTIONS, buildAwsAuthSource } from '../aws-auth-format.js';
import { readConfigMapSections } from '../configmap/configmap.js';
import { isPlainObject, parseYamlStrings, readFields } from '../fields.js';
import type { AwsAuthParseOptions, MappingSource } from '../types.js';

/**
 * Parses a mapping file's text into a source named `file:<path>`. Throws `ERR_INVALID_MAPPING` naming the file and
 * section when a section does not parse; rows that fail validation are skipped and listed in `problems`. An empty
 * file maps nobody.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { parseMappingFile } from 'eksauth/verify';
 * const source = parseMappingFile(await readFile('mapping.yaml', 'utf8'), 'mapping.yaml');
 * console.log(source.name, source.candidates().map((row) => row.username)); // → file:mapping.yaml [ 'alice' ]
 * ```
 */
export function parseMappingFile(text: string, path: string, options: AwsAuthParseOptions = {}): MappingSource {
  const name = `file:${path}`;
  const doc = parseYamlStrings(text, name) ?? {};
  if (isConfigMapManifest(doc)) {
    const { sections, problems } = readConfigMapSections(doc, name);
    return buildAwsAuthSource(sections, { name, kind: 'file', where: `${name}: data.`, problems }, options);
  }
  // Top-level keys of a plain mapping file are matched case-insensitively, as the reference's viper reads its config.
  const sections = readFields(doc, `${name}: `, AWS_AUTH_SECTIONS);
  return buildAwsAuthSource(sections, { name, kind: 'file', where: `${name}: ` }, options);
}

function isConfigMapManifest(doc: unknown): boolean {
  return isPlainObject(doc) && Object.keys(doc).some((key) => ['kind', 'apiversion', 'data'].includes(key.toLowerCase()));
}
