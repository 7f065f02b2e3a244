-- paperbuild's kept pandoc (`pandoc lua serve.lua chapters.lua`): requests on standard input,
-- answers on standard output, until standard input ends.
--
-- A request is a line "OP N1 N2 N3" and then three byte strings of those lengths: the working
-- folder, the options (JSON) and the input. OP is "read" (the input is the chapter reader's
-- JSON list of {name, text}; the answer is pandoc's JSON) or "write" (the input is pandoc's
-- JSON; the options name the format, the reference document, the template and the wrapping).
-- An answer is a line "ok N" or "error N" and then N bytes: the output, or pandoc's message.
-- The first line of all is "serving".

dofile(arg[1]) -- the chapter reader's Reader(input, opts)

local function take(n)
  if n == 0 then
    return ""
  end
  local got = io.stdin:read(n)
  if got == nil or #got ~= n then
    os.exit(0) -- the caller is gone
  end
  return got
end

local function slurp(path)
  local file = assert(io.open(path, "rb"))
  local text = file:read("a")
  file:close()
  return text
end

local function writer_options(options)
  local opts = {}
  if options.reference_doc then
    opts.reference_doc = options.reference_doc
  end
  if options.template then
    opts.template = pandoc.template.compile(slurp(options.template), options.template)
  end
  if options.wrap then
    opts.wrap_text = options.wrap
  end
  return opts
end

local function answer(op, options, input)
  pandoc.mediabag.empty() -- (pandoc's writers fetch images without keeping them here; were one
  -- to keep them, an image changed on disk since the last draft would not be read again)
  if op == "read" then
    return pandoc.write(Reader(input, {}), "json")
  elseif op == "write" then
    return pandoc.write(pandoc.read(input, "json"), options.to, writer_options(options))
  end
  error("unknown request " .. op)
end

io.stdout:setvbuf("full")
io.stdout:write("serving\n") -- (so that a process that ends later is known to have started)
io.stdout:flush()
while true do
  local line = io.stdin:read("l")
  if line == nil then
    break
  end
  local op, n1, n2, n3 = line:match("^(%a+) (%d+) (%d+) (%d+)$")
  if op == nil then
    break
  end
  local folder = take(tonumber(n1))
  local options = pandoc.json.decode(take(tonumber(n2)), false)
  local input = take(tonumber(n3))
  local ok, out = pcall(pandoc.system.with_working_directory, folder, function()
    return answer(op, options, input)
  end)
  if not ok then
    out = tostring(out)
  end
  io.stdout:write((ok and "ok " or "error ") .. #out .. "\n", out)
  io.stdout:flush()
end
