// Starts the real `ember` binary on OS-assigned loopback ports (SQLite in a temporary
// directory, or with EMBER_TEST_BACKEND=postgresql a fresh schema on EMBER_TEST_POSTGRES_URL).
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const repo = resolve(fileURLToPath(new URL("../..", import.meta.url)));

export function emberBinary() {
  return process.env.EMBER_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(repo, "target"), "debug", "ember");
}

export async function startEmber(extraEnv = {}) {
  const binary = emberBinary();
  const env = { ...process.env, PHOENIX_HOST: "127.0.0.1", PHOENIX_PORT: "0", PHOENIX_GRPC_PORT: "0", ...extraEnv };
  env.PHOENIX_WORKING_DIR = mkdtempSync(join(tmpdir(), "ember-ts-"));
  delete env.PHOENIX_SQL_DATABASE_URL;
  delete env.PHOENIX_SQL_DATABASE_SCHEMA;
  if ((process.env.EMBER_TEST_BACKEND ?? "sqlite") === "postgresql") {
    env.PHOENIX_SQL_DATABASE_URL = process.env.EMBER_TEST_POSTGRES_URL;
    env.PHOENIX_SQL_DATABASE_SCHEMA = `compat_ts_${randomUUID().replaceAll("-", "")}`;
  }
  const child = spawn(binary, ["serve"], { env, stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const [line] = await Promise.race([
    (async () => {
      for await (const line of lines) return [line];
      return [""];
    })(),
    new Promise((_, reject) => child.once("exit", (code) => reject(new Error(`ember exited with ${code}`)))),
  ]);
  const fields = Object.fromEntries(line.split(" ").filter((word) => word.includes("=")).map((word) => word.split("=", 2)));
  if (!fields.http) throw new Error(`ember did not start: ${line}`);
  return {
    url: `http://${fields.http}`,
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      return exited;
    },
  };
}
