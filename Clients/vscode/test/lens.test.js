'use strict';
// Drives the real `lmdbg --dap` (LMDBG_BIN, default .build/release/lmdbg) on SmolLM2 with the extension's
// library: the DAP client, the attention and logit lens data, and the HTML built from them.
// Run: node --test Clients/vscode/test/

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const fs = require('node:fs');
const { DapClient, frame, unframe } = require('../lib/dap-client');
const lens = require('../lib/lens');

const binary = process.env.LMDBG_BIN || path.resolve(__dirname, '../../../.build/release/lmdbg');
const prompt = 'The capital of France is';

test('framing round-trips whole and split messages', () => {
  const bytes = Buffer.concat([frame({ seq: 1, text: 'é' }), frame({ seq: 2 })]);
  const first = unframe(bytes.subarray(0, 10));
  assert.deepEqual(first.messages, []);
  const { messages, rest } = unframe(bytes);
  assert.deepEqual(messages, [{ seq: 1, text: 'é' }, { seq: 2 }]);
  assert.equal(rest.length, 0);
});

test('decodeTensor reads little-endian float32', () => {
  const wire = { dtype: 'float32', shape: [2, 2], data: 'AACAPwAAAEAAAEBAAACAQA==' };
  assert.deepEqual(lens.rows(lens.decodeTensor(wire)), [[1, 2], [3, 4]]);
  assert.throws(() => lens.decodeTensor({ ...wire, shape: [3] }), /do not fill/);
});

test('HTML escapes token text and shades by weight', () => {
  const html = lens.attentionHtml({ layer: 1, head: 2, headCount: 3, weights: [[1, 0], [0.25, 0.75]], queries: [0, 1],
                                    keys: ['<b>', ' x'], pieces: ['<b>', ' x'] });
  assert.match(html, /&lt;b&gt;/);
  assert.doesNotMatch(html, /<b>/);
  assert.match(html, /␣x/);
  assert.match(html, /rgba\(64, 128, 255, 0\.750\)/);
  assert.equal((html.match(/<td /g) || []).length, 4);
});

test('a DAP session on SmolLM2: breakpoints, stops, values, attention and the logit lens', { timeout: 300000 }, async (t) => {
  if (!fs.existsSync(binary)) {
    assert.fail(`no lmdbg binary at ${binary}: build it with swift build -c release --product lmdbg`);
  }
  const client = new DapClient(binary, ['--dap']);
  const request = (command, args) => client.request(command, args);
  t.after(() => client.process.kill());

  const capabilities = await request('initialize', { clientID: 'node-test', adapterID: 'lmdbg' });
  assert.equal(capabilities.supportsStepBack, true);
  assert.deepEqual(capabilities.exceptionBreakpointFilters.map((filter) => filter.filter), ['nan', 'inf', 'massive']);

  await request('launch', { model: 'smollm2', prompt, maxNewTokens: 1 });
  await client.waitForEvent('initialized');
  const { breakpoints } = await request('setFunctionBreakpoints', { breakpoints: [{ name: 'blocks.29.hook_resid_post' }] });
  assert.equal(breakpoints[0].verified, true);
  await request('setExceptionBreakpoints', { filters: [] });
  await request('configurationDone');

  const stopped = await client.waitForEvent('stopped');
  assert.equal(stopped.body.reason, 'function breakpoint');
  assert.deepEqual(stopped.body.hitBreakpointIds, [breakpoints[0].id]);
  const { stackFrames } = await request('stackTrace', { threadId: 1 });
  assert.equal(stackFrames[0].name, 'blocks.29.hook_resid_post');

  // readMemory's bytes are x; evaluate's norm is theirs.
  const x = await request('evaluate', { expression: 'x', context: 'watch' });
  assert.equal(x.type, 'float32[5, 576]');
  const memory = await request('readMemory', { memoryReference: x.memoryReference, count: 5 * 576 * 4 });
  const values = lens.decodeTensor({ dtype: 'float32', shape: [5, 576], data: memory.data }).values;
  const norm = Math.sqrt(values.reduce((sum, value) => sum + value * value, 0));
  const evaluated = (await lens.evaluateData(request, 'x.norm()')).number;
  assert.ok(Math.abs(evaluated - norm) <= 1e-4 * norm, `${evaluated} vs ${norm}`);

  // Every layer's resid_post was recorded in the prompt pass.
  const layers = await lens.recordedLayers(request);
  assert.deepEqual(layers, Array.from({ length: 30 }, (_, index) => index));

  // Attention: causal rows that sum to one, labelled by the prompt's tokens.
  const attention = await lens.fetchAttention(request, { layer: 3, head: 4 });
  assert.equal(attention.headCount, 9);
  assert.deepEqual(attention.queries, [0, 1, 2, 3, 4]);
  assert.equal(attention.keys.join(''), prompt);
  attention.weights.forEach((row, query) => {
    assert.ok(Math.abs(row.reduce((sum, weight) => sum + weight, 0) - 1) < 1e-5);
    row.forEach((weight, key) => { if (key > query) assert.equal(weight, 0); });
  });
  const html = lens.panelHtml({ attention, layers, nonce: 'n' });
  assert.equal((html.match(/<td /g) || []).length, 25);
  assert.match(html, /<option value="29">29<\/option>/);

  // The logit lens: at the last layer and position, the top tokens and probabilities of the model's own logits.
  const table = await lens.fetchLogitLens(request, { layers: [0, 29], k: 3 });
  assert.deepEqual(table.layers.map((row) => row.layer), [0, 29]);
  assert.equal(table.layers[1].cells.length, 5);
  const top = table.layers[1].cells[4];
  assert.ok(top[0].probability >= top[1].probability && top[1].probability >= top[2].probability);
  assert.match(lens.lensHtml(table), /blocks\.29/);

  await request('stepOut', { threadId: 1 });
  const atLogits = await client.waitForEvent('stopped');
  assert.match(atLogits.body.description, /^logits/);
  const logits = await lens.evaluateData(request, 'topk(softmax(logits[-1]), 3)');
  assert.deepEqual(logits.tokens.map((row) => row.token), top.map((cell) => cell.token));
  logits.tokens.forEach((row, index) => assert.ok(Math.abs(row.score - top[index].probability) < 1e-4));
  assert.equal(logits.tokens[0].piece, top[0].piece);

  // Errors come back as DAP error responses with a message.
  await assert.rejects(request('evaluate', { expression: 'nrm(x)' }), /did you mean 'norm'/);

  await request('continue', { threadId: 1 });
  const exited = await client.waitForEvent('exited');
  assert.equal(exited.body.exitCode, 0);
  await client.waitForEvent('terminated');
  const generated = client.events.filter((event) => event.event === 'output' && event.body.category === 'stdout');
  assert.equal(generated.length, 1);
  assert.equal(generated[0].body.output, top[0].piece);
  await request('disconnect', { terminateDebuggee: true });
  assert.deepEqual(await client.exited, { code: 0, signal: null });
});
