"""Dialogue pairs: the one import for loading, validating and saving datasets.

- `pairs.py`: DialoguePair, Dataset, Problem (file, row, field, message, line, level, kind), DataError,
  and what the levels "error" / "warning" / "note" mean.
- `formats.py`: `load_dataset(path, columns=None)` and `save_dataset(ds, path)` for CSV, JSONL,
  JSON and Parquet; `parse_columns("question=Q,answer=A")` for a column mapping. Reading is streamed and
  bounded (`read_csv.py`, `read_json.py`, `stream.py`): no file can take the machine's memory.
- `rules.py`: `validate(ds, rules)`, the per-row `validate_pair(pair, rules, file=, row=, line=)`
  the app's table calls per edited row, `repeat_problems` across rows, `apply_rules` for a run.
- `problem_report.py`: `summarise_problems` for the console, `write_problems_csv` for the run folder.
- `split.py`: held-out splits that keep each group (document) on one side.
"""

from __future__ import annotations

from workbench.data.formats import FORMATS, ROLES, format_of, load_dataset, parse_columns, save_dataset
from workbench.data.pairs import CLEANED_KINDS, FIELDS, LEVELS, DataError, Dataset, DialoguePair, Problem
from workbench.data.rules import (DEFAULT_RULES, ValidationRules, apply_rules, clean_text, drop_invalid, dropped_rows, norm,
                    question_key, repeat_problems, validate, validate_pair)

_norm = norm   # the name the app's table used before the rules moved to rules.py

__all__ = ["FORMATS", "ROLES", "format_of", "load_dataset", "parse_columns", "save_dataset", "CLEANED_KINDS",
           "FIELDS", "LEVELS", "DataError", "Dataset", "DialoguePair", "Problem", "DEFAULT_RULES", "ValidationRules",
           "apply_rules", "clean_text", "drop_invalid", "dropped_rows", "norm", "question_key", "repeat_problems",
           "validate", "validate_pair"]
