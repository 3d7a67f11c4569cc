import { describe, expect, it } from 'vitest';
import { createGuard } from '../../src/index.ts';
import { ask, baseConfig } from './fixtures.ts';

// A guarded stream that the caller closes without reading (or never starts) must still settle: the
// reservation released, the call in flight no longer counted, the upstream aborted, what flowed paid.
describe('a guarded stream closed early', () => {
  it('settles when its iterator is closed before the first next()', async () => {
    const guard = createGuard({ config: baseConfig() });
    const run = await guard.startRun({ agent: 'bot' });
    const stream = await run.streamModel(ask('[sim:long 400] hello'));
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.return?.();
    await expect(stream.result).rejects.toMatchObject({ code: 'request.invalid' });
    const usage = await run.usage();
    expect(usage.reservedCostUsd).toBe(0);
    expect(usage.steps).toBe(1);
    // The first chunk flowed and is paid for; the rest was never generated.
    expect(usage.outputTokens).toBeGreaterThan(0);
    expect(usage.outputTokens).toBeLessThan(400);
    expect(run.handle.active).toBe(0);
    await guard.close();
  });

  it('settles on close() without any iteration, and a second close is harmless', async () => {
    const guard = createGuard({ config: baseConfig() });
    const run = await guard.startRun({ agent: 'bot' });
    const stream = await run.streamModel(ask('[sim:long 400] hello'));
    await stream.close();
    await stream.close();
    const usage = await run.usage();
    expect(usage.reservedCostUsd).toBe(0);
    expect(run.handle.active).toBe(0);
    await guard.close();
  });

  it('closing after the end changes nothing', async () => {
    const guard = createGuard({ config: baseConfig() });
    const run = await guard.startRun({ agent: 'bot' });
    const stream = await run.streamModel(ask('hello'));
    for await (const _ of stream) {
      // read it all
    }
    const result = await stream.result;
    await stream.close();
    expect((await run.usage()).outputTokens).toBe(result.usage.outputTokens);
    await guard.close();
  });
});
