"""Backups an administrator can trust: the database (SQLite online backup API while the
hub writes, or pg_dump), the recordings store, a manifest with the SHA-256 of every
member and a checksum of the manifest; restore checks all of it before touching
anything and refuses a corrupt backup or one from a newer schema."""
