/** The one copy of oqto.service (src/cli/systemd-unit.ts): its shape for both kinds of runtime dir, and what it refuses. */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { systemdUnit } from "../../src/cli/systemd-unit.ts";
import { runProcess } from "../helpers/run-process.ts";
import { prebuiltBinary } from "./installer-harness.ts";

const scratch = mkdtempSync("/tmp/oqto-unit-");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const defaults = {
  binary: prebuiltBinary(),
  configFile: "/etc/oqto/config.toml",
  dataDir: "/var/lib/oqto",
  logDir: "/var/log/oqto",
  homeBase: "/home",
  runtimeDir: "/run/oqto",
};

async function verify(text: string): Promise<string> {
  const file = join(scratch, "oqto.service");
  writeFileSync(file, text);
  const result = await runProcess(["systemd-analyze", "verify", file]);
  return result.stdout + result.stderr + (result.code === 0 ? "" : `exit ${result.code}`);
}

const lines = (text: string, key: string) =>
  text
    .split("\n")
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));

test("with the default paths systemd makes /run/oqto, and the unit verifies", async () => {
  const unit = systemdUnit(defaults);
  expect(lines(unit, "RuntimeDirectory")).toEqual(["oqto"]);
  expect(lines(unit, "ReadWritePaths")).toEqual([
    "/etc /var/lib/oqto /var/log/oqto /home -/var/log/lastlog -/var/log/faillog",
  ]);
  expect(lines(unit, "ExecStart")).toEqual([
    `${defaults.binary} serve --multi-user --config /etc/oqto/config.toml`,
  ]);
  if (existsSync("/usr/bin/systemd-analyze")) expect(await verify(unit)).toBe("");
});

test("a runtime dir outside /run is a path the service may write instead", async () => {
  const unit = systemdUnit({ ...defaults, runtimeDir: "/srv/oqto-run" });
  expect(lines(unit, "RuntimeDirectory")).toEqual([]);
  expect(lines(unit, "RuntimeDirectoryMode")).toEqual([]);
  expect(lines(unit, "ReadWritePaths")[0]?.split(" ")).toContain("/srv/oqto-run");
  if (existsSync("/usr/bin/systemd-analyze")) expect(await verify(unit)).toBe("");
});

test("a path a unit line would split, quote or expand is refused, naming it", () => {
  expect(() => systemdUnit({ ...defaults, dataDir: "/var/lib/my oqto" })).toThrow(
    "dataDir '/var/lib/my oqto'",
  );
  expect(() => systemdUnit({ ...defaults, homeBase: "/home/%u" })).toThrow("homeBase");
});
