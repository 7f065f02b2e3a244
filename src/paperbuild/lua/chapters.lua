-- paperbuild's chapter reader: the input is a JSON list of {name, text}; each text is parsed
-- on its own (so footnote ids stay chapter-local) and returned as a Div with class "chapter".

-- (this file's folder: read as a reader, by `pandoc -f`, or by `pandoc lua serve.lua`'s dofile)
local here = pandoc.path.directory((debug.getinfo(1, "S").source:gsub("^@", "")))
local latex = dofile(pandoc.path.join({ here, "latex.lua" })) -- (the filters it shares)

function Reader(input, opts)
  local items = pandoc.json.decode(tostring(input), false)
  local blocks = {}
  for _, item in ipairs(items) do
    local doc = pandoc.read(item.text, item.format or "markdown")
    if item.text:find("\\", 1, true) then -- (no backslash: no LaTeX to read)
      for _, filter in ipairs(latex) do
        doc = doc:walk(filter)
      end
    end
    if item.out then -- (told as it is read: the chapter's JSON in its file, its number on stdout)
      local file = assert(io.open(item.out, "wb"))
      file:write(pandoc.write(pandoc.Pandoc(doc.blocks), "json"))
      file:close()
      io.stdout:write(tostring(#blocks + 1), "\n")
      io.stdout:flush()
    end
    blocks[#blocks + 1] = item.out and pandoc.Div({}) or
      pandoc.Div(doc.blocks, pandoc.Attr("", {"chapter"}, {{"path", item.name}}))
  end
  return pandoc.Pandoc(blocks)
end
