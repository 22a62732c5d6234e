// The endpoints of the Open Inference Protocol's HTTP/REST API (inference_rest.md, the table at its top):
//   GET  v2                                                      server metadata
//   GET  v2/health/live, v2/health/ready                         server liveness, readiness
//   GET  v2/models/<model_name>[/versions/<model_version>]       model metadata
//   GET  v2/models/<model_name>[/versions/<model_version>]/ready model readiness
//   POST v2/models/<model_name>[/versions/<model_version>]/infer inference
import { ProtocolError } from './types.js';

/** What a request asks for. `version` is absent where the path names none (the server then chooses). */
export type Route =
  | { kind: 'server-metadata' }
  | { kind: 'server-live' }
  | { kind: 'server-ready' }
  | { kind: 'model-metadata'; model: string; version?: string }
  | { kind: 'model-ready'; model: string; version?: string }
  | { kind: 'infer'; model: string; version?: string };

/** The HTTP method each route takes. */
export const ROUTE_METHOD: Readonly<Record<Route['kind'], 'GET' | 'POST'>> = {
  'server-metadata': 'GET',
  'server-live': 'GET',
  'server-ready': 'GET',
  'model-metadata': 'GET',
  'model-ready': 'GET',
  infer: 'POST',
};

/** Triton's names for the extensions this package implements, for the server metadata's `extensions`. */
export const EXTENSIONS = ['binary_tensor_data', 'classification'] as const;

function segment(raw: string): string {
  let s: string;
  try {
    s = decodeURIComponent(raw);
  } catch {
    throw new ProtocolError(`the path segment '${raw}' is not valid percent-encoding`, 400);
  }
  if (s === '' || s === '.' || s === '..' || s.includes('/')) {
    throw new ProtocolError(`'${s}' is not a model name or version`, 400);
  }
  return s;
}

/**
 * Matches a method and path (with or without a query string; a trailing slash is allowed) to its route. An
 * unknown path is a ProtocolError 404; a known path with the wrong method is 405 (answer with `Allow`).
 */
export function matchRoute(method: string, path: string): Route {
  const pathname = path.split('?')[0]!;
  const parts = pathname.split('/').filter((p, i, all) => p !== '' || (i > 0 && i < all.length - 1));
  if (parts.some((p) => p === '')) throw new ProtocolError(`no endpoint at ${pathname}`, 404);
  let route: Route | undefined;
  if (parts[0] === 'v2') {
    if (parts.length === 1) route = { kind: 'server-metadata' };
    else if (parts[1] === 'health' && parts.length === 3 && parts[2] === 'live') route = { kind: 'server-live' };
    else if (parts[1] === 'health' && parts.length === 3 && parts[2] === 'ready') route = { kind: 'server-ready' };
    else if (parts[1] === 'models' && parts.length >= 3) {
      const model = segment(parts[2]!);
      let rest = parts.slice(3);
      let version: string | undefined;
      if (rest[0] === 'versions' && rest.length >= 2) {
        version = segment(rest[1]!);
        rest = rest.slice(2);
      }
      const at = version === undefined ? { model } : { model, version };
      if (rest.length === 0) route = { kind: 'model-metadata', ...at };
      else if (rest.length === 1 && rest[0] === 'ready') route = { kind: 'model-ready', ...at };
      else if (rest.length === 1 && rest[0] === 'infer') route = { kind: 'infer', ...at };
    }
  }
  if (!route) throw new ProtocolError(`no endpoint at ${pathname}`, 404);
  const want = ROUTE_METHOD[route.kind];
  if (method.toUpperCase() !== want) {
    throw new ProtocolError(`${pathname} takes ${want}, received ${method.toUpperCase()}`, 405);
  }
  return route;
}
