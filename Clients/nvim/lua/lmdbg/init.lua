-- lmdbg for Neovim: drives `lmdbg` (its JSON-RPC protocol, Protocol/README.md) through Neovim's own JSON-RPC
-- client, vim.lsp.rpc.start, and writes what happens into a scratch buffer named "lmdbg".

local M = {}

M.config = {
  -- The server command; `lmdbg` serves its protocol on stdio by default.
  cmd = { 'lmdbg' },
  -- Tokens :LmdbgRun generates after the prompt pass.
  max_new_tokens = 0,
}

-- What the session has seen, for statuslines and tests: the loaded model, the breakpoints and their statuses,
-- every stop, evaluation and termination, and the server's exit code.
M.state = { breakpoints = {}, statuses = nil, stops = {}, results = {}, terminations = {}, errors = {} }

local rpc = nil
local ready = false
local waiting = {}
local buffer = nil
local generated = ''

--- The scratch buffer, created on first use and shown in a split when no window shows it.
local function output_buffer()
  if not (buffer and vim.api.nvim_buf_is_valid(buffer)) then
    buffer = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buffer, 'lmdbg')
    vim.api.nvim_buf_set_option(buffer, 'filetype', 'lmdbg')
  end
  if vim.fn.bufwinnr(buffer) == -1 then
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, buffer)
    vim.cmd('wincmd p')
  end
  return buffer
end

--- Appends lines (a string may hold several) to the scratch buffer.
function M.log(text)
  local target = output_buffer()
  local lines = vim.split(text, '\n', { plain = true })
  local count = vim.api.nvim_buf_line_count(target)
  local empty = count == 1 and vim.api.nvim_buf_get_lines(target, 0, 1, false)[1] == ''
  vim.api.nvim_buf_set_lines(target, empty and 0 or count, -1, false, lines)
end

function M.buffer() return buffer end

local function on_notification(method, params)
  if method == 'debug/stopped' then
    table.insert(M.state.stops, params)
    local where = params.hook or 'entry'
    local line = string.format('stopped (%s) at %s, token step %d, positions %d..<%d', params.reason, where,
      params.tokenStep, params.positions.start, params.positions['end'])
    if params.description then line = line .. ': ' .. params.description end
    M.log(line)
  elseif method == 'debug/output' then
    if params.category == 'generated' then
      generated = generated .. params.text
    else
      M.log('log: ' .. params.text)
    end
  elseif method == 'debug/terminated' then
    table.insert(M.state.terminations, params)
    M.log(string.format('terminated (%s): %q', params.reason, params.text))
    generated = ''
  end
end

--- Starts the server with Neovim's JSON-RPC client: vim.lsp.rpc.start(cmd, args, dispatchers) up to 0.9,
--- start(cmd_list, dispatchers) from 0.10.
local function start_server()
  local dispatchers = {
    notification = on_notification,
    on_exit = function(code)
      M.state.exit_code = code
      rpc, ready = nil, false
    end,
    on_error = function(code, err) table.insert(M.state.errors, { code = code, err = err }) end,
  }
  if vim.fn.has('nvim-0.10') == 1 then
    return vim.lsp.rpc.start(M.config.cmd, dispatchers)
  end
  return vim.lsp.rpc.start(M.config.cmd[1], vim.list_slice(M.config.cmd, 2), dispatchers)
end

--- Sends a request once the server is initialized; `on_result(result)` runs on success, errors are logged.
local function request(method, params, on_result)
  local function send()
    rpc.request(method, params, function(err, result)
      if err then
        table.insert(M.state.errors, { method = method, code = err.code, message = err.message })
        M.log(string.format('error (%s): %s', method, err.message))
      elseif on_result then
        on_result(result)
      end
    end)
  end
  if ready then return send() end
  table.insert(waiting, send)
  if rpc then return end
  M.state.exit_code = nil
  rpc = start_server()
  rpc.request('initialize', { clientInfo = { name = 'lmdbg.nvim', version = '0.1.0' } }, function(err)
    if err then return M.log('error (initialize): ' .. err.message) end
    rpc.notify('initialized', vim.empty_dict())
    ready = true
    local queued = waiting
    waiting = {}
    for _, queued_send in ipairs(queued) do queued_send() end
  end)
end

--- :LmdbgLoad {model}: a shipped model's short name (smollm2), a file name in $LMDBG_MODELS, or a path.
function M.load(model)
  local is_path = model:find('/') ~= nil or vim.fn.filereadable(model) == 1
  local params = is_path and { path = vim.fn.fnamemodify(model, ':p') } or { name = model }
  request('model/load', params, function(info)
    M.state.model = info
    M.state.breakpoints, M.state.statuses = {}, nil
    M.log(string.format('loaded %s (%s, %d layers, %d hook points)', info.name, info.architecture,
      info.config.nLayers, #info.hookPoints))
  end)
end

--- :LmdbgBreak {hook} [if {condition}]: adds a breakpoint on a hook name or glob.
function M.add_breakpoint(text)
  local hook, condition = text:match('^%s*(%S+)%s+if%s+(.+)$')
  table.insert(M.state.breakpoints, { hook = hook or vim.trim(text), condition = condition })
  M.set_breakpoints(M.state.breakpoints)
end

--- Replaces the server's breakpoints with `breakpoints` ({hook, condition?, hitCondition?, logMessage?} each).
function M.set_breakpoints(breakpoints)
  M.state.breakpoints = breakpoints
  request('debug/setBreakpoints', { breakpoints = breakpoints }, function(result)
    M.state.statuses = result.breakpoints
    for index, status in ipairs(result.breakpoints) do
      local spec = breakpoints[index]
      local text = spec.hook .. (spec.condition and (' if ' .. spec.condition) or '')
      if status.verified then
        M.log(string.format('breakpoint %d: %s (%d hook points)', status.id, text, status.hooks))
      else
        M.log(string.format('breakpoint %d not set: %s: %s', status.id, text, status.message or 'unverified'))
      end
    end
  end)
end

--- :LmdbgRun {prompt}: launches a run of the prompt.
function M.run(prompt)
  generated = ''
  request('session/launch', { prompt = prompt, maxNewTokens = M.config.max_new_tokens }, function(result)
    M.log(string.format('run %d: %d prompt tokens', result.sessionId, #result.promptTokens))
  end)
end

--- :LmdbgNext [hook|layer|token]
function M.next(granularity)
  request('debug/next', { granularity = (granularity ~= nil and granularity ~= '') and granularity or 'hook' })
end

--- :LmdbgContinue
function M.continue()
  request('debug/continue', vim.empty_dict())
end

--- :LmdbgPrint {expression}: evaluates at the stop.
function M.print(expression)
  request('debug/evaluate', { expression = expression }, function(result)
    table.insert(M.state.results, { expression = expression, result = result })
    M.log(expression .. ' = ' .. result.result)
  end)
end

--- :LmdbgStop: ends the run, shuts the server down and lets it exit.
function M.stop()
  if not rpc then return end
  request('shutdown', vim.empty_dict(), function()
    rpc.notify('exit', vim.empty_dict())
  end)
end

function M.setup(options)
  M.config = vim.tbl_extend('force', M.config, options or {})
end

return M
