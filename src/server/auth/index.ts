import { dataPaths } from "../../config/paths.ts";
import type { Config } from "../../config/schema.ts";
import type { Store } from "../store/index.ts";
import { resolveJwtSecret, TokenService } from "./jwt.ts";
import { type AuthGuard, createAuthGuard } from "./middleware.ts";
import { AllowedOrigins } from "./origin.ts";
import { AuthRateLimiter } from "./rate-limit.ts";

export { type AppEnv, type AuthUser, type CredentialRef, type Identity, requireAdmin } from "./middleware.ts";
export { mintSetupToken } from "./setup-token.ts";

/** Everything the app needs for authentication, built once per `oqto serve`. */
export interface Auth extends AuthGuard {
  tokens: TokenService;
  rateLimiter: AuthRateLimiter;
  /** serve adds its own listening address once it knows its port. */
  origins: AllowedOrigins;
}

export interface AuthDeps {
  config: Config;
  store: Store;
  /** Where the generated JWT secret lives when `auth.jwt_secret` is not configured. */
  dataDir: string;
}

export function createAuth({ config, store, dataDir }: AuthDeps): Auth {
  const tokens = new TokenService(
    resolveJwtSecret(config, dataPaths(dataDir).jwtSecret),
    config.auth.token_ttl_s,
  );
  const origins = new AllowedOrigins(config);
  return {
    ...createAuthGuard({ origins, store, tokens }),
    tokens,
    rateLimiter: new AuthRateLimiter(),
    origins,
  };
}
