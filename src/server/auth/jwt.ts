import { jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import type { Config } from "../../config/schema.ts";
import { Role } from "../../protocol/rest.ts";
import { loadOrCreateSecretFile } from "../../shared/secret-file.ts";

export const TOKEN_ISSUER = "oqto";
const ALGORITHM = "HS256";
const MIN_SECRET_BYTES = 32;

/** The claims Oqto puts in (and demands from) every session token. */
export const TokenClaims = z.object({
  sub: z.string().min(1),
  role: Role,
  tv: z.number().int().nonnegative(),
  iss: z.literal(TOKEN_ISSUER),
  iat: z.number(),
  exp: z.number(),
});
export type TokenClaims = z.infer<typeof TokenClaims>;

/**
 * The HS256 signing secret: `auth.jwt_secret` when configured, else the secret file in the data dir,
 * generated at first start and reused afterwards so that tokens survive restarts.
 */
export function resolveJwtSecret(config: Config, secretFile: string): Uint8Array {
  if (config.auth.jwt_secret !== undefined) return new TextEncoder().encode(config.auth.jwt_secret);
  return new TextEncoder().encode(loadOrCreateSecretFile(secretFile, "a JWT secret", MIN_SECRET_BYTES));
}

export interface TokenSubject {
  id: string;
  role: z.infer<typeof Role>;
  tv: number;
}

/** Signs and verifies session tokens (HS256, issuer "oqto", lifetime `auth.token_ttl_s`). */
export class TokenService {
  constructor(
    private readonly secret: Uint8Array,
    readonly ttlS: number,
  ) {}

  sign(user: TokenSubject): Promise<string> {
    const iat = Math.floor(Date.now() / 1000);
    return new SignJWT({ role: user.role, tv: user.tv })
      .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
      .setSubject(user.id)
      .setIssuer(TOKEN_ISSUER)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.ttlS)
      .sign(this.secret);
  }

  /** The token's claims, or null for anything not signed by us, expired, or missing a claim. */
  async verify(token: string): Promise<TokenClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.secret, {
        issuer: TOKEN_ISSUER,
        algorithms: [ALGORITHM],
      });
      const claims = TokenClaims.safeParse(payload);
      return claims.success ? claims.data : null;
    } catch {
      return null;
    }
  }
}
