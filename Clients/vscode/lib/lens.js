'use strict';
// The attention and logit lens views: data fetched from `lmdbg --dap` with `evaluate` requests in the
// `lmdbg.data` context (which add the value itself to the response), and the HTML that shows it.
// Nothing here imports `vscode`: `request(command, args)` is any function that sends a DAP request and resolves
// with the response's body (VS Code's `session.customRequest`, or DapClient's `request`).

/** A tensor from `data.tensor` ({dtype: 'float32', shape, data: base64 of little-endian float32}). */
function decodeTensor(wire) {
  if (!wire || wire.dtype !== 'float32') throw new Error(`not a float32 tensor: ${JSON.stringify(wire)}`);
  const bytes = Buffer.from(wire.data, 'base64');
  const count = wire.shape.reduce((product, size) => product * size, 1);
  if (bytes.length !== count * 4) throw new Error(`${bytes.length} bytes do not fill shape [${wire.shape}]`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const values = new Float32Array(count);
  for (let index = 0; index < count; index++) values[index] = view.getFloat32(index * 4, true);
  return { shape: wire.shape, values };
}

/** The rows of a 2-D tensor as arrays. */
function rows(tensor) {
  if (tensor.shape.length !== 2) throw new Error(`expected a matrix, not shape [${tensor.shape}]`);
  const [count, width] = tensor.shape;
  return Array.from({ length: count }, (_, row) => Array.from(tensor.values.subarray(row * width, (row + 1) * width)));
}

/** Evaluates `expression` at the stop and returns its value as data: {kind, tensor | number | bool | string | tokens}. */
async function evaluateData(request, expression, frameId) {
  const args = { expression, context: 'lmdbg.data' };
  if (frameId !== undefined) args.frameId = frameId;
  const body = await request('evaluate', args);
  if (!body.data) throw new Error(`the adapter sent no data for '${expression}' (is it lmdbg --dap?)`);
  return body.data;
}

async function evaluateTensor(request, expression, frameId) {
  const data = await evaluateData(request, expression, frameId);
  if (data.kind !== 'tensor') throw new Error(`'${expression}' is a ${data.kind}, not a tensor`);
  return decodeTensor(data.tensor);
}

/** The text of each token so far (prompt and generated), and the positions of the pass stopped in. */
async function fetchTokens(request, frameId) {
  const ids = Array.from((await evaluateTensor(request, 'tokens', frameId)).values);
  const pieces = [];
  for (const id of ids) pieces.push((await evaluateData(request, `token(${id})`, frameId)).string);
  const positions = Array.from((await evaluateTensor(request, 'positions', frameId)).values);
  return { ids, pieces, positions };
}

/**
 * The layers whose `hook_resid_post` has been recorded in the token step of the stop, in order: the variables of
 * the "Residual stream" scope of the outermost (token step) frame. (Evaluating a hook name alone could also find
 * an activation of an earlier token step.)
 */
async function recordedLayers(request) {
  const { stackFrames } = await request('stackTrace', { threadId: 1 });
  const tokenFrame = stackFrames[stackFrames.length - 1];
  const { scopes } = await request('scopes', { frameId: tokenFrame.id });
  const residual = scopes.find((scope) => scope.name === 'Residual stream');
  if (!residual) return [];
  const { variables } = await request('variables', { variablesReference: residual.variablesReference });
  return variables.map((variable) => /^blocks\.(\d+)\.hook_resid_post$/.exec(variable.name))
    .filter(Boolean).map((match) => Number(match[1]));
}

/**
 * One head's attention pattern at a layer: weights[query][key] over the pass's query positions and all keys so
 * far, with the number of heads (for a picker).
 */
async function fetchAttention(request, { layer, head, frameId }) {
  const pattern = await evaluateTensor(request, `blocks.${layer}.attn.hook_pattern`, frameId);
  const [headCount, queryCount, keyCount] = pattern.shape;
  if (!(head >= 0 && head < headCount)) throw new Error(`head ${head} is out of range: the model has ${headCount} heads`);
  const size = queryCount * keyCount;
  const weights = rows({ shape: [queryCount, keyCount], values: pattern.values.subarray(head * size, (head + 1) * size) });
  const tokens = await fetchTokens(request, frameId);
  return { layer, head, headCount, weights, queries: tokens.positions, keys: tokens.pieces.slice(0, keyCount),
           pieces: tokens.pieces };
}

/**
 * The logit lens: for each layer and each position of the pass, the `k` most likely next tokens of that layer's
 * residual stream (`lens(blocks.L.hook_resid_post[i], k)`). Layers not recorded at this stop are left out.
 */
async function fetchLogitLens(request, { layers, k = 5, frameId }) {
  const tokens = await fetchTokens(request, frameId);
  const table = [];
  for (const layer of layers) {
    const cells = [];
    for (let row = 0; row < tokens.positions.length; row++) {
      const data = await evaluateData(request, `lens(blocks.${layer}.hook_resid_post[${row}], ${k})`, frameId);
      cells.push(data.tokens.map(({ token, piece, score }) => ({ token, piece, probability: Number(score) })));
    }
    table.push({ layer, cells });
  }
  return { positions: tokens.positions, pieces: tokens.pieces, layers: table };
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character]);
}

/** A token as shown in a cell: spaces and newlines made visible. */
function showPiece(piece) {
  return escapeHtml(String(piece ?? '').replace(/ /g, '␣').replace(/\n/g, '↵'));
}

/** A cell's background for a weight in [0, 1]. */
function shade(weight) {
  const clamped = Math.max(0, Math.min(1, Number.isFinite(weight) ? weight : 0));
  return `rgba(64, 128, 255, ${clamped.toFixed(3)})`;
}

/** The attention heatmap: queries down, keys across, each cell shaded by its weight (the title gives it exactly). */
function attentionHtml(attention) {
  const header = attention.keys.map((piece) => `<th class="key">${showPiece(piece)}</th>`).join('');
  const body = attention.weights.map((row, index) => {
    const query = attention.queries[index];
    const cells = row.map((weight, key) =>
      `<td style="background:${shade(weight)}" title="${showPiece(attention.pieces[query])} → ${showPiece(attention.keys[key])}: ${weight.toFixed(4)}"></td>`).join('');
    return `<tr><th class="query">${query}: ${showPiece(attention.pieces[query])}</th>${cells}</tr>`;
  }).join('\n');
  return `<table class="heatmap attention" data-layer="${attention.layer}" data-head="${attention.head}">`
    + `<caption>blocks.${attention.layer}.attn.hook_pattern, head ${attention.head}</caption>`
    + `<tr><th></th>${header}</tr>\n${body}</table>`;
}

/** The logit lens table: the last layer on top, positions across; each cell shows its top token, shaded by probability. */
function lensHtml(lens) {
  const header = lens.positions.map((position) => `<th>${position}: ${showPiece(lens.pieces[position])}</th>`).join('');
  const body = [...lens.layers].reverse().map(({ layer, cells }) => {
    const row = cells.map((top) => {
      const best = top[0];
      const title = top.map(({ piece, probability }) => `${showPiece(piece)} ${probability.toFixed(3)}`).join('&#10;');
      return `<td style="background:${shade(best.probability)}" title="${title}">${showPiece(best.piece)}</td>`;
    }).join('');
    return `<tr><th>blocks.${layer}</th>${row}</tr>`;
  }).join('\n');
  return `<table class="heatmap lens"><caption>logit lens of hook_resid_post</caption><tr><th></th>${header}</tr>\n${body}</table>`;
}

/**
 * The whole panel: pickers for the recorded `layers` and the heads (which post `{type: 'select', layer, head}` to the extension), the
 * attention heatmap and the logit lens. `nonce` and `cspSource` come from the webview.
 */
function panelHtml({ attention, lens, layers = [], error, nonce, cspSource = '' }) {
  const options = (values, selected) => values.map((value) =>
    `<option value="${value}"${value === selected ? ' selected' : ''}>${value}</option>`).join('');
  const heads = attention ? Array.from({ length: attention.headCount }, (_, index) => index) : [];
  const controls = attention
    ? `<label>layer <select id="layer">${options(layers, attention.layer)}</select></label>
       <label>head <select id="head">${options(heads, attention.head)}</select></label>`
    : '';
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'unsafe-inline'; script-src 'nonce-${nonce}';">
<style>
  body { font-family: var(--vscode-editor-font-family, monospace); font-size: 12px; }
  table.heatmap { border-collapse: collapse; margin: 1em 0; }
  table.heatmap td { min-width: 1.6em; height: 1.6em; border: 1px solid rgba(128, 128, 128, 0.2); text-align: center; white-space: pre; }
  table.heatmap th { font-weight: normal; text-align: right; padding-right: 0.5em; white-space: pre; }
  table.heatmap th.key { writing-mode: vertical-rl; text-align: left; }
  caption { text-align: left; font-weight: bold; }
  .error { color: var(--vscode-errorForeground, red); }
</style></head>
<body>
${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}
${controls}
${attention ? attentionHtml(attention) : ''}
${lens ? lensHtml(lens) : ''}
<script nonce="${nonce}">
  const vscode = acquireVsCodeApi();
  for (const id of ['layer', 'head']) {
    const element = document.getElementById(id);
    if (element) element.addEventListener('change', () => vscode.postMessage({
      type: 'select', layer: Number(document.getElementById('layer').value), head: Number(document.getElementById('head').value) }));
  }
</script>
</body></html>`;
}

module.exports = {
  decodeTensor, rows, evaluateData, evaluateTensor, fetchTokens, recordedLayers, fetchAttention, fetchLogitLens,
  escapeHtml, attentionHtml, lensHtml, panelHtml,
};
