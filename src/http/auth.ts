// Optional bearer token. Compared through SHA-256 digests with timingSafeEqual: constant time, and
// equal lengths whatever the client sends. The scheme name is case-insensitive (RFC 7235 §2.1), so
// `bearer x` and `BEARER x` are the same credentials as `Bearer x`.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function tokenMatches(expected: string, header: string | undefined): boolean {
  const m = /^bearer +([\x21-\x7e]{1,1024})$/i.exec(header ?? '');
  const given = m ? m[1] : '';
  // Always compare, even without a token in the request, so timing says nothing either way.
  const same = timingSafeEqual(digest(expected), digest(given));
  return m !== null && same;
}

export function requireToken(token: string): RequestHandler {
  return (req, res, next) => {
    if (tokenMatches(token, req.get('authorization'))) return next();
    res.set('WWW-Authenticate', 'Bearer realm="flare-agent"');
    res.status(401).json({ error: 'authorization: a valid bearer token is required' });
  };
}
