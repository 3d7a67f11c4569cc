import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { discard, type UpstreamResponse } from './http.ts';

export type SseEvent = EventSourceMessage;

const noop = () => {};

/**
 * The server-sent events of a response body, in order. eventsource-parser does the line work (events
 * split across network chunks, CRLF, comments, multi-line data); a streaming TextDecoder keeps
 * a UTF-8 character split across chunks whole. Whenever iteration stops before the body ended (the consumer
 * returned, an error, an abort) the body is destroyed, which closes the socket instead of returning a
 * half-read connection to the pool.
 */
export async function* sseEvents(body: UpstreamResponse['body']): AsyncGenerator<SseEvent, void, undefined> {
  const pending: SseEvent[] = [];
  const parser = createParser({ onEvent: (event) => pending.push(event) });
  const decoder = new TextDecoder();
  // Errors still reach the loop below; this only keeps a late one (after a destroy) from going uncaught.
  body.on('error', noop);
  try {
    for await (const bytes of body as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(bytes, { stream: true }));
      for (let i = 0; i < pending.length; i++) yield pending[i];
      pending.length = 0;
    }
    // A last event without its blank line: dispatch it rather than lose it.
    parser.feed(`${decoder.decode()}\n\n`);
    for (const event of pending) yield event;
  } finally {
    discard(body);
  }
}
