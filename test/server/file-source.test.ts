/**
 * The MountedFile source notices every edit, including one made before its watcher's first poll: that poll would
 * otherwise take the edited file as its baseline, and the edit would never be served.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseMappingFile } from '../../src/authn/mapping/file/mapping-file.js';
import { watchMappingFile } from '../../src/server/file-source.js';
import { createLogger } from '../../src/server/logger.js';
import { createServerMetrics } from '../../src/server/metrics.js';
import type { SourceReporter } from '../../src/server/watched-source.js';
import { tempDir } from '../support/tools.js';
import { eventually, logSink } from './helpers.js';

let quiet: SourceReporter;
beforeAll(async () => {
  quiet = { log: await createLogger({ level: 'warn', destination: logSink() }), metrics: await createServerMetrics({ processMetrics: false }), onChange: () => undefined };
});
const mapping = (username: string) => `mapUsers:\n  - userarn: arn:aws:iam::111122223333:user/alice\n    username: ${username}\n`;

describe('watchMappingFile', () => {
  it('serves an edit made right after the initial load, before the watcher has polled once', async () => {
    for (let round = 0; round < 20; round += 1) {
      const file = join(tempDir('eksauth-file-source-'), 'mapping.yaml');
      writeFileSync(file, mapping('first'));
      const source = await watchMappingFile({ path: file, parse: parseMappingFile, intervalMs: 20 }, quiet);
      writeFileSync(file, mapping(`edited-${round}`));
      try {
        await eventually(() => JSON.stringify(source.current()?.candidates()).includes(`edited-${round}`), `round ${round}: the edit served`);
      } finally {
        await source.close();
      }
    }
  });

  it('reloads a file edited twice, and once back', async () => {
    const file = join(tempDir('eksauth-file-source-'), 'mapping.yaml');
    writeFileSync(file, mapping('one'));
    const source = await watchMappingFile({ path: file, parse: parseMappingFile, intervalMs: 20 }, quiet);
    try {
      for (const name of ['two', 'three-longer', 'one']) {
        writeFileSync(file, mapping(name));
        await eventually(() => JSON.stringify(source.current()?.candidates()).includes(`"${name}"`), `${name} served`);
      }
    } finally {
      await source.close();
    }
    expect(JSON.stringify(source.current()?.candidates())).toContain('"one"');
  });
});
