"""What a migrated database looks like, read from its catalogue in the same terms for SQLite and PostgreSQL:
tables, columns (type, NOT NULL, default, primary key), unique keys, foreign keys, checks, indexes, triggers.

The two backends spell things differently (`'pending'` and `'pending'::text`, `status IN ('a', 'b')` and
`status = ANY (ARRAY['a'::text, 'b'::text])`): defaults lose their casts, and a check or an index predicate is
compared by the column names and literals it mentions.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

_TYPES = {"integer": "integer", "bigint": "integer", "text": "text", "real": "real", "double precision": "real",
          "blob": "blob", "bytea": "blob"}  # fmt: skip
_WORDS = re.compile(r"'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_]*|\d+")
_NOISE = {"text", "integer", "bigint", "array", "any", "and", "or", "not", "is", "null", "in", "between", "lower",
          "upper", "check", "where", "collate", "c"}  # fmt: skip


def words(expression: str) -> tuple[str, ...]:
    """The identifiers, numbers and string literals an expression mentions, sorted, without the dialects' noise."""
    found = set()
    for word in _WORDS.findall(expression or ""):
        lowered = word if word.startswith("'") else word.lower()
        if lowered not in _NOISE:
            found.add(lowered)
    return tuple(sorted(found))


def default(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return re.sub(r"::[a-z ]+$", "", text)


@dataclass
class Table:
    columns: dict[str, tuple[str, bool, str | None]] = field(default_factory=dict)  # type, not null, default
    primary_key: tuple[str, ...] = ()
    unique: set[tuple[str, ...]] = field(default_factory=set)  # UNIQUE constraints (not CREATE UNIQUE INDEX)
    foreign_keys: set[tuple[tuple[str, ...], str, tuple[str, ...]]] = field(default_factory=set)
    checks: Counter[tuple[str, ...]] = field(default_factory=Counter)


@dataclass
class Shape:
    tables: dict[str, Table] = field(default_factory=dict)
    indexes: dict[str, tuple[str, bool, tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    triggers: set[tuple[str, str, str]] = field(default_factory=set)  # name, table, event


def _checks(sql: str) -> list[str]:
    """Every CHECK (...) expression of a CREATE TABLE text, balanced parentheses."""
    found = []
    for match in re.finditer(r"\bCHECK\s*\(", sql, flags=re.IGNORECASE):
        depth, i = 1, match.end()
        while depth and i < len(sql):
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            i += 1
        found.append(sql[match.end() : i - 1])
    return found


def sqlite_shape(conn: sqlite3.Connection) -> Shape:
    shape = Shape()
    tables = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    for name, sql in tables:
        table = Table()
        info = conn.execute(f"PRAGMA table_info({name})").fetchall()
        for _cid, column, kind, notnull, dflt, pk in info:
            table.columns[column] = (_TYPES[kind.lower()], bool(notnull) or pk > 0, default(dflt))
        table.primary_key = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
        for _seq, index, unique, origin, _partial in conn.execute(f"PRAGMA index_list({name})").fetchall():
            cols = tuple(r[2] for r in conn.execute(f"PRAGMA index_info({index})").fetchall())
            if origin == "u":
                table.unique.add(cols)
            elif origin == "c":
                (index_sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (index,)).fetchone()
                where = index_sql.split(" WHERE ", 1)[1] if " WHERE " in index_sql else ""
                on = re.search(r"\((.*)\)", index_sql.split(" WHERE ", 1)[0], flags=re.DOTALL)
                shape.indexes[index] = (name, bool(unique), words(on.group(1) if on else ""), words(where))
        for row in conn.execute(f"PRAGMA foreign_key_list({name})").fetchall():
            table.foreign_keys.add(((row[3],), row[2], (row[4] or "id",)))
        table.checks = Counter(words(expr) for expr in _checks(sql))
        shape.tables[name] = table
    for name, table_name, sql in conn.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"):
        event = re.search(r"\b(BEFORE|AFTER)\s+(UPDATE|DELETE|INSERT)\b", sql, flags=re.IGNORECASE)
        assert event is not None
        shape.triggers.add((name, table_name, f"{event.group(1)} {event.group(2)}".upper()))
    return shape


async def postgres_shape(conn: Any) -> Shape:
    """conn: an asyncpg connection whose search_path is the schema to read."""
    shape = Shape()
    columns = await conn.fetch(
        "SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity"
        " FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    )
    for r in columns:
        table = shape.tables.setdefault(r["table_name"], Table())
        table.columns[r["column_name"]] = (
            _TYPES[r["data_type"]],
            r["is_nullable"] == "NO",
            default(r["column_default"]),
        )
    constraints = await conn.fetch(
        "SELECT c.conrelid::regclass::text AS table_name, c.contype::text AS contype,"
        " pg_get_constraintdef(c.oid) AS definition,"
        " ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(n, o)"
        "       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) AS cols,"
        " c.confrelid::regclass::text AS ref_table,"
        " ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(n, o)"
        "       JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o) AS ref_cols"
        " FROM pg_constraint c WHERE c.connamespace = current_schema()::regnamespace"
    )
    for r in constraints:
        table = shape.tables[r["table_name"]]
        cols = tuple(r["cols"])
        if r["contype"] == "p":
            table.primary_key = cols
        elif r["contype"] == "u":
            table.unique.add(cols)
        elif r["contype"] == "f":
            table.foreign_keys.add((cols, r["ref_table"], tuple(r["ref_cols"])))
        elif r["contype"] == "c":
            table.checks[words(r["definition"].removeprefix("CHECK "))] += 1
    indexes = await conn.fetch(
        "SELECT i.relname AS name, t.relname AS table_name, x.indisunique AS is_unique,"
        " pg_get_indexdef(x.indexrelid) AS definition, pg_get_expr(x.indpred, x.indrelid) AS predicate"
        " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid"
        " WHERE t.relnamespace = current_schema()::regnamespace"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
    )
    for r in indexes:
        on = re.search(r"USING \w+ \((.*?)\)(?: WHERE|$)", r["definition"])
        shape.indexes[r["name"]] = (r["table_name"], r["is_unique"], words(on.group(1) if on else ""),
                                    words(r["predicate"] or ""))  # fmt: skip
    triggers = await conn.fetch(
        "SELECT t.tgname AS name, c.relname AS table_name, pg_get_triggerdef(t.oid) AS definition FROM pg_trigger t"
        " JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
        " AND c.relnamespace = current_schema()::regnamespace"
    )
    for r in triggers:
        event = re.search(r"\b(BEFORE|AFTER)\s+(UPDATE|DELETE|INSERT)\b", r["definition"])
        assert event is not None
        shape.triggers.add((r["name"], r["table_name"], f"{event.group(1)} {event.group(2)}"))
    return shape
