-- The :Lmdbg* commands; the work is in lua/lmdbg/init.lua.
if vim.g.loaded_lmdbg then return end
vim.g.loaded_lmdbg = true

local function command(name, handler, nargs, description, complete)
  vim.api.nvim_create_user_command(name, function(options) handler(options.args) end,
    { nargs = nargs, desc = description, complete = complete })
end

command('LmdbgLoad', function(args) require('lmdbg').load(args) end, 1, 'Load a model (smollm2, a file in $LMDBG_MODELS, or a path)')
command('LmdbgBreak', function(args) require('lmdbg').add_breakpoint(args) end, '+', 'Break at a hook: {hook} [if {condition}]')
command('LmdbgRun', function(args) require('lmdbg').run(args) end, '+', 'Run a prompt')
command('LmdbgNext', function(args) require('lmdbg').next(args) end, '?', 'Step by hook, layer or token',
  function() return { 'hook', 'layer', 'token' } end)
command('LmdbgContinue', function() require('lmdbg').continue() end, 0, 'Continue to the next breakpoint')
command('LmdbgPrint', function(args) require('lmdbg').print(args) end, '+', 'Evaluate an expression at the stop')
command('LmdbgStop', function() require('lmdbg').stop() end, 0, 'Shut the server down')
