// Datasets and experiments through the real @arizeai/phoenix-client: createDataset, then
// runExperiment with evaluators made by asEvaluator; the stored runs and evaluations are read
// back over REST and checked value by value.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { createClient } from "@arizeai/phoenix-client";
import { createDataset, getDatasetExamples } from "@arizeai/phoenix-client/datasets";
import { asEvaluator, runExperiment } from "@arizeai/phoenix-client/experiments";

import { startEmber } from "./ember.mjs";

let ember;
before(async () => {
  ember = await startEmber();
});
after(async () => {
  assert.equal(await ember.stop(), 0);
});

async function getJson(path) {
  const response = await fetch(`${ember.url}${path}`);
  assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
  return response.json();
}

test("createDataset and runExperiment with asEvaluator store runs and evaluations", async () => {
  const client = createClient({ options: { baseUrl: ember.url } });
  const { datasetId } = await createDataset({
    client,
    name: "ts-arithmetic",
    description: "sums",
    examples: [
      { input: { question: "1+1" }, output: { answer: "2" }, metadata: { level: "easy" } },
      { input: { question: "2+3" }, output: { answer: "5" }, metadata: { level: "easy" } },
      { input: { question: "9+9" }, output: { answer: "17" }, metadata: { level: "hard" } },
    ],
  });
  const examples = await getDatasetExamples({ client, dataset: { datasetId } });
  assert.deepEqual(
    examples.examples.map((example) => example.input),
    [{ question: "1+1" }, { question: "2+3" }, { question: "9+9" }],
  );

  const add = async (example) => {
    const [left, right] = example.input.question.split("+").map(Number);
    return { answer: String(left + right) };
  };
  const exact = asEvaluator({
    name: "exact",
    kind: "CODE",
    evaluate: async ({ output, expected }) => {
      const right = output.answer === expected.answer;
      return { score: right ? 1 : 0, label: right ? "right" : "wrong", explanation: `expected ${expected.answer}` };
    },
  });
  const length = asEvaluator({
    name: "length",
    kind: "CODE",
    evaluate: async ({ output }) => ({ score: output.answer.length }),
  });
  const ran = await runExperiment({
    client,
    dataset: { datasetId },
    experimentName: "ts-add",
    experimentMetadata: { runner: "node" },
    task: add,
    evaluators: [exact, length],
    logger: { log() {}, info() {}, error() {}, warn() {}, debug() {}, table() {} },
  });

  const experiment = (await getJson(`/v1/experiments/${ran.id}`)).data;
  assert.equal(experiment.name, "ts-add");
  assert.deepEqual(experiment.metadata, { runner: "node" });
  assert.equal(experiment.dataset_id, datasetId);
  assert.deepEqual(
    [experiment.example_count, experiment.successful_run_count, experiment.failed_run_count, experiment.missing_run_count],
    [3, 3, 0, 0],
  );

  const runs = (await getJson(`/v1/experiments/${ran.id}/runs`)).data;
  const byNode = Object.fromEntries(examples.examples.map((example) => [example.id, example.input.question]));
  assert.deepEqual(
    runs.map((run) => [byNode[run.dataset_example_id], run.output, run.error ?? null]).sort(),
    [
      ["1+1", { answer: "2" }, null],
      ["2+3", { answer: "5" }, null],
      ["9+9", { answer: "18" }, null],
    ],
  );

  const records = await getJson(`/v1/experiments/${ran.id}/json`);
  const scores = records
    .map((record) => [
      record.input.question,
      Object.fromEntries(record.annotations.map((annotation) => [annotation.name, [annotation.score, annotation.label, annotation.annotator_kind]])),
    ])
    .sort();
  assert.deepEqual(scores, [
    ["1+1", { exact: [1, "right", "CODE"], length: [1, null, "CODE"] }],
    ["2+3", { exact: [1, "right", "CODE"], length: [1, null, "CODE"] }],
    ["9+9", { exact: [0, "wrong", "CODE"], length: [2, null, "CODE"] }],
  ]);
});
