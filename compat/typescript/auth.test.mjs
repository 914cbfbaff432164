// Authentication on (PHOENIX_ENABLE_AUTH) through the real @arizeai/phoenix-client: without a key
// every call is a 401; with PHOENIX_API_KEY (a system key an admin made) the client reads and
// writes; a viewer's key reads and is refused writes (403).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { createClient } from "@arizeai/phoenix-client";
import { createDataset, getDatasetInfo } from "@arizeai/phoenix-client/datasets";

import { startEmber } from "./ember.mjs";

const ADMIN_SECRET = "ts-admin-secret-0123456789abcdefghijk";
let ember;
let systemKey;
let viewerKey;

before(async () => {
  ember = await startEmber({
    PHOENIX_ENABLE_AUTH: "true",
    PHOENIX_SECRET: "ts-server-secret-0123456789abcdefghij",
    PHOENIX_ADMIN_SECRET: ADMIN_SECRET,
  });
  const admin = { authorization: `Bearer ${ADMIN_SECRET}`, "content-type": "application/json" };
  const post = (path, body, headers) => fetch(`${ember.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  const system = await post("/v1/system/api_keys", { data: { name: "ts" } }, admin);
  assert.equal(system.status, 201);
  systemKey = (await system.json()).data.key;
  const viewer = { email: "viewer@example.com", username: "viewer", role: "VIEWER", auth_method: "LOCAL", password: "viewer-pass" };
  assert.equal((await post("/v1/users", { user: viewer }, admin)).status, 201);
  const login = await post("/auth/login", { email: viewer.email, password: viewer.password }, { "content-type": "application/json" });
  assert.equal(login.status, 204);
  const cookie = login.headers.getSetCookie().find((line) => line.startsWith("phoenix-access-token=")).split(";")[0];
  const personal = await post("/v1/user/api_keys", { data: { name: "mine" } }, { cookie, "content-type": "application/json" });
  assert.equal(personal.status, 201);
  viewerKey = (await personal.json()).data.key;
});

after(async () => {
  assert.equal(await ember.stop(), 0);
});

function clientWith(key) {
  const saved = process.env.PHOENIX_API_KEY;
  if (key) process.env.PHOENIX_API_KEY = key;
  else delete process.env.PHOENIX_API_KEY;
  try {
    return createClient({ options: { baseUrl: ember.url } });
  } finally {
    if (saved === undefined) delete process.env.PHOENIX_API_KEY;
    else process.env.PHOENIX_API_KEY = saved;
  }
}

test("without a key every call is refused", async () => {
  await assert.rejects(clientWith(undefined).GET("/v1/projects"), /401 Unauthorized/);
});

test("PHOENIX_API_KEY reads and writes as its holder", async () => {
  const system = clientWith(systemKey);
  const { datasetId } = await createDataset({
    client: system,
    name: "keyed",
    description: "made with a system key",
    examples: [{ input: { q: "hi" }, output: { a: "hello" }, metadata: {} }],
  });
  assert.ok(datasetId);
  const viewer = clientWith(viewerKey);
  const info = await getDatasetInfo({ client: viewer, dataset: { datasetId } });
  assert.equal(info.name, "keyed");
  await assert.rejects(
    createDataset({ client: viewer, name: "refused", description: "", examples: [{ input: {}, output: {}, metadata: {} }] }),
    /403|Forbidden|Viewers/,
  );
});
