-- paperbuild's chapter reader: the input is a JSON list of {name, text}; each text is parsed
-- on its own (so footnote ids stay chapter-local) and returned as a Div with class "chapter".
function Reader(input, opts)
  local items = pandoc.json.decode(tostring(input), false)
  local blocks = {}
  for _, item in ipairs(items) do
    local doc = pandoc.read(item.text, item.format or "markdown")
    blocks[#blocks + 1] = pandoc.Div(doc.blocks, pandoc.Attr("", {"chapter"}, {{"path", item.name}}))
  end
  return pandoc.Pandoc(blocks)
end
