"""The event file (TOML) and loading it into the database; its texts in several
languages, and the interface translations."""
