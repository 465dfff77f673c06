"""The built-in task's parts of each view: export tables, the report section, eval matching."""
