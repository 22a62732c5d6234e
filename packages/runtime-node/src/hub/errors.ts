/**
 * Every failure of the hub code, as one line that names the weights, the URL and the cache path, and says what to
 * do. `code` tells a caller (and the tests) which case it was without parsing the message.
 */
export type HubErrorCode =
  | 'offline' // offline mode and not in the cache
  | 'no-network' // the host cannot be reached (DNS, refused, unreachable)
  | 'not-found' // 404
  | 'unauthorized' // 401/403: a token is needed
  | 'timeout'
  | 'http' // another HTTP status, after the retries
  | 'redirect' // a loop, too many, or a redirect we refuse (downgrade to http)
  | 'too-large' // Content-Length or the body over the cap
  | 'hash-mismatch'
  | 'truncated' // the body ended before its length, after the retries
  | 'bad-answer' // a header we cannot use (no ETag, a commit that is not a hash, a path)
  | 'cache' // the cache folder cannot be written
  | 'lock'; // another process held the lock past the wait

export class HubError extends Error {
  constructor(
    readonly code: HubErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HubError';
  }
}
