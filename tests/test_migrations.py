"""The migrations: none missing, and those on the big tables built without holding off
their writers (the known-hash list: five million entries and more)."""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from tests.conftest import require, uses_postgresql

SHARING_COLUMNS = "intake.0015_hash_sharing"
SHARING_INDEXES = ("intake", "0016_hash_sharing_indexes")


@pytest.mark.django_db
def test_the_models_need_no_migration_that_is_not_written() -> None:
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)  # exits 1 otherwise

    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_the_sharing_columns_are_added_without_reading_the_known_hash_list() -> None:
    require(uses_postgresql(), "SQLite, the embedded mode, rebuilds a table to alter it")
    out = StringIO()
    call_command("sqlmigrate", *SHARING_COLUMNS.split("."), stdout=out)
    on_the_list = [
        line
        for line in out.getvalue().splitlines()
        if re.match(r'(ALTER TABLE|CREATE .*INDEX .* ON) "intake_knownhash"', line)
    ]

    assert len(on_the_list) == 4  # confirmed_at, confirmed_by, confirmed_from_report, shared_seq
    for statement in on_the_list:
        assert "ADD COLUMN" in statement
        assert not re.search(r"UNIQUE|REFERENCES|INDEX", statement), statement
        assert "NOT NULL" not in statement or "DEFAULT ''" in statement  # a constant default


def knownhash_schema() -> dict[str, tuple[str, bool]]:
    """intake_knownhash's constraints and indexes by name: (kind, valid)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, contype::text, convalidated FROM pg_constraint "
            "WHERE conrelid = 'intake_knownhash'::regclass "
            "UNION ALL "
            "SELECT c.relname, 'index', i.indisvalid FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = 'intake_knownhash'::regclass"
        )
        return {name: (kind, valid) for name, kind, valid in cursor.fetchall()}


def migrate_to(target: tuple[str, str]) -> list[str]:
    executor = MigrationExecutor(connection)
    with CaptureQueriesContext(connection) as queries:
        executor.migrate([target])
    return [query["sql"] for query in queries.captured_queries]


@contextmanager
def at_the_sharing_columns() -> Iterator[Callable[[], list[str]]]:
    """The database back at 0015 (the sharing columns, not their indexes), with a function
    migrating intake to its latest that returns the SQL it ran; afterwards every app at
    its latest again, whatever happened (unapplying 0016 unapplies what depends on it)."""
    graph = MigrationExecutor(connection).loader.graph
    try:
        migrate_to(("intake", "0015_hash_sharing"))
        yield lambda: migrate_to(graph.leaf_nodes("intake")[0])
    finally:
        MigrationExecutor(connection).migrate(graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_sharing_indexes_are_built_concurrently_and_the_key_validated_apart() -> None:
    require(uses_postgresql(), "CREATE INDEX CONCURRENTLY and NOT VALID are PostgreSQL's")
    built = knownhash_schema()

    with at_the_sharing_columns() as migrate_to_latest:
        without = knownhash_schema()
        statements = migrate_to_latest()
        rebuilt = knownhash_schema()

    # Between 0015 and 0016 the list has its old indexes only.
    assert set(built) - set(without) == {
        "intake_knownhash_shared_seq_key",  # as a constraint and as its index
        "intake_knownhash_confirmed_from_report_id_3b7ed321",
        "intake_knownhash_confirmed_from_repor_3b7ed321_fk_intake_re",
    }
    # 0016 gives back the same schema, every piece valid.
    assert rebuilt == built
    assert all(valid for _, valid in rebuilt.values())
    # ... each piece built without a lock that holds off writers while rows are read.
    building = [
        sql
        for sql in statements
        if "intake_knownhash" in sql and re.match(r"(CREATE|ALTER TABLE)", sql.lstrip())
    ]
    assert building, statements
    for sql in building:
        assert re.search(
            r"CREATE (UNIQUE )?INDEX CONCURRENTLY|NOT VALID|VALIDATE CONSTRAINT|USING INDEX", sql
        ), sql
    assert any("SET lock_timeout" in sql for sql in statements)


@pytest.mark.django_db(transaction=True)
def test_the_sharing_indexes_are_finished_by_running_again_after_a_run_cut_short() -> None:
    require(uses_postgresql(), "CREATE INDEX CONCURRENTLY and NOT VALID are PostgreSQL's")
    built = knownhash_schema()
    with at_the_sharing_columns() as migrate_to_latest, connection.cursor() as cursor:
        # A build that failed (here on two equal values) leaves its index invalid ...
        cursor.execute(
            "INSERT INTO intake_knownhash (hash_type, value, label, source, is_active, "
            "created_at, confirmed_by, shared_seq) VALUES "
            "('md5', repeat('a', 32), '', '', true, now(), '', 7), "
            "('md5', repeat('b', 32), '', '', true, now(), '', 7)"
        )
        with pytest.raises(IntegrityError):
            cursor.execute(
                "CREATE UNIQUE INDEX CONCURRENTLY intake_knownhash_shared_seq_key "
                "ON intake_knownhash (shared_seq)"
            )
        cursor.execute("DELETE FROM intake_knownhash")
        # ... and a run stopped between adding the key and validating it leaves it so.
        cursor.execute(
            "ALTER TABLE intake_knownhash ADD CONSTRAINT "
            "intake_knownhash_confirmed_from_repor_3b7ed321_fk_intake_re "
            "FOREIGN KEY (confirmed_from_report_id) REFERENCES intake_report (id) "
            "DEFERRABLE INITIALLY DEFERRED NOT VALID"
        )
        cut_short = knownhash_schema()
        migrate_to_latest()
        finished = knownhash_schema()

    assert cut_short["intake_knownhash_shared_seq_key"] == ("index", False)
    assert cut_short["intake_knownhash_confirmed_from_repor_3b7ed321_fk_intake_re"] == ("f", False)
    assert finished == built
    assert all(valid for _, valid in finished.values())


@pytest.mark.parametrize("direction", [[], ["--backwards"]])
@pytest.mark.django_db
def test_the_sharing_columns_wait_at_most_ten_seconds_for_their_locks_either_way(
    direction: list[str],
) -> None:
    require(uses_postgresql(), "lock_timeout is PostgreSQL's")
    out = StringIO()
    call_command("sqlmigrate", *SHARING_COLUMNS.split("."), *direction, stdout=out)
    statements = [
        line for line in out.getvalue().splitlines() if line and not line.startswith("--")
    ]

    assert statements[:2] == ["BEGIN;", "SET LOCAL lock_timeout = '10s';"]
