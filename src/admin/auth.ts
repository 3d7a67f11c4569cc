import type { IncomingMessage } from 'node:http';
import { bearerToken, sameSecret } from '../http/auth.ts';
import { httpFailure, type HttpFailure } from '../http/error-response.ts';

/**
 * The admin API's gate: a bearer token compared in constant time. With no token configured the API
 * is off (fail closed): every request is refused with a message saying how to turn it on.
 */
export function checkAdminToken(req: IncomingMessage, expected: Buffer | undefined): HttpFailure | undefined {
  if (!expected) {
    return httpFailure(403, 'auth.invalid', 'the admin API is disabled: set server.adminToken in the config to enable it');
  }
  const given = bearerToken(req.headers.authorization);
  if (given === undefined)
    return httpFailure(401, 'auth.invalid', 'missing admin token (Authorization: Bearer <server.adminToken>)', { 'www-authenticate': 'Bearer' });
  if (!sameSecret(given, expected)) return httpFailure(401, 'auth.invalid', 'unknown admin token', { 'www-authenticate': 'Bearer' });
  return undefined;
}
