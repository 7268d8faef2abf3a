import { describe, expect, test } from "bun:test";
import { ConfigError, parseConfig } from "../../src/config/load.ts";

describe("config", () => {
  test("defaults apply to an empty file", () => {
    const config = parseConfig("");
    expect(config.server.port).toBe(8080);
    expect(config.runner.replay_buffer_events).toBe(2048);
  });

  test("an unknown key is an error that names it", () => {
    expect(() => parseConfig("[server]\nprot = 1\n")).toThrow("unknown key 'server.prot'");
    expect(() => parseConfig("surprise = true\n")).toThrow("unknown key 'surprise'");
    expect(() => parseConfig("[nope]\n")).toThrow("unknown key 'nope'");
  });

  test("a wrong type names the key", () => {
    expect(() => parseConfig('[server]\nport = "eighty"\n')).toThrow(/server\.port/);
    expect(() => parseConfig('[auth]\njwt_secret = "short"\n')).toThrow(/at least 32 bytes/);
  });

  test("public_url must be an http(s) URL", () => {
    expect(parseConfig('[server]\npublic_url = "https://oqto.example.com"\n').server.public_url).toBe(
      "https://oqto.example.com",
    );
    expect(() => parseConfig('[server]\npublic_url = "ftp://oqto.example.com"\n')).toThrow(
      /server\.public_url/,
    );
    expect(() => parseConfig('[server]\npublic_url = "oqto.example.com"\n')).toThrow(/server\.public_url/);
  });

  test("invalid TOML is a ConfigError", () => {
    expect(() => parseConfig("[server\n")).toThrow(ConfigError);
  });
});
