import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that took longest in a clean-clone CI run (2026-12-03, seconds on 3 workers), started
 * first. Without vitest's results cache (a fresh clone, CI) the order is otherwise arbitrary, and a
 * 14 s file that starts last keeps one worker busy while the others have nothing left to do.
 */
const LONGEST = [
  'test/cli/config-discovery.test.ts', // 69
  'test/console/browser-views.test.ts', // 41
  'test/adapters/examples.test.ts', // 38
  'test/docs/readme.test.ts', // 36
  'test/package/pack.test.ts', // 34
  'test/cli/demo-spend.test.ts', // 26
  'test/fuzz/fuzz.test.ts', // 23
  'test/aws/asl-execution.test.ts', // 19
  'test/console/browser-actions.test.ts', // 18
  'test/gateway/reserved-concurrency.test.ts', // 17
  'test/live/cli.test.ts', // 14
  'test/demo/demo.test.ts', // 14
];

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const i = LONGEST.findIndex((path) => file.moduleId.endsWith(path));
      return i === -1 ? LONGEST.length : i;
    };
    // Array.prototype.sort is stable: everything else keeps vitest's own order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
