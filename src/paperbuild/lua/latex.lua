-- A filter that chapters are read through, by paperbuild's chapter reader (chapters.lua) and
-- by pandoc's command line (--lua-filter) alike, so either way a chapter reads the same.
--
-- LaTeX a chapter may carry from a paper converted from LaTeX, which pandoc's Markdown reader
-- keeps raw (and the drafts would drop, words and all): citations, emphasis, notes, links,
-- figures and tables, cross-references. A raw snippet made only of these commands (and these
-- environments) is read by pandoc's LaTeX reader; any other command (\input, \include, a macro
-- of the author's) keeps the whole snippet raw, as it was. (pandoc.py reads the lists between
-- `([[` and `]])` below, to run this filter only on a chapter that has one of their words.)
local function set(words)
  local names = {}
  for name in words:gmatch("%S+") do
    names[name] = true
  end
  return names
end

local INLINE = set([[emph textbf textit textsl texttt textsc textup textmd textrm textsf underline
  textsuperscript textsubscript footnote url href cite citep citet citealt citealp citeauthor
  citeyear citeyearpar parencite textcite autocite footcite Cite Citep Citet Parencite Textcite
  Autocite]])
local BLOCK = set([[begin end centering includegraphics caption label textwidth linewidth
  columnwidth hline toprule midrule bottomrule item small footnotesize]])
local ENVIRONMENTS = set([[figure figure* table table* tabular center itemize enumerate quote
  quotation]])
-- a cross-reference: \ref and \eqref give the number (pandoc-crossref's [-@fig:x]), \cref the
-- kind's word too (@fig:x), \autoref and \Cref a capital (@Fig:x); LaTeX's tab: is tbl:
local REFERENCES = set([[ref eqref cref Cref autoref]])
local KINDS = { fig = "fig", tbl = "tbl", tab = "tbl", eq = "eq", sec = "sec", lst = "lst" }

local function convertible(text, allowed)
  local any = false
  for name in text:gmatch("\\(%a+)") do
    if not (INLINE[name] or (allowed and allowed[name])) then
      return false
    end
    any = true
  end
  for environment in text:gmatch("\\begin%s*{([^}]*)}") do
    if not ENVIRONMENTS[environment] then
      return false
    end
  end
  return any
end

local function read(text)
  local ok, doc = pcall(pandoc.read, text, "latex")
  if not ok then
    return nil
  end
  doc = doc:walk({ -- (a citation's own text is its command: made plain text)
    Cite = function(cite)
      cite.content = { pandoc.Str(pandoc.utils.stringify(cite.content)) }
      return cite
    end,
  })
  local left = false -- (what the LaTeX reader itself left raw)
  doc:walk({
    RawInline = function()
      left = true
    end,
    RawBlock = function()
      left = true
    end,
  })
  return not left and doc or nil
end

local function as_tbl(element) -- (a LaTeX table's label, tab:x, as the reference reads it)
  local prefix, rest = element.identifier:match("^(tab)([:-].+)$")
  if prefix then
    element.identifier = "tbl" .. rest
    return element
  end
end

local function labelled(div) -- (LaTeX's table: a Div that holds the \label and the table)
  local only = #div.content == 1 and div.content[1] or nil
  if div.identifier ~= "" and only and (only.t == "Table" or only.t == "Figure") then
    if only.identifier == "" then
      only.identifier = div.identifier
      return as_tbl(only) or only
    end
  end
  return as_tbl(div)
end

local function from_tex(raw)
  if (raw.format ~= "tex" and raw.format ~= "latex") or not convertible(raw.text) then
    return nil
  end
  local doc = read(raw.text)
  if doc == nil or #doc.blocks ~= 1 or doc.blocks[1].t ~= "Para" then
    return nil
  end
  return doc.blocks[1].content
end

local function from_tex_block(raw)
  if (raw.format ~= "tex" and raw.format ~= "latex") or not convertible(raw.text, BLOCK) then
    return nil
  end
  local doc = read(raw.text)
  if doc == nil or #doc.blocks == 0 then
    return nil
  end
  return doc.blocks:walk({ Table = as_tbl, Figure = as_tbl }):walk({ Div = labelled })
end

local function reference(raw)
  if raw.format ~= "tex" and raw.format ~= "latex" then
    return nil
  end
  local command, label = raw.text:match("^\\(%a+)%s*{([^{}]+)}$")
  if not (command and REFERENCES[command]) then
    return nil
  end
  local prefix, rest = label:match("^(%a+)([:-].+)$")
  if not (prefix and KINDS[prefix]) then
    return nil
  end
  local id = KINDS[prefix] .. rest
  if command == "autoref" or command == "Cref" then
    id = id:sub(1, 1):upper() .. id:sub(2)
  end
  local mode = (command == "ref" or command == "eqref") and "SuppressAuthor" or "NormalCitation"
  return pandoc.Cite({ pandoc.Str(raw.text) }, { pandoc.Citation(id, mode) })
end

local function references(inlines)
  local changed = false
  for i = 1, #inlines do
    local cite = inlines[i].t == "RawInline" and reference(inlines[i]) or nil
    if cite then
      inlines[i] = cite
      changed = true
      local before = inlines[i - 1]
      if before and before.t == "Str" and before.text:sub(-1) == "~" then -- (LaTeX's tie)
        before.text = before.text:sub(1, -2) .. "\u{00A0}"
      end
    end
  end
  return changed and inlines or nil
end

return { { Inlines = references }, { RawInline = from_tex, RawBlock = from_tex_block } }
