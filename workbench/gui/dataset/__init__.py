"""The dataset editor: the table model, search and checks, the row editor, the problem list, open/save/import, autosave."""
