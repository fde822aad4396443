import { type Command, intFlag, stringFlag } from '../framework/command.ts';
import { CliError } from '../framework/errors.ts';

/** Mints an HS256 bearer token with MOVIEREC_JWT_SECRET, for operators and scripts (see packages/api, Security). */
export const tokenCommand: Command = {
  name: 'token',
  summary: 'print a bearer token for the API, signed with MOVIEREC_JWT_SECRET (--sub user ID, --scope admin)',
  options: {
    sub: { type: 'string', valueName: 'userId', description: 'the user ID the token speaks for (required)' },
    scope: {
      type: 'string',
      valueName: 'scopes',
      description: 'space-separated scopes; "admin" acts for every user',
    },
    ttl: { type: 'string', valueName: 'seconds', description: 'lifetime', defaultText: '3600' },
  },
  details:
    'The server must verify with the same secret (MOVIEREC_JWT_SECRET, at least 32 bytes). Use the token as ' +
    '`Authorization: Bearer <token>`.',
  examples: [
    'MOVIEREC_JWT_SECRET=<32+ bytes> movierec token --sub 1',
    'MOVIEREC_JWT_SECRET=<32+ bytes> movierec token --sub ops --scope admin --ttl 600',
  ],
  async run(ctx, input) {
    const sub = stringFlag(input.values, 'sub');
    if (sub === undefined || sub === '')
      throw new CliError('--sub: the user ID the token is for is required');
    const ttl = intFlag(input.values, 'ttl', 1) ?? 3600;
    const secret = ctx.env.MOVIEREC_JWT_SECRET;
    if (secret === undefined || secret === '')
      throw new CliError(
        'MOVIEREC_JWT_SECRET is not set: the token is signed with the secret the server verifies with',
      );
    const { mintToken } = await import('@movierec/api');
    const scope = stringFlag(input.values, 'scope');
    let token: string;
    try {
      token = await mintToken(secret, sub, {
        ttlSeconds: ttl,
        ...(scope ? { scope } : {}),
        ...(ctx.env.MOVIEREC_JWT_ISSUER ? { issuer: ctx.env.MOVIEREC_JWT_ISSUER } : {}),
        ...(ctx.env.MOVIEREC_JWT_AUDIENCE ? { audience: ctx.env.MOVIEREC_JWT_AUDIENCE } : {}),
      });
    } catch (error) {
      throw new CliError((error as Error).message);
    }
    ctx.print(token);
    return { token, sub, scope: scope ?? null, expiresIn: ttl };
  },
};
