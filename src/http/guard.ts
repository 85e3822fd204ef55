// Start-time checks that keep the agent from being an open door (docs/security.md). Pure.
import { isIP } from 'node:net';

/** Tokens: printable ASCII without space (what a bearer header can carry), 16 to 1024 characters. */
export const MIN_TOKEN_CHARS = 16;
export const MAX_TOKEN_CHARS = 1024;

/** Parses "host:port" ("[::1]:9465" for IPv6; an empty host is 127.0.0.1); port 0 picks a free one. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`listen: expected host:port, got ${JSON.stringify(listen)}`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** Only addresses no other machine can reach: 127.0.0.0/8, ::1, ::ffff:127.x and the name localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** Why a token is refused (never quoting it), or null. */
export function checkToken(token: string): string | null {
  if (!/^[\x21-\x7e]*$/.test(token)) {
    return 'invalid token: only printable ASCII without spaces (0x21-0x7e) can be sent in an Authorization header';
  }
  if (token.length < MIN_TOKEN_CHARS) return `invalid token: at least ${MIN_TOKEN_CHARS} characters (got ${token.length}); e.g. openssl rand -hex 32`;
  if (token.length > MAX_TOKEN_CHARS) return `invalid token: at most ${MAX_TOKEN_CHARS} characters`;
  return null;
}

/** Why serving on `listen` is refused, or null: a non-loopback address needs a token or the unsafe flag. */
export function checkListenGuard(listen: string, hasToken: boolean, unsafeWithoutToken: boolean): string | null {
  const { host } = parseListen(listen);
  if (isLoopbackHost(host) || hasToken || unsafeWithoutToken) return null;
  return (
    `refusing --listen ${listen} without a token: anyone who can reach ${host} would read every run and team. ` +
    'Set --token-file (or --token), listen on 127.0.0.1, or pass --unsafe-listen-without-token'
  );
}
