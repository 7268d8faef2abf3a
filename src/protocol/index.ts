export * from "./commands.ts";
export * from "./common.ts";
export * from "./events.ts";
export * from "./message.ts";
export * from "./mux.ts";
export * from "./rest.ts";
export * from "./runner.ts";
