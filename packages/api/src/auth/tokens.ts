/**
 * Who is asking: bearer JWTs verified with `jose` (panva/jose: the maintained, dependency-free JOSE implementation
 * for Node and browsers). A token's `sub` is the user ID it speaks for; a `scope` claim (space-separated, or an
 * array) containing `admin` may act for every user. Keys: an HS256 secret (MOVIEREC_JWT_SECRET, ≥ 32 bytes), and/or
 * a JWKS URL or a PEM public key (RS256/ES256/EdDSA …) for tokens issued elsewhere.
 *
 * Modes: `jwt` (tokens required for a user's own data), `demo` (the same, plus POST /auth/demo hands out short-lived
 * tokens for any user ID: loopback only, for the web page and the main job), `off` (no checks: loopback only unless
 * explicitly allowed with `insecureNoAuth`).
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import {
  createRemoteJWKSet,
  importSPKI,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from 'jose';

export type AuthMode = 'jwt' | 'demo' | 'off';

export interface AuthOptions {
  /** Default: `jwt` when a key is configured, else `demo` on a loopback host (refused on other hosts). */
  mode?: AuthMode;
  /** HS256 shared secret (MOVIEREC_JWT_SECRET); at least 32 bytes. `demo` mode makes a random one when absent. */
  secret?: string;
  /** URL of a JSON Web Key Set (MOVIEREC_JWKS_URL) for asymmetric tokens. */
  jwksUrl?: string;
  /** A PEM SPKI public key (MOVIEREC_JWT_PUBLIC_KEY) and its algorithm (MOVIEREC_JWT_ALG, default RS256). */
  publicKey?: string;
  publicKeyAlg?: string;
  /** Required `iss` / `aud` when set (MOVIEREC_JWT_ISSUER / MOVIEREC_JWT_AUDIENCE). */
  issuer?: string;
  audience?: string;
  /** Allow `off` on a host other than loopback (CLI --insecure-no-auth, or MOVIEREC_AUTH=off). */
  insecureNoAuth?: boolean;
  /** Lifetime of demo tokens in seconds (default 3600). */
  demoTtlSeconds?: number;
}

/** The caller: the user ID their token speaks for (null: anonymous) and whether it has the admin scope. */
export interface Identity {
  sub: string | null;
  admin: boolean;
}

export const ANONYMOUS: Identity = Object.freeze({ sub: null, admin: false });
const EVERYONE: Identity = Object.freeze({ sub: null, admin: true });

/** A refused token (HTTP 401 with `WWW-Authenticate: Bearer error="invalid_token"`). */
export class AuthError extends Error {}

/** True for 127.0.0.0/8, ::1, localhost and the IPv4-mapped loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

export interface Authenticator {
  readonly mode: AuthMode;
  /** The identity of a request from its Authorization header; throws AuthError for a bad token. */
  identify(authorization: string | undefined): Promise<Identity>;
  /** Signs an HS256 token (needs a secret): `movierec token`, and POST /auth/demo in demo mode. */
  mint(sub: string, options?: { scope?: string; ttlSeconds?: number }): Promise<string>;
  readonly demoTtlSeconds: number;
}

/** Reads MOVIEREC_AUTH, MOVIEREC_JWT_SECRET, MOVIEREC_JWKS_URL, MOVIEREC_JWT_PUBLIC_KEY, … into AuthOptions. */
export function authOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): AuthOptions {
  const mode = env.MOVIEREC_AUTH;
  if (mode !== undefined && mode !== '' && mode !== 'jwt' && mode !== 'demo' && mode !== 'off')
    throw new Error(`MOVIEREC_AUTH must be jwt, demo or off, got ${JSON.stringify(mode)}`);
  return {
    ...(mode ? { mode: mode as AuthMode, ...(mode === 'off' ? { insecureNoAuth: true } : {}) } : {}),
    ...(env.MOVIEREC_JWT_SECRET ? { secret: env.MOVIEREC_JWT_SECRET } : {}),
    ...(env.MOVIEREC_JWKS_URL ? { jwksUrl: env.MOVIEREC_JWKS_URL } : {}),
    ...(env.MOVIEREC_JWT_PUBLIC_KEY ? { publicKey: env.MOVIEREC_JWT_PUBLIC_KEY } : {}),
    ...(env.MOVIEREC_JWT_ALG ? { publicKeyAlg: env.MOVIEREC_JWT_ALG } : {}),
    ...(env.MOVIEREC_JWT_ISSUER ? { issuer: env.MOVIEREC_JWT_ISSUER } : {}),
    ...(env.MOVIEREC_JWT_AUDIENCE ? { audience: env.MOVIEREC_JWT_AUDIENCE } : {}),
  };
}

function secretKey(secret: string): Uint8Array {
  const key = new TextEncoder().encode(secret);
  if (key.length < 32)
    throw new Error(
      `the JWT secret (MOVIEREC_JWT_SECRET) must be at least 32 bytes for HS256, got ${key.length}`,
    );
  return key;
}

/** Signs an HS256 token for `sub` with `secret` (what `movierec token` prints). */
export async function mintToken(
  secret: string,
  sub: string,
  options: { scope?: string; ttlSeconds?: number; issuer?: string; audience?: string } = {},
): Promise<string> {
  let jwt = new SignJWT(options.scope ? { scope: options.scope } : {})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds ?? 3600}s`);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(secretKey(secret));
}

function hasAdminScope(payload: JWTPayload): boolean {
  const scope = payload.scope ?? payload.scp;
  const scopes = Array.isArray(scope) ? scope.map(String) : typeof scope === 'string' ? scope.split(' ') : [];
  return scopes.includes('admin');
}

/**
 * Builds the authenticator for a server listening on `host`, refusing (with a message saying what to set) a
 * configuration that would serve users' data without authentication on a non-loopback host.
 */
export async function createAuthenticator(options: AuthOptions, host: string): Promise<Authenticator> {
  const loopback = isLoopbackHost(host);
  const hasKey = Boolean(options.secret || options.jwksUrl || options.publicKey);
  const mode: AuthMode = options.mode ?? (hasKey ? 'jwt' : 'demo');
  if (mode === 'off' && !loopback && !options.insecureNoAuth) {
    throw new Error(
      `refusing to start: authentication is off and the server would listen on ${host}, which is not loopback; ` +
        'anyone who can reach it could read every rating history and rate as any user. Configure tokens ' +
        '(MOVIEREC_JWT_SECRET or MOVIEREC_JWKS_URL), or pass --insecure-no-auth / MOVIEREC_AUTH=off if you really mean it',
    );
  }
  if (mode === 'demo' && !loopback) {
    throw new Error(
      `refusing to start: demo authentication (anyone may take a token for any user at POST /auth/demo) is for a ` +
        `loopback host only, and the server would listen on ${host}. Set MOVIEREC_JWT_SECRET (or MOVIEREC_JWKS_URL / ` +
        'MOVIEREC_JWT_PUBLIC_KEY) to require real tokens, or HOST=127.0.0.1',
    );
  }
  if (mode === 'jwt' && !hasKey) {
    throw new Error(
      'MOVIEREC_AUTH=jwt needs a key to verify tokens: MOVIEREC_JWT_SECRET, MOVIEREC_JWKS_URL or MOVIEREC_JWT_PUBLIC_KEY',
    );
  }
  const demoTtlSeconds = options.demoTtlSeconds ?? 3600;
  const secret = options.secret ?? (mode === 'demo' ? randomBytes(32).toString('base64url') : undefined);
  const hmac = secret !== undefined ? secretKey(secret) : undefined;
  let remote: JWTVerifyGetKey | undefined;
  if (options.jwksUrl) remote = createRemoteJWKSet(new URL(options.jwksUrl));
  else if (options.publicKey) {
    const alg = options.publicKeyAlg ?? 'RS256';
    const key = await importSPKI(options.publicKey, alg);
    remote = async () => key;
  }
  const verifyOptions = {
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  };

  return {
    mode,
    demoTtlSeconds,
    async identify(authorization) {
      if (mode === 'off') return EVERYONE;
      if (authorization === undefined || authorization === '') return ANONYMOUS;
      const m = /^Bearer ([A-Za-z0-9_\-.]+)$/i.exec(authorization.trim());
      if (m === null) throw new AuthError('the Authorization header must be "Bearer <JWT>"');
      const token = m[1]!;
      let payload: JWTPayload;
      try {
        const alg = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')).alg;
        if (alg === 'HS256') {
          if (hmac === undefined)
            throw new AuthError('HS256 tokens are not accepted here (no secret configured)');
          payload = (await jwtVerify(token, hmac, { ...verifyOptions, algorithms: ['HS256'] })).payload;
        } else {
          if (remote === undefined)
            throw new AuthError(`tokens signed with ${String(alg)} are not accepted here`);
          payload = (await jwtVerify(token, remote, verifyOptions)).payload;
        }
      } catch (err) {
        if (err instanceof AuthError) throw err;
        throw new AuthError(`invalid token: ${(err as Error).message}`);
      }
      if (typeof payload.sub !== 'string' || payload.sub === '')
        throw new AuthError('invalid token: no "sub" claim (the user ID the token speaks for)');
      return { sub: payload.sub, admin: hasAdminScope(payload) };
    },
    async mint(sub, opts = {}) {
      if (secret === undefined) throw new Error('cannot mint tokens: no HS256 secret configured');
      return mintToken(secret, sub, {
        ...opts,
        ...(options.issuer ? { issuer: options.issuer } : {}),
        ...(options.audience ? { audience: options.audience } : {}),
      });
    },
  };
}
