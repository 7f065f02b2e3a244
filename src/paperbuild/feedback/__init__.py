"""Committee feedback: comments and tracked changes from reviewed DOCX files, mapped to chapters."""
