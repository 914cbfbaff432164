// Prompts through the real @arizeai/phoenix-client: createPrompt with promptVersion, getPrompt by
// name, tag and version id, listPrompts, and toSDK for OpenAI and Anthropic, whose requests carry
// the same messages and parameters `ember prompts render` builds.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";

import { createClient } from "@arizeai/phoenix-client";
import { createPrompt, getPrompt, listPrompts, promptVersion, toSDK } from "@arizeai/phoenix-client/prompts";

import { emberBinary, startEmber } from "./ember.mjs";

let ember;
before(async () => {
  ember = await startEmber();
});
after(async () => {
  assert.equal(await ember.stop(), 0);
});

function render(...args) {
  const output = execFileSync(emberBinary(), ["prompts", "render", ...args], {
    env: { PATH: "/usr/bin:/bin", PHOENIX_ENDPOINT: ember.url },
    encoding: "utf8",
  });
  return JSON.parse(output);
}

// The request as JSON: toSDK leaves unused fields as `undefined`, which JSON drops.
const asJson = (value) => JSON.parse(JSON.stringify(value));

// The TypeScript client keeps a one-text-part content as a list where the Python client (and
// ember) send the text itself; the two mean the same request.
function plainContent(messages) {
  return messages.map((message) =>
    Array.isArray(message.content) && message.content.length === 1 && message.content[0].type === "text"
      ? { ...message, content: message.content[0].text }
      : message,
  );
}

test("createPrompt, getPrompt and toSDK render what ember renders", async () => {
  const client = createClient({ options: { baseUrl: ember.url } });
  const first = await createPrompt({
    client,
    name: "ts-greeter",
    description: "greets visitors",
    version: promptVersion({
      modelProvider: "OPENAI",
      modelName: "gpt-4o-mini",
      template: [
        { role: "system", content: "You greet {{ place }} visitors." },
        { role: "user", content: [{ type: "text", text: "Hi, I am {{name}}" }] },
      ],
      invocationParameters: { temperature: 0.4, max_tokens: 64 },
    }),
  });
  assert.deepEqual(first.invocation_parameters, { type: "openai", openai: { temperature: 0.4, max_tokens: 64 } });
  assert.equal(first.description, "");
  const second = await createPrompt({
    client,
    name: "ts-greeter",
    version: promptVersion({
      modelProvider: "OPENAI",
      modelName: "gpt-4o",
      template: [{ role: "user", content: "Hello, {{name}}" }],
    }),
  });
  assert.notEqual(second.id, first.id);

  // Latest by name, a version by id, and a tagged version.
  assert.equal((await getPrompt({ client, prompt: { name: "ts-greeter" } })).id, second.id);
  const byId = await getPrompt({ client, prompt: { versionId: first.id } });
  assert.deepEqual(byId, first);
  const tagged = await fetch(`${ember.url}/v1/prompt_versions/${first.id}/tags`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "production" }),
  });
  assert.equal(tagged.status, 204);
  assert.equal((await getPrompt({ client, prompt: { name: "ts-greeter", tag: "production" } })).id, first.id);
  assert.equal(await getPrompt({ client, prompt: { name: "ts-greeter", tag: "staging" } }), null);

  const openai = asJson(toSDK({ sdk: "openai", prompt: byId, variables: { place: "Paris", name: "Ann" } }));
  assert.deepEqual(openai, {
    model: "gpt-4o-mini",
    temperature: 0.4,
    max_tokens: 64,
    messages: [
      { role: "system", content: "You greet Paris visitors." },
      { role: "user", content: [{ type: "text", text: "Hi, I am Ann" }] },
    ],
  });
  const rendered = render("ts-greeter", "--tag", "production", "--var", "place=Paris", "--var", "name=Ann");
  assert.deepEqual({ ...openai, messages: plainContent(openai.messages) }, rendered);

  const claude = await createPrompt({
    client,
    name: "ts-claude",
    version: promptVersion({
      modelProvider: "ANTHROPIC",
      modelName: "claude-sonnet-4-5",
      template: [{ role: "user", content: "Hi, I am {{name}}" }],
      invocationParameters: { max_tokens: 512, temperature: 0.1 },
    }),
  });
  const anthropic = asJson(
    toSDK({ sdk: "anthropic", prompt: await getPrompt({ client, prompt: { versionId: claude.id } }), variables: { name: "Ann" } }),
  );
  assert.deepEqual(anthropic, {
    model: "claude-sonnet-4-5",
    max_tokens: 512,
    temperature: 0.1,
    messages: [{ role: "user", content: [{ type: "text", text: "Hi, I am Ann" }] }],
  });
  const renderedClaude = render("ts-claude", "--var", "name=Ann");
  assert.deepEqual({ ...anthropic, messages: plainContent(anthropic.messages) }, renderedClaude);

  const names = (await listPrompts({ client })).map((prompt) => prompt.name);
  assert.deepEqual(names, ["ts-claude", "ts-greeter"]);
});
