"""The database: engine and sessions, tables, migrations, tokens, and the read queries
the screens, phones, team and report are built from."""
