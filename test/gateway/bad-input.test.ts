import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ask, BOT_KEY, closeAll, OTHER_KEY, startGateway, type TestGateway } from './helpers.ts';

afterEach(closeAll);

async function expectRefusal(res: Response, status: number, code: string, param?: string | null) {
  const text = await res.text();
  expect(res.status).toBe(status);
  expect(res.headers.get('x-fmguard-code')).toBe(code);
  expect(res.headers.get('x-should-retry')).toBe('false');
  expect(res.headers.get('content-type')).toBe('application/json');
  expect(text).not.toMatch(/\n\s+at |\.ts:\d+|node:internal/);
  const body = JSON.parse(text);
  expect(body.error).toMatchObject({ type: 'fmguard_error', code });
  if (param !== undefined) expect(body.error.param).toBe(param);
  return body.error as { message: string; param: string | null };
}

describe('bad input: each gives its code, never a stack trace or a 500', () => {
  let gw: TestGateway;
  const errors: unknown[] = [];
  const start = async (maxBodyBytes?: number) => {
    gw = await startGateway({ gateway: { maxBodyBytes, onError: (e) => errors.push(e) } });
    return gw;
  };
  afterEach(() => {
    expect(errors).toEqual([]);
    errors.length = 0;
  });

  it('malformed JSON', async () => {
    await start();
    await expectRefusal(await gw.post('{"model": "sim-small", "messages": ['), 400, 'request.invalid');
    await expectRefusal(await gw.post(''), 400, 'request.invalid');
    await expectRefusal(await gw.post('[1,2]'), 400, 'request.invalid');
    await expectRefusal(await gw.post('null'), 400, 'request.invalid');
  });

  it.each([
    ['model not a string', { model: 42, messages: [{ role: 'user', content: 'hi' }] }, 'model'],
    ['messages missing', { model: 'sim-small' }, 'messages'],
    ['messages not an array', { model: 'sim-small', messages: 'hi' }, 'messages'],
    ['messages empty', { model: 'sim-small', messages: [] }, 'messages'],
    ['a message not an object', { model: 'sim-small', messages: ['hi'] }, 'messages[0]'],
    ['a message without role', { model: 'sim-small', messages: [{ content: 'hi' }] }, 'messages[0].role'],
    ['an unknown role', { model: 'sim-small', messages: [{ role: 'wizard', content: 'hi' }] }, 'messages[0].role'],
    ['content a number', { model: 'sim-small', messages: [{ role: 'user', content: 7 }] }, 'messages[0].content'],
    ['a tool message without tool_call_id', { model: 'sim-small', messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id'],
    ['tool_calls not an array', { model: 'sim-small', messages: [{ role: 'assistant', content: null, tool_calls: {} }] }, 'messages[0].tool_calls'],
    ['max_tokens a string', { ...ask('hi'), max_tokens: '100' }, 'max_tokens'],
    ['max_tokens negative', { ...ask('hi'), max_tokens: -5 }, 'max_tokens'],
    ['max_tokens fractional', { ...ask('hi'), max_tokens: 1.5 }, 'max_tokens'],
    ['temperature a string', { ...ask('hi'), temperature: 'hot' }, 'temperature'],
    ['stream a string', { ...ask('hi'), stream: 'yes' }, 'stream'],
    ['stream_options not an object', { ...ask('hi'), stream: true, stream_options: 'usage' }, 'stream_options'],
    ['include_usage a string', { ...ask('hi'), stream: true, stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage'],
    ['tools not an array', { ...ask('hi'), tools: { name: 'x' } }, 'tools'],
    ['a tool function without a name', { ...ask('hi'), tools: [{ type: 'function', function: {} }] }, 'tools[0].function.name'],
    ['stop a number', { ...ask('hi'), stop: 3 }, 'stop'],
  ])('wrong field types: %s', async (_name, body, param) => {
    await start();
    const error = await expectRefusal(await gw.post(body), 400, 'request.invalid', param);
    expect(error.message.length).toBeGreaterThan(0);
    // Bad input never reaches the model, and no run is created for it.
    expect(gw.sim.stats.calls).toBe(0);
    expect(await gw.guard.store.runs.list()).toEqual([]);
  });

  it('unknown model', async () => {
    await start();
    const error = await expectRefusal(await gw.post(ask('hi', 'gpt-5-turbo-max')), 400, 'request.invalid', 'model');
    expect(error.message).toContain('gpt-5-turbo-max');
  });

  it('missing or unknown key, or a malformed Authorization header', async () => {
    await start();
    await expectRefusal(await gw.post(ask('hi'), { authorization: '' }), 401, 'auth.invalid');
    await expectRefusal(await gw.post(ask('hi'), { authorization: 'Bearer sk-nobody-000000' }), 401, 'auth.invalid');
    await expectRefusal(await gw.post(ask('hi'), { authorization: `Basic ${BOT_KEY}` }), 401, 'auth.invalid');
    await expectRefusal(await gw.post(ask('hi'), { authorization: 'Bearer ' }), 401, 'auth.invalid');
    // The key is checked before the body is read: an unknown key with a bad body is still a 401.
    await expectRefusal(await gw.post('{oops', { authorization: 'Bearer sk-nobody-000000' }), 401, 'auth.invalid');
    // Lower-case scheme is accepted.
    expect((await gw.post(ask('hi'), { authorization: `bearer ${BOT_KEY}` })).status).toBe(200);
  });

  it('a body over the configured limit is a 413, not read to its end, and the connection closes', async () => {
    await start(16 * 1024);
    const big = ask('x'.repeat(20 * 1024));
    const res = await gw.post(big);
    const error = await expectRefusal(res, 413, 'request.invalid');
    expect(error.message).toContain('16384');
    // The official client gets the 413 as an APIError and does not retry it.
    const before = gw.requests();
    await expect(gw.client().chat.completions.create(big)).rejects.toMatchObject({ status: 413, code: 'request.invalid' });
    expect(gw.requests() - before).toBe(1);
  });

  it('a chunked body over the limit is cut as it passes the limit', async () => {
    await start(16 * 1024);
    const url = new URL(gw.url);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise((r) => socket.once('connect', r));
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    const closed = new Promise((r) => socket.once('close', r));
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${BOT_KEY}\r\ntransfer-encoding: chunked\r\n\r\n`);
    const piece = 'x'.repeat(4096);
    for (let i = 0; i < 8 && !socket.destroyed; i++) {
      socket.write(`${piece.length.toString(16)}\r\n${piece}\r\n`);
      await new Promise((r) => setTimeout(r, 5));
    }
    await closed;
    expect(received).toMatch(/^HTTP\/1\.1 413/);
    expect(received).toContain('x-fmguard-code: request.invalid');
    expect(received.toLowerCase()).toContain('connection: close');
  });

  it('a run id owned by another agent is auth.invalid', async () => {
    await start();
    expect((await gw.post(ask('mine'), { 'x-fmguard-run': 'bots-run' })).status).toBe(200);
    // The bare name is the other agent's own run of that name; naming bot's run (scoped) is refused.
    const error = await expectRefusal(
      await gw.post(ask('steal'), { authorization: `Bearer ${OTHER_KEY}`, 'x-fmguard-run': 'bots-run@bot' }),
      401,
      'auth.invalid',
    );
    expect(error.message).toContain('another agent');
    // Through the official client too, and not retried.
    const before = gw.requests();
    await expect(gw.client({ key: OTHER_KEY, headers: { 'x-fmguard-run': 'bots-run@bot' } }).chat.completions.create(ask('steal'))).rejects.toMatchObject({
      status: 401,
    });
    expect(gw.requests() - before).toBe(1);
  });

  it('a malformed run id, an unknown parent run', async () => {
    await start();
    await expectRefusal(await gw.post(ask('hi'), { 'x-fmguard-run': 'bad id with spaces' }), 400, 'request.invalid', 'run');
    await expectRefusal(await gw.post(ask('hi'), { 'x-fmguard-parent-run': 'no-such-run' }), 400, 'request.invalid', 'parent');
  });

  it('unknown paths are 404 and wrong methods 405, in the same error shape', async () => {
    await start();
    await expectRefusal(await fetch(`${gw.url}/v1/completions`, { method: 'POST' }), 404, 'request.invalid');
    await expectRefusal(await fetch(`${gw.url}/`), 404, 'request.invalid');
    const res = await fetch(`${gw.url}/v1/chat/completions`);
    expect(res.headers.get('allow')).toBe('POST');
    await expectRefusal(res, 405, 'request.invalid');
    await expectRefusal(await fetch(`${gw.url}/v1/models`, { method: 'DELETE' }), 405, 'request.invalid');
    await expectRefusal(await fetch(`${gw.url}/v1/models/%E0%A4%A`, { headers: { authorization: `Bearer ${BOT_KEY}` } }), 400, 'request.invalid');
  });

  it('an unexpected internal error is a 500 without details, reported to onError', async () => {
    const local: unknown[] = [];
    const test = await startGateway({ gateway: { onError: (e) => local.push(e) } });
    test.guard.startRun = async () => {
      throw new TypeError('secret path /etc/keys leaked');
    };
    const res = await test.post(ask('hi'));
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('/etc/keys');
    expect(JSON.parse(text).error).toMatchObject({ type: 'fmguard_error', code: 'upstream.error', message: 'internal error in the fmguard gateway' });
    expect(local).toHaveLength(1);
  });
});
