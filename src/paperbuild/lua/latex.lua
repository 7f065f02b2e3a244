-- A filter that chapters are read through, by paperbuild's chapter reader (chapters.lua) and
-- by pandoc's command line (--lua-filter) alike, so either way a chapter reads the same.
--
-- LaTeX a chapter may carry from a paper converted from LaTeX, which pandoc's Markdown reader
-- keeps raw (and the drafts would drop, words and all): citations, emphasis, notes, links. A
-- raw snippet made only of these commands is read by pandoc's LaTeX reader; any other command
-- (\input, \include, a macro of the author's) keeps the whole snippet raw, as it was.
local SAFE = {}
for name in ([[emph textbf textit textsl texttt textsc textup textmd textrm textsf underline
  textsuperscript textsubscript footnote url href cite citep citet citealt citealp citeauthor
  citeyear citeyearpar parencite textcite autocite footcite Cite Citep Citet Parencite Textcite
  Autocite]]):gmatch("%S+") do
  SAFE[name] = true
end

local function convertible(text)
  local any = false
  for name in text:gmatch("\\(%a+)") do
    if not SAFE[name] then
      return false
    end
    any = true
  end
  return any
end

local function from_tex(raw)
  if (raw.format ~= "tex" and raw.format ~= "latex") or not convertible(raw.text) then
    return nil
  end
  local ok, doc = pcall(pandoc.read, raw.text, "latex")
  if not ok or #doc.blocks ~= 1 or doc.blocks[1].t ~= "Para" then
    return nil
  end
  local para = doc.blocks[1]:walk({ -- (a citation's own text is its command: made plain text)
    Cite = function(cite)
      cite.content = { pandoc.Str(pandoc.utils.stringify(cite.content)) }
      return cite
    end,
  })
  local left = false -- (what the LaTeX reader itself left raw)
  para:walk({ RawInline = function() left = true end })
  if left then
    return nil
  end
  return para.content
end

return { { RawInline = from_tex } }
