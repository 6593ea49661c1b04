'use strict';
// The VS Code side: starts `lmdbg --dap` for debug sessions of type `lmdbg`, and shows the attention and
// logit lens panel. Everything that does not need the VS Code API lives in lib/.

const vscode = require('vscode');
const { randomBytes } = require('node:crypto');
const { fetchAttention, fetchLogitLens, panelHtml, recordedLayers } = require('./lib/lens');

/** The panel, if open, and what it shows. */
let lensPanel;

function activate(context) {
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory('lmdbg', {
      createDebugAdapterDescriptor(session) {
        const configuration = session.configuration;
        const server = configuration.serverPath || vscode.workspace.getConfiguration('lmdbg').get('serverPath') || 'lmdbg';
        return new vscode.DebugAdapterExecutable(server, ['--dap', ...(configuration.serverArgs || [])]);
      },
    }),
    vscode.debug.registerDebugConfigurationProvider('lmdbg', {
      async resolveDebugConfiguration(folder, configuration) {
        // F5 without a launch.json: ask for a prompt.
        if (!configuration.type && !configuration.request) {
          const prompt = await vscode.window.showInputBox({ prompt: 'Prompt to debug', value: 'The capital of France is' });
          if (prompt === undefined) return undefined;
          return { type: 'lmdbg', request: 'launch', name: 'lmdbg', model: 'smollm2', prompt, maxNewTokens: 5 };
        }
        return configuration;
      },
    }),
    // Redraws the panel at every stop of an lmdbg session.
    vscode.debug.registerDebugAdapterTrackerFactory('lmdbg', {
      createDebugAdapterTracker(session) {
        return {
          onDidSendMessage(message) {
            if (lensPanel && message.type === 'event' && message.event === 'stopped') lensPanel.refresh(session);
          },
        };
      },
    }),
    vscode.commands.registerCommand('lmdbg.showLens', () => showLensPanel(context)),
  );
}

function showLensPanel(context) {
  if (lensPanel) {
    lensPanel.panel.reveal();
  } else {
    const panel = vscode.window.createWebviewPanel('lmdbgLens', 'lmdbg: attention / logit lens', vscode.ViewColumn.Beside,
      { enableScripts: true });
    // No layer chosen yet: show the last recorded one.
    lensPanel = { panel, layer: undefined, head: 0, refresh: (session) => render(session) };
    panel.onDidDispose(() => { lensPanel = undefined; }, undefined, context.subscriptions);
    panel.webview.onDidReceiveMessage((message) => {
      if (message.type !== 'select' || !lensPanel) return;
      lensPanel.layer = message.layer;
      lensPanel.head = message.head;
      render(vscode.debug.activeDebugSession);
    }, undefined, context.subscriptions);
  }
  render(vscode.debug.activeDebugSession);
}

/** Fetches the views' data from a stopped lmdbg session and draws them; says what is missing otherwise. */
async function render(session) {
  if (!lensPanel) return;
  const { panel } = lensPanel;
  const nonce = randomBytes(16).toString('hex');
  const show = (content) => { panel.webview.html = panelHtml({ ...content, nonce, cspSource: panel.webview.cspSource }); };
  if (!session || session.type !== 'lmdbg') {
    show({ error: 'Start an lmdbg debug session and stop it at a breakpoint to see attention and the logit lens.' });
    return;
  }
  const request = (command, args) => session.customRequest(command, args);
  try {
    const layers = await recordedLayers(request);
    if (layers.length === 0) {
      show({ error: 'No layer has been recorded in this token step yet: continue to a later hook point '
        + '(the launch configuration\'s "record" must include blocks.*.hook_resid_post and blocks.*.attn.hook_pattern).' });
      return;
    }
    const layer = layers.includes(lensPanel.layer) ? lensPanel.layer : layers[layers.length - 1];
    const attention = await fetchAttention(request, { layer, head: lensPanel.head });
    const lens = await fetchLogitLens(request, { layers, k: 5 });
    show({ attention, lens, layers });
  } catch (error) {
    show({ error: `lmdbg: ${error.message}` });
  }
}

function deactivate() {}

module.exports = { activate, deactivate };
