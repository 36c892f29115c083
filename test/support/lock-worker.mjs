// One process of the lock stress test (test/e2e/lock-stress.test.ts): takes the lock again and again through the
// lock modules until the stop file appears, and inside each critical section
// - claims the shared marker with O_EXCL: EEXIST while the marker's process still runs means two processes are
//   inside at once, and is recorded as an overlap (a marker left by a process killed inside is taken over);
// - appends its entry to the shared list by read-modify-write (temporary file and rename), as update-kubeconfig does;
// - logs the entry only once it is written, so that every logged entry must be in the list at the end.
//
// Usage: node lock-worker.mjs <kubeconfig|cache> <dir> <worker id> <folder of the bundled lock modules>
import { appendFileSync, existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [flavour, dir, worker, modules] = process.argv.slice(2);
const { withFileLock, acquireLock } = await import(pathToFileURL(join(modules, flavour, 'lock.mjs')).href);

const target = join(dir, 'file');
const marker = join(dir, 'inside');
const list = join(dir, 'list');
const STALE_MS = 10_000;
const TIMEOUT_MS = 60_000;

/** Alive and not a zombie (a process killed -9 is one until the test reaps it). */
function running(pid) {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function enter() {
  for (;;) {
    try {
      writeFileSync(marker, String(process.pid), { flag: 'wx' });
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let other = '';
    try {
      other = readFileSync(marker, 'utf8');
    } catch {
      continue; // left meanwhile
    }
    if (other !== '' && running(Number(other))) appendFileSync(join(dir, 'overlaps'), `${process.pid} entered while ${other} was inside\n`);
    else appendFileSync(join(dir, 'inherited'), `${process.pid} after ${other || '?'}\n`);
    try {
      unlinkSync(marker);
    } catch {
      // someone else took it over
    }
  }
}

async function criticalSection(n) {
  enter();
  const entry = `${worker}-${process.pid}-${n}`;
  const entries = existsSync(list) ? readFileSync(list, 'utf8') : '';
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
  const temp = `${list}.${process.pid}.tmp`;
  writeFileSync(temp, `${entries}${entry}\n`);
  renameSync(temp, list);
  appendFileSync(join(dir, 'log'), `${entry}\n`);
  leave();
}

/** Removes our marker; a marker gone or replaced means another process entered while we were inside. */
function leave() {
  let current = '';
  try {
    current = readFileSync(marker, 'utf8');
    if (current === String(process.pid)) return unlinkSync(marker);
  } catch {
    // gone
  }
  appendFileSync(join(dir, 'overlaps'), `${process.pid} found the marker ${current ? `of ${current}` : 'gone'} on leaving\n`);
}

for (let n = 0; !existsSync(join(dir, 'stop')); n += 1) {
  if (flavour === 'kubeconfig') {
    await withFileLock(target, () => criticalSection(n), { staleMs: STALE_MS, timeoutMs: TIMEOUT_MS });
  } else {
    const lock = await acquireLock(`${target}.lock`, { staleMs: STALE_MS, pollMs: 5 });
    if (lock === undefined) {
      appendFileSync(join(dir, 'unlocked'), `${process.pid}\n`);
      continue;
    }
    try {
      await criticalSection(n);
    } finally {
      lock.release();
    }
  }
}
