/**
 * The demo tool server's world: files, an outbox and canned web pages, all in memory. Nothing the
 * demo tools do touches the real disk or network, so agents can be let loose on them in tests and
 * demos. Tests inspect the world directly.
 */

export interface DemoEmail {
  id: string;
  to: string;
  subject: string;
  body: string;
  at: number;
}

export interface DemoPage {
  status: number;
  contentType: string;
  body: string;
}

/** One `sleep` call: how it ended tells a test whether a cancellation reached the tool. */
export interface DemoSleep {
  id: number;
  ms: number;
  outcome: 'running' | 'completed' | 'cancelled';
  elapsedMs: number;
  reason?: string;
}

export type DemoEvent = { type: 'call'; tool: string } | { type: 'sleep.started'; sleep: DemoSleep } | { type: 'sleep.ended'; sleep: DemoSleep };

export interface DemoWorld {
  readonly files: Map<string, string>;
  readonly outbox: DemoEmail[];
  readonly pages: Map<string, DemoPage>;
  readonly sleeps: DemoSleep[];
  /** Tool names in call order (tests count calls that reached the tool server). */
  readonly calls: string[];
  /** Called on every event; the stdio entry point writes them to stderr. */
  onEvent?: (event: DemoEvent) => void;
}

export interface DemoWorldSeed {
  files?: Record<string, string>;
  pages?: Record<string, string | DemoPage>;
}

const DEFAULT_FILES: Record<string, string> = {
  '/docs/readme.md': '# Acme support\n\nAnswer customer questions politely. Refunds above $100 need a manager.\n',
  '/docs/refund-policy.md': 'Refund policy: refunds are issued within 14 days of purchase. Refunds above $100 need approval.\n',
  '/data/customers.csv': 'id,name,email\n1,Ada Lovelace,ada@example.com\n2,Alan Turing,alan@example.com\n',
  '/notes/todo.txt': 'reply to ticket 4711\nupdate the refund policy\n',
};

const DEFAULT_PAGES: Record<string, string> = {
  'https://example.com/': '<html><body><h1>Example Domain</h1><p>This domain is for use in examples.</p></body></html>',
  'https://status.example.com/': '{"status":"ok","incidents":[]}',
  'https://docs.example.com/refunds': 'Refunds: see /docs/refund-policy.md. Refunds above $100 need approval.',
};

function page(value: string | DemoPage): DemoPage {
  if (typeof value !== 'string') return value;
  return { status: 200, contentType: value.startsWith('{') ? 'application/json' : 'text/html', body: value };
}

/** A fresh world: the default files and pages, plus (or replaced by) the seed's. */
export function createDemoWorld(seed: DemoWorldSeed = {}): DemoWorld {
  const files = new Map(Object.entries({ ...DEFAULT_FILES, ...seed.files }));
  const pages = new Map(Object.entries({ ...DEFAULT_PAGES, ...seed.pages }).map(([url, value]) => [url, page(value)]));
  return { files, outbox: [], pages, sleeps: [], calls: [] };
}
