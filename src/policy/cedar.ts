/**
 * The one import of cedar-wasm. Its `/nodejs` build loads the wasm synchronously, so the engine can
 * be created without an await and every problem surfaces at creation.
 */
export * as cedar from '@cedar-policy/cedar-wasm/nodejs';
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
