"""Putting a used PostgreSQL test database back into its migrated template's state, so that a test
worker can hand it to the next test instead of dropping it and copying the template again.

`capture()` reads the freshly migrated template once: a fingerprint of its schema, and a reset script
that deletes every row (children before parents), inserts again the rows the migrations seeded and sets
every sequence to the template's value. `reset()` runs that script on a used database in one round trip
and one transaction, after terminating the connections the test left behind and checking the schema's
fingerprint: if either fails (a connection survives, a test changed the schema), nothing is reset and
the caller drops the database instead.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass

import asyncpg

# Everything outside the system schemas that a test could change with DDL, and the migration revision.
# Names, types, defaults and definitions only (no OIDs): a database copied from the template and one
# walked down and up the migrations again both read as the template.
FINGERPRINT_SQL = r"""
WITH ns AS (
  SELECT oid, nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_%'
), items AS (
  SELECT 'n ' || nspname AS item FROM ns
  UNION ALL
  SELECT format('c %s.%s %s %s', ns.nspname, c.relname, c.relkind, c.relpersistence)
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
  UNION ALL
  SELECT format('a %s.%s %s %s %s %s %s %s %s', ns.nspname, c.relname, a.attnum, a.attname,
                format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity, a.attgenerated,
                pg_get_expr(d.adbin, d.adrelid))
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN ns ON ns.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT format('k %s %s %s', k.conrelid::regclass, k.conname, pg_get_constraintdef(k.oid))
  FROM pg_constraint k JOIN ns ON ns.oid = k.connamespace
  UNION ALL
  SELECT 'i ' || pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN ns ON ns.oid = c.relnamespace
  UNION ALL
  SELECT format('t %s.%s %s %s', ns.nspname, t.typname, t.typtype,
                (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                 FROM pg_enum e WHERE e.enumtypid = t.oid))
  FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
  UNION ALL
  SELECT format('s %s %s %s %s %s %s %s', s.seqrelid::regclass, s.seqtypid::regtype, s.seqstart,
                s.seqincrement, s.seqmax, s.seqmin, s.seqcycle)
  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN ns ON ns.oid = c.relnamespace
  UNION ALL
  SELECT 'g ' || pg_get_triggerdef(g.oid)
  FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN ns ON ns.oid = c.relnamespace
  WHERE NOT g.tgisinternal
  UNION ALL
  SELECT format('p %s.%s(%s) %s', ns.nspname, p.proname, pg_get_function_identity_arguments(p.oid),
                md5(p.prosrc))
  FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
  UNION ALL
  SELECT format('v %s %s', c.oid::regclass, pg_get_viewdef(c.oid))
  FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind IN ('v', 'm')
  UNION ALL
  SELECT format('d %s', s.setconfig)
  FROM pg_db_role_setting s JOIN pg_database b ON b.oid = s.setdatabase
  WHERE b.datname = current_database()
  UNION ALL
  SELECT 'r ' || version_num FROM public.alembic_version
)
SELECT md5(string_agg(item, E'\n' ORDER BY item)) FROM items
"""

_USER_SCHEMAS = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"

# Tables to empty: all but Alembic's (its row is part of the fingerprint); a partition is emptied
# through its parent. `columns` leaves out generated columns, which an INSERT cannot set.
_TABLES_SQL = f"""
SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS name,
       (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '')
       AS columns
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {_USER_SCHEMAS}
  AND NOT (n.nspname = 'public' AND c.relname = 'alembic_version')
"""

_FOREIGN_KEYS_SQL = "SELECT conrelid, confrelid FROM pg_constraint WHERE contype = 'f'"

_SEQUENCES_SQL = f"""
SELECT format('%I.%I', n.nspname, c.relname) AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S' AND {_USER_SCHEMAS}
"""

# The reset's first statement: the used database's leftover connections (a test's undisposed engine,
# a stopped process's pool) are terminated and waited for, then its schema is compared with the
# template's. Either failure aborts the transaction before any row is touched.
_GUARD = """DO $guard$
BEGIN
  PERFORM pg_terminate_backend(pid, 5000) FROM pg_stat_activity
  WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend';
  PERFORM pg_stat_clear_snapshot();
  IF EXISTS (SELECT FROM pg_stat_activity WHERE datname = current_database()
             AND pid <> pg_backend_pid() AND backend_type = 'client backend') THEN
    RAISE EXCEPTION 'test database reset: a connection outlived termination';
  END IF;
  IF ({fingerprint_sql}) IS DISTINCT FROM '{fingerprint}' THEN
    RAISE EXCEPTION 'test database reset: the schema is no longer the template''s';
  END IF;
END
$guard$
"""


@dataclass(frozen=True)
class ResetPlan:
    fingerprint: str
    script: str  # one simple-protocol query string: BEGIN; guard; deletes; seeds; setvals; COMMIT


async def connect(dsn: str) -> asyncpg.Connection:
    return await asyncpg.connect(dsn)


async def fingerprint(conn: asyncpg.Connection) -> str:
    value = await conn.fetchval(FINGERPRINT_SQL)
    assert isinstance(value, str)
    return value


async def capture(conn: asyncpg.Connection) -> ResetPlan:
    """The reset plan of the migrated template `conn` is connected to."""
    tables = {row["oid"]: (row["name"], row["columns"]) for row in await conn.fetch(_TABLES_SQL)}
    parents: dict[int, set[int]] = {oid: set() for oid in tables}
    for child, parent in await conn.fetch(_FOREIGN_KEYS_SQL):
        if child in tables and parent in tables and child != parent:
            parents[child].add(parent)
    try:
        # Parents before children: seeds are inserted in this order and rows deleted in the reverse.
        order = list(graphlib.TopologicalSorter(parents).static_order())
    except graphlib.CycleError:
        order = []  # tables that reference each other: one TRUNCATE of all empties them at once
    statements = ["BEGIN", "SET LOCAL client_min_messages = error", "SET LOCAL lock_timeout = '5s'"]
    statements.append(_GUARD.format(fingerprint_sql=FINGERPRINT_SQL, fingerprint=await fingerprint(conn)))
    if order:
        statements += [f"DELETE FROM {tables[oid][0]}" for oid in reversed(order)]
    elif tables:
        statements.append("TRUNCATE " + ", ".join(name for name, _ in tables.values()))
    for oid in order or list(tables):
        name, columns = tables[oid]
        seed = await conn.fetchval(
            "SELECT format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM unnest(%L::%s[])',"
            f" $1::text, $2::text, $2::text, array_agg(t ORDER BY ctid)::text, $1::text) FROM ONLY {name} AS t"
            " HAVING count(*) > 0",
            name,
            columns,
        )
        if seed is not None:
            statements.append(seed)
    setvals = []
    for name in [row["name"] for row in await conn.fetch(_SEQUENCES_SQL)]:
        value = await conn.fetchrow(
            f"SELECT format('setval(%L, %s, %L)', $1::text, last_value, is_called) AS call FROM {name}", name
        )
        assert value is not None
        setvals.append(value["call"])
    if setvals:
        statements.append("SELECT " + ", ".join(setvals))
    statements.append("COMMIT")
    return ResetPlan(await fingerprint(conn), ";\n".join(statements) + ";")


async def reset(dsn: str, plan: ResetPlan) -> bool:
    """Put the database at `dsn` back to the template's state; False (its rows untouched) if its
    schema is no longer the template's, a connection would not die or the reset failed."""
    try:
        conn = await connect(dsn)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        return False
    try:
        await conn.execute(plan.script)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        return False
    finally:
        await conn.close()
    return True
