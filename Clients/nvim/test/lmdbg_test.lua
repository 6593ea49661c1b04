-- Headless test against the real server (LMDBG_BIN, default .build/release/lmdbg) and SmolLM2:
--   nvim --headless -u NONE -i NONE -n -c "luafile Clients/nvim/test/lmdbg_test.lua"
-- Exits 0 when every check passes, 1 (with the reason on stderr) otherwise.

local plugin = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
local root = vim.fn.fnamemodify(plugin, ':h:h')
vim.opt.runtimepath:prepend(plugin)
vim.cmd('runtime plugin/lmdbg.lua')
local lmdbg = require('lmdbg')
local state = lmdbg.state

local function fail(message)
  io.stderr:write('FAIL: ' .. message .. '\n')
  local target = lmdbg.buffer()
  if target then io.stderr:write(table.concat(vim.api.nvim_buf_get_lines(target, 0, -1, false), '\n') .. '\n') end
  vim.cmd('cquit 1')
end

local function check(condition, message)
  if not condition then fail(message) end
end

--- Waits (running the event loop) until `predicate` holds, or fails after `seconds`.
local function wait_for(what, predicate, seconds)
  if not vim.wait((seconds or 120) * 1000, predicate, 20) then
    fail('timed out waiting for ' .. what .. (#state.errors > 0 and (': ' .. vim.inspect(state.errors)) or ''))
  end
end

local ok, problem = pcall(function()
  lmdbg.setup({ cmd = { os.getenv('LMDBG_BIN') or (root .. '/.build/release/lmdbg') }, max_new_tokens = 2 })
  check(vim.fn.exists(':LmdbgLoad') == 2 and vim.fn.exists(':LmdbgPrint') == 2, 'the commands are defined')

  vim.cmd('LmdbgLoad smollm2')
  wait_for('the model', function() return state.model ~= nil end)
  check(state.model.config.nLayers == 30, 'SmolLM2 has 30 layers')

  vim.cmd('LmdbgBreak blocks.*.hook_resid_post if layer == 2')
  wait_for('the breakpoint', function() return state.statuses ~= nil end)
  check(state.statuses[1].verified and state.statuses[1].hooks == 30, 'the glob matches 30 hooks: ' .. vim.inspect(state.statuses))

  vim.cmd('LmdbgRun The capital of France is')
  wait_for('the first stop', function() return #state.stops >= 1 end)
  local stop = state.stops[1]
  check(stop.reason == 'breakpoint' and stop.hook == 'blocks.2.hook_resid_post' and stop.tokenStep == 0,
    'stopped at layer 2 of the prompt pass: ' .. vim.inspect(stop))
  check(stop.positions.start == 0 and stop.positions['end'] == 5, 'the prompt has five tokens')

  vim.cmd('LmdbgPrint layer')
  vim.cmd('LmdbgPrint len(x) * 1000 + x.shape[1]')
  wait_for('two results', function() return #state.results >= 2 end)
  check(state.results[1].result.result == '2', 'layer is 2: ' .. vim.inspect(state.results[1]))
  check(state.results[2].result.result == '5576', 'x is [5, 576]: ' .. vim.inspect(state.results[2]))

  vim.cmd('LmdbgNext layer')
  wait_for('the step', function() return #state.stops >= 2 end)
  check(state.stops[2].reason == 'step' and state.stops[2].hook == 'blocks.3.hook_resid_post', 'a layer step: ' .. vim.inspect(state.stops[2]))

  vim.cmd('LmdbgContinue')
  wait_for('the token step', function() return #state.stops >= 3 end)
  check(state.stops[3].hook == 'blocks.2.hook_resid_post' and state.stops[3].tokenStep == 1, 'layer 2 of token step 1')

  vim.cmd('LmdbgPrint x.norm(')
  wait_for('the error', function() return #state.errors >= 1 end)
  check(state.errors[1].code == -32006, 'a bad expression is -32006: ' .. vim.inspect(state.errors[1]))

  vim.cmd('LmdbgContinue')
  wait_for('the end of the run', function() return #state.terminations >= 1 end)
  check(state.terminations[1].reason == 'maxNewTokens' and #state.terminations[1].tokens == 2, 'two tokens generated')

  local text = table.concat(vim.api.nvim_buf_get_lines(lmdbg.buffer(), 0, -1, false), '\n')
  for _, expected in ipairs({ 'loaded SmolLM2%-135M%-Instruct%.Q4_1', 'stopped %(breakpoint%) at blocks%.2%.hook_resid_post',
                              'layer = 2', 'error %(debug/evaluate%)', 'terminated %(maxNewTokens%)' }) do
    check(text:find(expected) ~= nil, 'the buffer shows ' .. expected .. ':\n' .. text)
  end

  vim.cmd('LmdbgStop')
  wait_for('the server to exit', function() return state.exit_code ~= nil end, 30)
  check(state.exit_code == 0, 'the server exits with 0 after shutdown, not ' .. tostring(state.exit_code))
end)
if not ok then fail(tostring(problem)) end
io.stdout:write('lmdbg.nvim: all checks passed\n')
vim.cmd('qall!')
