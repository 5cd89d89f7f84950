// Runs, inside a browser page, the uvu suites that the page bundle queued (scripts/test-browser.mjs
// builds the bundle: each suite file is preceded by a module that opens its group in UVU_QUEUE,
// as uvu's own CLI does with UVU_INDEX), and publishes per-file results on
// `globalThis.__CHIO_RESULTS__` for the driver to read. uvu's own exec() only prints text.
type Run = () => Promise<[errors: string | true, ran: number, skipped: number, total: number]>;
type Group = [name: string | null, ...runs: Run[]];

export interface FileResult {
  file: string;
  total: number;
  passed: number;
  skipped: number;
  errors: string[];
}

export interface PageResults {
  files: FileResult[];
  total: number;
  passed: number;
  skipped: number;
  durationMs: number;
  userAgent: string;
}

const ANSI = /\x1b\[[0-9;]*m/g;

/** Opens the queue group for one suite file (called before the file's module evaluates). */
export function openSuiteFile(index: number, file: string): void {
  const g = globalThis as { UVU_QUEUE?: Group[]; UVU_INDEX?: number; UVU_DEFER?: number };
  g.UVU_DEFER = 1; // uvu then queues test.run() instead of running at once
  g.UVU_QUEUE ??= [];
  g.UVU_QUEUE[index] = [file];
  g.UVU_INDEX = index;
}

/** Runs every queued suite in order and publishes the results. */
export async function runQueuedSuites(): Promise<PageResults> {
  const started = performance.now();
  const queue = ((globalThis as { UVU_QUEUE?: Group[] }).UVU_QUEUE ?? []).filter(Boolean);
  const files: FileResult[] = [];
  for (const [name, ...runs] of queue) {
    const result: FileResult = { file: String(name), total: 0, passed: 0, skipped: 0, errors: [] };
    for (const run of runs) {
      try {
        const [errors, ran, skipped, total] = await run();
        result.total += total;
        result.passed += ran;
        result.skipped += skipped;
        if (errors !== true) result.errors.push(errors.replace(ANSI, ""));
      } catch (error) {
        result.errors.push(`suite crashed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      }
    }
    files.push(result);
  }
  const results: PageResults = {
    files,
    total: files.reduce((n, f) => n + f.total, 0),
    passed: files.reduce((n, f) => n + f.passed, 0),
    skipped: files.reduce((n, f) => n + f.skipped, 0),
    durationMs: Math.round(performance.now() - started),
    userAgent: navigator.userAgent,
  };
  (globalThis as { __CHIO_RESULTS__?: PageResults }).__CHIO_RESULTS__ = results;
  return results;
}
