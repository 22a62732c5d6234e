import { describe, expect, it } from 'vitest';
import { matchRoute } from './routes.js';
import { ProtocolError } from './types.js';

describe('the endpoints of inference_rest.md', () => {
  const table: [string, string, unknown][] = [
    ['POST', '/v2/models/mymodel/infer', { kind: 'infer', model: 'mymodel' }],
    ['POST', '/v2/models/mymodel/versions/v10/infer', { kind: 'infer', model: 'mymodel', version: 'v10' }],
    ['GET', '/v2/models/my_model', { kind: 'model-metadata', model: 'my_model' }],
    ['GET', '/v2/models/my_model/versions/v10', { kind: 'model-metadata', model: 'my_model', version: 'v10' }],
    ['GET', '/v2/health/ready', { kind: 'server-ready' }],
    ['GET', '/v2/health/live', { kind: 'server-live' }],
    ['GET', '/v2', { kind: 'server-metadata' }],
    ['GET', '/v2/', { kind: 'server-metadata' }], // the OpenAPI file spells it /v2/
    ['GET', '/v2/models/m/ready', { kind: 'model-ready', model: 'm' }],
    ['GET', '/v2/models/m/versions/1/ready?x=1', { kind: 'model-ready', model: 'm', version: '1' }],
    ['GET', '/v2/models/a%20b', { kind: 'model-metadata', model: 'a b' }],
    // A model may be named like an endpoint word.
    ['GET', '/v2/models/ready', { kind: 'model-metadata', model: 'ready' }],
    ['GET', '/v2/models/versions/ready', { kind: 'model-ready', model: 'versions' }],
  ];
  for (const [method, path, route] of table) {
    it(`${method} ${path}`, () => expect(matchRoute(method, path)).toEqual(route));
  }

  const refused: [string, string, number, string][] = [
    ['GET', '/v1/models/m', 404, 'no endpoint at /v1/models/m'],
    ['GET', '/v2/models', 404, 'no endpoint at /v2/models'],
    ['GET', '/v2/models/m/versions', 404, 'no endpoint at /v2/models/m/versions'],
    ['GET', '/v2/models/m/infer/x', 404, 'no endpoint at /v2/models/m/infer/x'],
    ['GET', '/v2//models/m', 404, 'no endpoint at /v2//models/m'],
    ['GET', '/v2/models/m/infer', 405, '/v2/models/m/infer takes POST, received GET'],
    ['POST', '/v2/health/live', 405, '/v2/health/live takes GET, received POST'],
    ['GET', '/v2/models/%2E%2E', 400, "'..' is not a model name or version"],
    ['GET', '/v2/models/a%2Fb', 400, "'a/b' is not a model name or version"],
    ['GET', '/v2/models/%E0%A4%A', 400, "the path segment '%E0%A4%A' is not valid percent-encoding"],
  ];
  for (const [method, path, status, message] of refused) {
    it(`refuses ${method} ${path} (${status})`, () => {
      let error: unknown;
      try {
        matchRoute(method, path);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ProtocolError);
      expect([(error as ProtocolError).status, (error as ProtocolError).message]).toEqual([status, message]);
    });
  }
});
