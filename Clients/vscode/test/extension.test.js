'use strict';
// extension.js under a stand-in for the `vscode` module (only the calls it makes), with a debug session whose
// customRequest goes to the real `lmdbg --dap`: the adapter descriptor, the configuration provider, and the
// lens panel drawn from a real stop.

const test = require('node:test');
const assert = require('node:assert/strict');
const Module = require('node:module');
const path = require('node:path');
const { DapClient } = require('../lib/dap-client');

const binary = process.env.LMDBG_BIN || path.resolve(__dirname, '../../../.build/release/lmdbg');

/** The parts of the VS Code API extension.js uses, recording what it registers and the panels it opens. */
function standIn() {
  const registered = { commands: {} };
  const panels = [];
  const disposable = { dispose() {} };
  const vscode = {
    debug: {
      activeDebugSession: undefined,
      registerDebugAdapterDescriptorFactory(type, factory) { registered.descriptor = { type, factory }; return disposable; },
      registerDebugConfigurationProvider(type, provider) { registered.configuration = { type, provider }; return disposable; },
      registerDebugAdapterTrackerFactory(type, factory) { registered.tracker = { type, factory }; return disposable; },
    },
    commands: { registerCommand(name, callback) { registered.commands[name] = callback; return disposable; } },
    window: {
      showInputBox: async () => 'Hello',
      createWebviewPanel(viewType, title) {
        const panel = {
          viewType, title, revealed: 0,
          webview: { html: '', cspSource: 'vscode-webview:', onDidReceiveMessage(listener) { panel.post = listener; } },
          onDidDispose() {},
          reveal() { panel.revealed++; },
        };
        panels.push(panel);
        return panel;
      },
    },
    workspace: { getConfiguration: () => ({ get: () => undefined }) },
    DebugAdapterExecutable: class { constructor(command, args) { this.command = command; this.args = args; } },
    ViewColumn: { Beside: -2 },
  };
  return { vscode, registered, panels };
}

/** Polls until `predicate` holds. */
async function until(what, predicate, timeout = 120000) {
  const deadline = Date.now() + timeout;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('the extension starts lmdbg --dap and draws the lens panel from a real stop', { timeout: 300000 }, async (t) => {
  const fake = standIn();
  const load = Module._load;
  Module._load = function (request, ...rest) { return request === 'vscode' ? fake.vscode : load.call(this, request, ...rest); };
  t.after(() => { Module._load = load; });
  const extension = require('../extension');
  extension.activate({ subscriptions: [] });

  // The adapter: lmdbg --dap, from the configuration's serverPath and serverArgs, else the lmdbg on PATH.
  assert.equal(fake.registered.descriptor.type, 'lmdbg');
  const descriptor = fake.registered.descriptor.factory.createDebugAdapterDescriptor(
    { configuration: { serverPath: '/opt/lmdbg', serverArgs: ['--threads', '4'] } });
  assert.deepEqual([descriptor.command, descriptor.args], ['/opt/lmdbg', ['--dap', '--threads', '4']]);
  assert.equal(fake.registered.descriptor.factory.createDebugAdapterDescriptor({ configuration: {} }).command, 'lmdbg');
  const configuration = await fake.registered.configuration.provider.resolveDebugConfiguration(undefined, {});
  assert.deepEqual(configuration, { type: 'lmdbg', request: 'launch', name: 'lmdbg', model: 'smollm2', prompt: 'Hello', maxNewTokens: 5 });

  // Without a session the panel says what to do.
  fake.registered.commands['lmdbg.showLens']();
  const panel = fake.panels[0];
  await until('the hint', () => /Start an lmdbg debug session/.test(panel.webview.html));

  // A real session stopped at layer 5: the panel shows layer 5's attention (the last recorded) and the lens.
  const client = new DapClient(binary, ['--dap']);
  t.after(() => client.process.kill());
  await client.request('initialize', { adapterID: 'lmdbg' });
  await client.request('launch', { prompt: 'The capital of France is' });
  await client.waitForEvent('initialized');
  await client.request('setFunctionBreakpoints', { breakpoints: [{ name: 'blocks.5.hook_resid_post' }] });
  await client.request('configurationDone');
  await client.waitForEvent('stopped');
  const session = { type: 'lmdbg', customRequest: (command, args) => client.request(command, args) };
  fake.vscode.debug.activeDebugSession = session;
  fake.registered.tracker.factory.createDebugAdapterTracker(session).onDidSendMessage({ type: 'event', event: 'stopped' });
  await until('the heatmaps', () => /class="heatmap lens"/.test(panel.webview.html));
  const html = panel.webview.html;
  assert.match(html, /data-layer="5" data-head="0"/);
  assert.equal((html.match(/<tr><th>blocks\.\d+<\/th>/g) || []).length, 6, 'the lens has layers 0 to 5');
  assert.match(html, /Content-Security-Policy/);
  assert.match(html, /<script nonce="[0-9a-f]{32}">/);

  // Choosing layer 2, head 7 in the panel redraws it.
  panel.post({ type: 'select', layer: 2, head: 7 });
  await until('the new selection', () => /data-layer="2" data-head="7"/.test(panel.webview.html));

  fake.registered.commands['lmdbg.showLens']();
  assert.equal(panel.revealed, 1, 'the command reveals the open panel');
  await client.request('disconnect');
  assert.equal((await client.exited).code, 0);
});
