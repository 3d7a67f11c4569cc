import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { BedrockRuntimeClient, BedrockRuntimeClientConfig, ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import type { ChatChunk, ChatRequest, ChatResponse } from '../../core/chat.ts';
import { systemClock, type Clock } from '../../core/clock.ts';
import type { HttpModelProvider } from '../http.ts';
import { ProviderError, type ProviderCallOptions } from '../provider.ts';
import { requestIdOf, toProviderError } from './errors.ts';
import { ConverseStreamTranslator } from './stream.ts';
import { fromConverseResponse, toConverseRequest } from './translate.ts';

export interface BedrockProviderOptions {
  name: string;
  /** AWS Region, e.g. us-east-1. Default: the SDK's chain (AWS_REGION, the shared config file). */
  region?: string;
  /** Another endpoint than Bedrock Runtime's regional one (a VPC endpoint, a local test server). */
  endpoint?: string;
  /** A named profile of the shared config/credentials files; default the standard provider chain. */
  profile?: string;
  /** Static credentials (tests, SDK users); default the standard provider chain. */
  credentials?: BedrockRuntimeClientConfig['credentials'];
  /** For `created` timestamps. */
  clock?: Clock;
  /** Sockets per origin (each stream holds one for its life). Default 512. */
  maxSockets?: number;
}

const silent = { debug() {}, info() {}, warn() {}, error() {}, trace() {} };

type Sdk = { runtime: typeof import('@aws-sdk/client-bedrock-runtime'); http: typeof import('@smithy/node-http-handler') };
let sdk: Promise<Sdk> | undefined;

/** The AWS SDK is loaded on the first Bedrock call, so fmguard without Bedrock never pays its import. */
function loadSdk(): Promise<Sdk> {
  sdk ??= Promise.all([import('@aws-sdk/client-bedrock-runtime'), import('@smithy/node-http-handler')]).then(
    ([runtime, http]) => ({ runtime, http }),
    (error: unknown) => {
      sdk = undefined;
      // Optional peer dependencies: a Bedrock provider names what to install.
      throw new ProviderError(
        `the bedrock provider needs the AWS SDK: run \`npm install @aws-sdk/client-bedrock-runtime @smithy/node-http-handler\` (${error instanceof Error ? error.message : String(error)})`,
        { status: 500, code: 'upstream.error' },
      );
    },
  );
  return sdk;
}

/**
 * Amazon Bedrock through the Converse and ConverseStream APIs of the official AWS SDK client, behind
 * the OpenAI chat shapes. The SDK's own retries are off (fmguard's retry config decides, with Step
 * Functions semantics); aborting the call's signal destroys the socket, so a killed stream stops
 * Bedrock's generation. The AWS request id of each call is reported for the audit.
 */
export function createBedrockProvider(options: BedrockProviderOptions): HttpModelProvider {
  const { name, clock = systemClock, maxSockets = 512 } = options;
  let client: Promise<{ client: BedrockRuntimeClient; runtime: Sdk['runtime'] }> | undefined;
  const connect = () => (client ??= loadSdk().then(({ runtime, http }) => ({ runtime, client: makeClient(runtime, http) })));
  const makeClient = (runtime: Sdk['runtime'], http: Sdk['http']) =>
    new runtime.BedrockRuntimeClient({
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      maxAttempts: 1,
      logger: silent,
      // HTTP/1.1 over a keep-alive pool. (The client's default is an HTTP/2 handler that opens an
      // isolated session, a new TLS connection, per call; Converse and ConverseStream need no HTTP/2.)
      requestHandler: new http.NodeHttpHandler({
        httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
        httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
        // The runtime owns every timeout (total, first token, idle) and enforces it through the signal.
        requestTimeout: 0,
        connectionTimeout: 10_000,
        logger: silent,
      }),
    });

  const failure = (error: unknown, signal: AbortSignal): unknown => (signal.aborted ? signal.reason : toProviderError(error, name));

  async function complete(req: ChatRequest, { signal, onUpstreamMeta }: ProviderCallOptions): Promise<ChatResponse> {
    signal.throwIfAborted();
    const input = toConverseRequest(req);
    try {
      const { client, runtime } = await connect();
      signal.throwIfAborted();
      const res = await client.send(new runtime.ConverseCommand(input), { abortSignal: signal });
      const requestId = res.$metadata.requestId;
      onUpstreamMeta?.({ requestId });
      return fromConverseResponse(res, req.model, responseId(requestId), Math.floor(clock.now() / 1000));
    } catch (error) {
      onUpstreamMeta?.({ requestId: requestIdOf(error) });
      throw failure(error, signal);
    }
  }

  async function* stream(req: ChatRequest, { signal, onUpstreamMeta }: ProviderCallOptions): AsyncGenerator<ChatChunk, void, undefined> {
    signal.throwIfAborted();
    const input = toConverseRequest(req);
    // Our own controller too: a consumer that stops reading must close the connection, not leave
    // the rest of the answer to be generated and billed.
    const local = new AbortController();
    const forward = () => local.abort(signal.reason);
    signal.addEventListener('abort', forward, { once: true });
    let finished = false;
    try {
      let events: AsyncIterable<ConverseStreamOutput>;
      let requestId: string | undefined;
      try {
        const { client, runtime } = await connect();
        local.signal.throwIfAborted();
        const res = await client.send(new runtime.ConverseStreamCommand(input), { abortSignal: local.signal });
        requestId = res.$metadata.requestId;
        onUpstreamMeta?.({ requestId });
        if (!res.stream) throw new ProviderError(`${name}: ConverseStream answered without a stream`, { status: 502 });
        events = res.stream;
      } catch (error) {
        onUpstreamMeta?.({ requestId: requestIdOf(error) });
        throw error;
      }
      const translator = new ConverseStreamTranslator(responseId(requestId), req.model, Math.floor(clock.now() / 1000));
      for await (const event of events) {
        // After `metadata` the body is read to its end, so the socket goes back to the pool.
        if (translator.done) continue;
        const exception = ConverseStreamTranslator.exceptionOf(event);
        if (exception) throw toProviderError(Object.assign(new Error(exception.message), { name: exception.name, $metadata: { requestId } }), name);
        const chunk = translator.next(event);
        if (chunk) yield chunk;
      }
      if (!translator.stopped) throw new ProviderError(`${name}: the upstream stream ended before messageStop`, { status: 502 });
      finished = true;
    } catch (error) {
      throw failure(error, signal);
    } finally {
      signal.removeEventListener('abort', forward);
      if (!finished && !local.signal.aborted) local.abort(new Error('the stream was closed before its end'));
    }
  }

  return {
    name,
    complete,
    stream,
    async close() {
      if (client) (await client).client.destroy();
    },
  };
}

/** OpenAI-style ids from the AWS request id, so a response can be traced to the AWS side. */
function responseId(requestId: string | undefined): string {
  return `chatcmpl-bedrock-${requestId ?? Math.random().toString(36).slice(2)}`;
}
