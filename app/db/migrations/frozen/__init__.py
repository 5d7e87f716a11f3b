"""Code that migrations run, frozen as it was at their revision.

A migration never imports live application code: the application moves on (a model
gains a column, a fold learns a new event) while the migration must keep doing what it
did at its revision, on a schema as it was then. What a migration needs beyond Alembic
and SQLAlchemy is copied here, once, named after its revision, and never edited
(``stats_0004``). The only other ``app`` module a migration may import is
``app.db.types`` — the column types, whose storage format is itself part of the schema
and never changes. tests/core/test_migrations_frozen.py checks both rules.
"""
