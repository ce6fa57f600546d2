"""The ground floor: the data model every other layer shares. It imports nothing else of skillc.

`SkillSpec` and graph validation (`spec`), `Task` and samples (`task`), output contracts (`contracts`),
the one equality rule for answers (`answers`), the safe expression evaluator (`safe_eval`), trace types
(`trace`), the eval report (`report`), bank records (`records`), atomic files, the JSON-lines reader and
the manifest (`files`), and the typed errors with their exit codes (`errors`).
"""
