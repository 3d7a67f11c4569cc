import { describe, expect, it } from 'vitest';
import { createGuard } from '../../src/index.ts';
import { ask, baseConfig } from './fixtures.ts';

describe('a guarded stream: shape, single iteration, cuts', () => {
  it('a plain stream has no catch, no pass-through and no servedBy, and iterates only once', async () => {
    const guard = createGuard({ config: baseConfig() });
    const run = await guard.startRun({ agent: 'bot' });
    const stream = await run.streamModel(ask('hello'));
    expect(stream).not.toHaveProperty('passedThrough');
    expect(stream.model).toBe('sim-small');
    expect(stream).not.toHaveProperty('servedBy');
    for await (const _ of stream) {
      // read it all
    }
    expect(() => stream[Symbol.asyncIterator]()).toThrow(new TypeError('a guarded stream can be iterated only once'));
    const result = await stream.result;
    expect(result).not.toHaveProperty('caught');
    expect(result.model).toBe('sim-small');
    expect(result.attempts).toBe(1);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    expect(run.handle.active).toBe(0);
    await guard.close();
  });

  it('a consumer that stops reading settles with request.invalid saying so', async () => {
    const guard = createGuard({ config: baseConfig() });
    const run = await guard.startRun({ agent: 'bot' });
    const stream = await run.streamModel(ask('[sim:long 400] hello'));
    for await (const _ of stream) break;
    await expect(stream.result).rejects.toMatchObject({ code: 'request.invalid', message: 'the consumer closed the stream' });
    expect(run.handle.active).toBe(0);
    await guard.close();
  });
});
