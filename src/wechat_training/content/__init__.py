"""Content: what trainers author, validated.

Owns the schema of rules, questions and modules, YAML parsing that keeps every
value's line, the catalogue (every problem at once, as `path:line`), the
campaign (who must do which module by when), and where the content lives
(`location`). The bottom layer: imports nothing else of the kit.
"""
