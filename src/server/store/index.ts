import type { Database } from "bun:sqlite";
import { dataPaths } from "../../config/paths.ts";
import { ApiKeyStore } from "./api-keys.ts";
import { AuditLogStore } from "./audit-log.ts";
import { openDatabase } from "./database.ts";
import { EavsKeyStore } from "./eavs-keys.ts";
import { InviteCodeStore } from "./invite-codes.ts";
import { LlmLimitsStore } from "./llm-limits.ts";
import { LlmUsageStore } from "./llm-usage.ts";
import { ProviderStore } from "./providers.ts";
import { SessionStore } from "./sessions.ts";
import { SetupTokenStore } from "./setup-tokens.ts";
import { UserStore } from "./users.ts";

export type { ApiKeyRecord } from "./api-keys.ts";
export type { AuditQuery, AuditRecord, NewAuditEntry } from "./audit-log.ts";
export type { EavsKeyRecord, EavsRevocationRecord } from "./eavs-keys.ts";
export type { InviteCodeRecord } from "./invite-codes.ts";
export type { UsageEntry, UsageQuery } from "./llm-usage.ts";
export { usageDay } from "./llm-usage.ts";
export type { ProviderRecord, ProviderWrite } from "./providers.ts";
export type { SessionClaim, SessionRecord } from "./sessions.ts";
export { type NewUser, toPublicUser, type UserRecord } from "./users.ts";

/** The platform DB (users, setup tokens, providers, session ownership, API keys, audit log, invite codes, LLM usage and limits, eavs keys), one typed accessor per table domain. */
export interface Store {
  readonly db: Database;
  readonly users: UserStore;
  readonly setupTokens: SetupTokenStore;
  readonly providers: ProviderStore;
  readonly sessions: SessionStore;
  readonly apiKeys: ApiKeyStore;
  readonly audit: AuditLogStore;
  readonly invites: InviteCodeStore;
  readonly llmUsage: LlmUsageStore;
  readonly llmLimits: LlmLimitsStore;
  readonly eavsKeys: EavsKeyStore;
  close(): void;
}

/** Opens the platform DB in `dataDir` (`dataPaths(dataDir).db`), creating and migrating it as needed. */
export function openStore(dataDir: string): Store {
  const db = openDatabase(dataPaths(dataDir).db);
  return {
    db,
    users: new UserStore(db),
    setupTokens: new SetupTokenStore(db),
    providers: new ProviderStore(db),
    sessions: new SessionStore(db),
    apiKeys: new ApiKeyStore(db),
    audit: new AuditLogStore(db),
    invites: new InviteCodeStore(db),
    llmUsage: new LlmUsageStore(db),
    llmLimits: new LlmLimitsStore(db),
    eavsKeys: new EavsKeyStore(db),
    close: () => db.close(),
  };
}
