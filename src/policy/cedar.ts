import { createRequire } from 'node:module';

/**
 * The one import of cedar-wasm. Its `/nodejs` build loads the wasm synchronously, so the engine can
 * be created without an await and every problem surfaces at creation. It is required on first use
 * (building or checking policies), not when fmguard is imported: the wasm module is large.
 */
type CedarModule = typeof import('@cedar-policy/cedar-wasm/nodejs');

const require = createRequire(import.meta.url);
let loaded: CedarModule | undefined;

export function cedar(): CedarModule {
  loaded ??= require('@cedar-policy/cedar-wasm/nodejs') as CedarModule;
  return loaded;
}

export type {
  AuthorizationAnswer,
  DetailedError,
  EntityJson,
  Expr,
  Policy,
  PolicyJson,
  Schema,
  StatefulAuthorizationCall,
} from '@cedar-policy/cedar-wasm/nodejs';
