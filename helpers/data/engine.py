"""One data-access layer for every table, wherever the data lives.

A sales leader's data sits in one of two places: a folder of exported files (the sample
organisation, a monthly CRM export) or a database (PostgreSQL, a warehouse). Every
notebook reads its tables through :func:`open_source`, so the same analysis runs on both
and gives the same numbers.

* **Folder source** -- an in-process DuckDB opens views over ``<table>.parquet``,
  ``<table>.csv.gz`` or ``<table>.csv`` in the data folder. CSV files are read with the
  column types declared in :mod:`helpers.core.contract` (header row, UTF-8). Nothing is copied
  into memory until an analysis asks for a (small) result.
* **Database source** -- ``ibis.connect(url)`` on a URL such as
  ``postgres://user:password@host:5432/crm``, tables named as in the contract, optionally
  in a schema (``[data] schema`` in the configuration).

Either way :meth:`DataSource.table` returns an Ibis table whose columns carry the
contract's types (strings, UTC timestamps, dates, floats, integers), so an expression
built once (:mod:`helpers.data.reductions`) compiles to each engine and returns identical
results. The database URL comes from an environment variable (``[data] url_env``,
``SALES_WORKBOOK_DB_URL`` by default) or the configuration file (``[data] url``), never from
notebook parameters, and its password is never printed.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import ibis
import ibis.common.exceptions as ibis_exc
import ibis.expr.datatypes as dt

from helpers.core.contract import TABLE_ORDER, TABLES, Table, find_table_files

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from helpers.core.config import WorkbookConfig

__all__ = [
    "DataSource",
    "DataSourceError",
    "FolderSource",
    "DatabaseSource",
    "MissingTableError",
    "MissingColumnError",
    "contract_schema",
    "load_folder_into_database",
    "open_source",
    "redact_url",
]

#: Ibis type of each contract dtype. Months stay "YYYY-MM" strings.
IBIS_TYPES: dict[str, dt.DataType] = {
    "string": dt.String(),
    "int": dt.Int64(),
    "float": dt.Float64(),
    "date": dt.Date(),
    "timestamp": dt.Timestamp(timezone="UTC"),
    "month": dt.String(),
    "bool": dt.Boolean(),
}

#: DuckDB type used to parse each contract dtype out of a CSV file.
_CSV_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "month": "VARCHAR",
    "bool": "BOOLEAN",
}

# blanks at either end of a category value (spaces, tabs, line breaks)
_EDGE_BLANKS = "^[ \t\r\n]+|[ \t\r\n]+$"

class DataSourceError(RuntimeError):
    """The data source cannot be opened or read; the message says how to fix it."""


class MissingTableError(DataSourceError, KeyError):
    """A table the analysis needs is not in the data source."""

    def __init__(self, table: str, source: str):
        self.table = table
        self.source = source
        super().__init__(
            f"table {table!r} is not in {source}. Add a file {table}.parquet, {table}.csv.gz or "
            f"{table}.csv to the data folder (or a table {table!r} to the database); "
            f"see docs/data-contract.md for its columns."
        )

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class MissingColumnError(DataSourceError):
    """A required column of the contract is absent from a table."""


def contract_schema(table: str) -> ibis.Schema:
    """The Ibis schema every engine presents for a contract table."""
    spec = _spec(table)
    return ibis.schema({c.name: IBIS_TYPES[c.dtype] for c in spec.columns})


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (safe to print or log)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable database URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc
    userinfo, _, hostinfo = netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostinfo}"))


def _scrub(text: str, url: str) -> str:
    """Remove the password of ``url`` from an arbitrary message."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if url:
        text = text.replace(url, redact_url(url))
    if password:
        text = text.replace(password, "***")
    return re.sub(r"password=\S+", "password=***", text)


def _spec(table: str) -> Table:
    try:
        return TABLES[table]
    except KeyError:
        raise DataSourceError(
            f"{table!r} is not a table of the data contract. Known tables: {', '.join(TABLE_ORDER)}."
        ) from None


class DataSource:
    """Typed, read-only access to the contract's tables, whatever the engine.

    Subclasses provide :meth:`_raw_table`, :meth:`_available` and :meth:`fingerprint`.
    """

    kind: str = ""

    def __init__(self, con: Any, description: str):
        self.con = con
        self.description = description
        self._typed: dict[str, ibis.Table] = {}
        #: ``[categories]`` of the configuration: column -> {value in the data: value the analyses read}
        self.category_map: dict[str, dict[str, str]] = {}
        #: ``[data] on_bad_rows = "quarantine"``: rows breaking the contract are left out (see :meth:`table`)
        self.quarantine = False

    # -- to implement -------------------------------------------------------------
    def _available(self) -> set[str]:
        raise NotImplementedError

    def _raw_table(self, name: str) -> ibis.Table:
        raise NotImplementedError

    def fingerprint(self) -> str:
        """A hash that changes whenever the data changes (used to cache reports)."""
        raise NotImplementedError

    # -- public API ---------------------------------------------------------------
    def has(self, table: str) -> bool:
        """Whether the source holds ``table``."""
        _spec(table)
        return table in self._available()

    def present_columns(self, name: str) -> set[str]:
        """The contract columns the data really holds for ``name`` (empty when the table is absent);
        :meth:`table` shows absent optional columns too, as NULLs or their fill."""
        spec = _spec(name)
        if not self.has(name):
            return set()
        raw = set(self._raw_table(name).columns)
        return {c.name for c in spec.columns if c.name in raw}

    def tables(self) -> list[str]:
        """The contract tables present, in contract order."""
        available = self._available()
        return [name for name in TABLE_ORDER if name in available]

    def table(self, name: str) -> ibis.Table:
        """The table as an Ibis expression with exactly the contract's columns and types.

        Optional columns absent from the data are present as typed NULLs, so expressions
        never depend on which optional columns a company exports. Extra columns are dropped.
        """
        spec = _spec(name)
        if name in self._typed:
            return self._typed[name]
        if not self.has(name):
            raise MissingTableError(name, self.description)
        raw = self._raw_table(name)
        present = set(raw.columns)
        missing_required = [c.name for c in spec.columns if c.required and c.name not in present]
        if missing_required:
            raise MissingColumnError(
                f"table {name!r} in {self.description} lacks required column(s) "
                f"{', '.join(missing_required)}. Add them (see docs/data-contract.md) or run "
                f"`sales-workbook validate` for a full report."
            )
        absent_timestamps = [c.name for c in spec.columns if c.dtype == "timestamp" and c.name not in present]
        if absent_timestamps and getattr(self.con, "name", "") == "duckdb":
            # the SQL compiler for DuckDB refuses EXTRACT (year, month ...) on an expression it can see is a
            # TIMESTAMPTZ, e.g. CAST(NULL AS TIMESTAMPTZ) inlined from an absent created_at: a view adds the
            # all-NULL column, which queries then read as a plain column
            view = f"complete_{name}_{abs(hash(self.description)) % 10**8}"
            nulls = {col: ibis.null(IBIS_TYPES["timestamp"]) for col in absent_timestamps}
            raw = self.con.create_view(view, raw.mutate(**nulls), overwrite=True)
            present |= set(absent_timestamps)

        def typed_column(c: Any) -> ibis.Value:
            if c.name not in present:
                if c.fill is None:
                    return ibis.null(IBIS_TYPES[c.dtype])
                if c.fill.startswith("="):  # a copy of another column (e.g. name <- rep_id)
                    return typed_column(spec.column(c.fill[1:]))
                return ibis.literal(c.fill, type=IBIS_TYPES[c.dtype])
            raw_type = raw[c.name].type()
            if (c.dtype == "timestamp" and raw_type.is_timestamp() and raw_type.timezone is not None
                    and getattr(self.con, "name", "") == "duckdb"):
                # already a zoned timestamp (any precision): read as it is. A CAST(... AS TIMESTAMPTZ) would
                # make the SQL compiler for DuckDB refuse EXTRACT (year, month) on it
                return raw[c.name]
            value = raw[c.name].cast(IBIS_TYPES[c.dtype])
            if c.dtype != "string":
                return value
            # an empty string is a missing value, as validation treats it (Parquet can hold both)
            value = value.nullif("")
            if c.allowed and c.open_vocabulary:
                # open vocabulary: values kept as their own level, trimmed and lower-cased; an empty cell of a
                # column that must hold a value reads "unknown"; the configuration's [categories] map applies
                # (a regular expression, not strip(): Spark SQL reads the form feed of strip()'s character
                # set as a plain "f" and cut "free_trial" to "ree_trial")
                value = value.re_replace(_EDGE_BLANKS, "").lower()
                if not c.nullable or c.fill is not None:
                    value = value.fill_null("unknown")
                mapping = self.category_map.get(c.name) or self.category_map.get(f"{name}.{c.name}")
                if mapping:
                    value = value.substitute(mapping)
            return value

        typed = raw.select(**{c.name: typed_column(c) for c in spec.columns})
        if self.quarantine:
            typed = typed.filter(_valid_rows(spec, typed))
        self._typed[name] = typed
        return typed

    def read(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The table (or some of its columns) as a pandas DataFrame with contract dtypes."""
        expr = self.table(name)
        if columns is not None:
            unknown = [c for c in columns if c not in expr.columns]
            if unknown:
                raise DataSourceError(
                    f"table {name!r} has no column(s) {', '.join(unknown)}; "
                    f"its columns are {', '.join(expr.columns)}."
                )
            expr = expr.select(*columns)
        try:
            return expr.to_pandas()
        except Exception as exc:  # noqa: BLE001 - re-raised with the table named and a way forward
            raise DataSourceError(
                f"cannot read table {name!r} from {self.description}: {self._explain(exc)} "
                f"Run `sales-workbook validate` for every offending row."
            ) from None

    def _explain(self, exc: Exception) -> str:
        """The engine's message, cut before its generic advice (which is about DuckDB options)."""
        text = str(exc).split("Possible solutions:")[0].split("This type was auto-detected")[0]
        return " ".join(text.split())

    def close(self) -> None:
        """Release the connection (and any folder it spilled to)."""
        self._typed.clear()
        disconnect = getattr(self.con, "disconnect", None)
        if disconnect is not None:
            try:
                disconnect()
            except Exception:  # noqa: BLE001 - closing twice is harmless
                pass
        spill = getattr(self, "_spill", None)
        if spill is not None:
            spill.cleanup()
            self._spill = None

    def __enter__(self) -> DataSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}: {self.description}>"


class FolderSource(DataSource):
    """Files in a data folder, queried in place by an in-process DuckDB."""

    kind = "folder"

    def __init__(self, data_dir: str | Path, *, threads: int | None = None, memory_limit: str | None = None):
        data_dir = Path(data_dir).expanduser().resolve()
        if not data_dir.is_dir():
            raise DataSourceError(
                f"data folder {data_dir} does not exist. Point [data] dir in workbook.toml (or --data) at the "
                f"folder holding reps.csv etc., or create the sample with `sales-workbook sample`."
            )
        self.data_dir = data_dir
        config: dict[str, Any] = {}
        if threads is not None:
            config["threads"] = threads
        self._spill: tempfile.TemporaryDirectory[str] | None = None
        if memory_limit:
            # past the cap DuckDB spills to disk: to a private temporary folder, never the working
            # directory (a notebook's, or the report's staging folder)
            self._spill = tempfile.TemporaryDirectory(prefix="sales-workbook-duckdb-")
            config["memory_limit"] = memory_limit
            config["temp_directory"] = self._spill.name
        con = ibis.duckdb.connect(**config)
        super().__init__(con, f"data folder {data_dir}")
        self._files = self._find_files()

    def _find_files(self) -> dict[str, Path]:
        # parquet first, then csv.gz, then csv (two files for one table fail validation)
        return {name: paths[0] for name, paths in find_table_files(self.data_dir).items()}

    def file(self, name: str) -> Path:
        """The file a table is read from."""
        if not self.has(name):
            raise MissingTableError(name, self.description)
        return self._files[name]

    def _available(self) -> set[str]:
        return set(self._files)

    def _raw_table(self, name: str) -> ibis.Table:
        path = self._files[name]
        view = f"raw_{name}"
        if path.name.endswith(".parquet"):
            raw = self.con.read_parquet(str(path), table_name=view)
        else:
            header = _csv_header(path)
            spec = TABLES[name]
            declared = {c.name: _CSV_TYPES[c.dtype] for c in spec.columns}
            columns = {col: declared.get(col, "VARCHAR") for col in header}
            try:
                raw = self.con.read_csv(
                    str(path), table_name=view, columns=columns, header=True, encoding="utf-8",
                    auto_detect=False, delim=",", quote='"', escape='"',
                )
            except Exception as exc:  # noqa: BLE001 - re-raised with the file named
                raise DataSourceError(f"cannot read {path}: {exc}. Run `sales-workbook validate` "
                                      f"to find the offending rows.") from None
        return raw

    def fingerprint(self) -> str:
        """sha256 over the file names and contents of every table file (streamed)."""
        digest = hashlib.sha256()
        for name in sorted(self._files):
            path = self._files[name]
            digest.update(path.name.encode() + b"\0")
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            digest.update(b"\0")
        return digest.hexdigest()


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            line = handle.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataSourceError(f"cannot read the header of {path}: {exc}. Save the file as UTF-8 CSV.") from None
    header = next(csv.reader([line]), [])
    header = [h.strip() for h in header]
    if not header or not any(header):
        raise DataSourceError(f"{path} is empty or has no header row. The first line must name the columns.")
    return header


class DatabaseSource(DataSource):
    """Tables in a database reached through an Ibis backend (PostgreSQL, DuckDB file, ...)."""

    kind = "database"

    def __init__(self, url: str, *, schema: str | None = None):
        self._url = url
        self.schema = schema or None
        try:
            con = ibis.connect(url)
        except Exception as exc:  # noqa: BLE001 - the driver's message may quote the URL
            raise DataSourceError(
                f"cannot connect to {redact_url(url)}: {type(exc).__name__}: {_scrub(str(exc), url)}. "
                f"Check the URL in the environment variable and that the server is reachable."
            ) from None
        where = f" schema {self.schema}" if self.schema else ""
        super().__init__(con, f"database {redact_url(url)}{where}")
        self._table_names: set[str] | None = None

    @classmethod
    def from_backend(cls, con: Any, *, schema: str | None = None, description: str | None = None) -> DatabaseSource:
        """Wrap an already-connected Ibis backend (e.g. ``ibis.pyspark.connect(spark_session)``).

        For engines reached through an object rather than a URL; ``description`` is what
        error messages call the source.
        """
        source = cls.__new__(cls)
        source._url = ""
        source.schema = schema or None
        name = getattr(con, "name", type(con).__name__)
        where = f" schema {source.schema}" if source.schema else ""
        DataSource.__init__(source, con, description or f"{name} backend{where}")
        source._table_names = None
        return source

    def _explain(self, exc: Exception) -> str:
        return _scrub(super()._explain(exc), self._url)

    @property
    def url(self) -> str:
        """The URL with the password redacted."""
        return redact_url(self._url)

    def _available(self) -> set[str]:
        if self._table_names is None:
            kwargs = {"database": self.schema} if self.schema else {}
            try:
                if self.con.name == "duckdb":
                    # Ibis 12's DuckDB list_tables calls an API DuckDB 2 removed: probe each table
                    names = {name for name in TABLE_ORDER if self._probe(name)}
                else:
                    names = set(self.con.list_tables(**kwargs))
            except Exception as exc:  # noqa: BLE001
                raise DataSourceError(
                    f"cannot list the tables of {self.description}: {_scrub(str(exc), self._url)}"
                ) from None
            self._table_names = names & set(TABLE_ORDER)
        return self._table_names

    def _probe(self, name: str) -> bool:
        try:
            self._raw_table(name)
        except ibis_exc.TableNotFound:
            return False
        return True

    def _raw_table(self, name: str) -> ibis.Table:
        kwargs = {"database": self.schema} if self.schema else {}
        return self.con.table(name, **kwargs)

    def fingerprint(self) -> str:
        """sha256 over each table's row count and latest date/timestamp values."""
        digest = hashlib.sha256()
        for name in self.tables():
            spec = TABLES[name]
            table = self.table(name)
            metrics: dict[str, Any] = {"rows": table.count()}
            for col in spec.columns:
                if col.dtype in ("timestamp", "date"):
                    metrics[f"max_{col.name}"] = table[col.name].max()
            row = table.aggregate(**metrics).to_pyarrow().to_pylist()[0]
            digest.update(repr((name, sorted(row.items()))).encode())
        return digest.hexdigest()


def _drop_table_if_exists(con: Any, name: str, schema: str | None) -> None:
    """DROP TABLE IF EXISTS, compiled for the backend's dialect.

    Ibis 12's ``drop_table`` and ``create_table(overwrite=True)`` emit an empty ``DROP TABLE``
    with sqlglot >= 30 (``Drop`` takes ``tables=[...]`` there), so the statement is built here.
    """
    import sqlglot as sg
    import sqlglot.expressions as sge

    table = sg.table(name, db=schema, quoted=True)
    if "tables" in sge.Drop.arg_types:
        drop = sge.Drop(kind="TABLE", tables=[table], exists=True)
    else:  # older sqlglot
        drop = sge.Drop(kind="TABLE", this=table, exists=True)
    con.raw_sql(drop.sql(con.dialect))


def _copy_into_postgres(con: Any, name: str, schema: str | None, batches: Any, names: list[str]) -> None:
    """Stream Arrow record batches into PostgreSQL with COPY (CSV written by Arrow).

    Ibis inserts row by row (executemany); COPY is about ten times faster on large tables.
    """
    import io

    import pyarrow.csv as pa_csv
    import sqlglot as sg

    target = sg.table(name, db=schema, quoted=True).sql("postgres")
    columns = ", ".join(sg.to_identifier(c, quoted=True).sql("postgres") for c in names)
    options = pa_csv.WriteOptions(include_header=False)
    with con.con.cursor() as cursor, con.con.transaction():
        with cursor.copy(f"COPY {target} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
            for batch in batches:
                buffer = io.BytesIO()
                pa_csv.write_csv(batch, buffer, write_options=options)
                copy.write(buffer.getvalue())


def open_source(config: WorkbookConfig | None = None, *, data_dir: str | Path | None = None,
                url: str | None = None) -> DataSource:
    """Open the data the analyses read.

    Precedence: an explicit ``url``, then an explicit ``data_dir``, then the database URL
    held in the environment variable named by the configuration (``[data] url_env``,
    default ``SALES_WORKBOOK_DB_URL``) or written as ``[data] url``, then the configuration's
    data folder.
    """
    schema = config.schema if config is not None else None
    if url:
        return _with_categories(DatabaseSource(url, schema=schema), config)
    limit = config.settings.string("data.engine_memory_limit") if config is not None else None
    if data_dir is not None:
        return _with_categories(FolderSource(data_dir, memory_limit=limit or None), config)
    if config is None:
        from helpers.core.config import load_config

        config = load_config()
        schema = config.schema
    env_url = config.database_url
    if env_url:
        return _with_categories(DatabaseSource(env_url, schema=schema), config)
    return _with_categories(FolderSource(config.data_dir,
                                         memory_limit=config.settings.string("data.engine_memory_limit") or None),
                            config)


def _with_categories(source: DataSource, config: WorkbookConfig | None) -> DataSource:
    """The configuration's ``[categories]`` mapping (applied by :meth:`DataSource.table` to open vocabularies)
    and its bad-row policy (``[data] on_bad_rows``: quarantined rows are left out)."""
    if config is not None:
        from helpers.core.config import category_map, on_bad_rows

        source.category_map = category_map(config)
        source.quarantine = on_bad_rows(config) == "quarantine"
    return source


def _valid_rows(spec: Table, typed: ibis.Table) -> ibis.Value:
    """Rows a quarantine keeps: later timestamp not before the earlier, numbers in range, closed categories
    allowed, required cells filled (the row-level checks of validation, as one engine predicate)."""
    keep = ibis.literal(True)
    for earlier, later in spec.ordered:
        keep &= typed[later].isnull() | typed[earlier].isnull() | (typed[later] >= typed[earlier])
    for c in spec.columns:
        col = typed[c.name]
        if c.min_value is not None:
            keep &= col.isnull() | (col >= c.min_value)
        if c.max_value is not None:
            keep &= col.isnull() | (col <= c.max_value)
        if c.allowed and not c.open_vocabulary:
            keep &= col.isnull() | col.isin(list(c.allowed))
        if c.required and not c.nullable:
            keep &= col.notnull()
    return keep


def load_folder_into_database(data_dir: str | Path, url: str, schema: str | None = None, *,
                              tables: Iterable[str] | None = None) -> list[str]:
    """Copy every table of a data folder into a database, typed per the contract.

    Existing tables of the same name are replaced. Use it to try the database path with the
    bundled sample::

        load_folder_into_database("data/sample", "postgres://me:secret@localhost/sales")

    Returns the names of the tables loaded.
    """
    folder = FolderSource(data_dir)
    target = DatabaseSource(url, schema=schema)
    try:
        if schema:
            try:
                target.con.create_database(schema, force=True)
            except Exception as exc:  # noqa: BLE001
                raise DataSourceError(
                    f"cannot create schema {schema!r} in {target.description}: {_scrub(str(exc), url)}"
                ) from None
        names = [t for t in (tables or folder.tables()) if folder.has(t)]
        kwargs = {"database": schema} if schema else {}
        for name in names:  # a handful of tables, not rows
            # drop, create empty, insert: Ibis 12's create_table(obj=...) issues a malformed DROP
            # with sqlglot >= 30 (see _drop_table_if_exists)
            _drop_table_if_exists(target.con, name, schema)
            target.con.create_table(name, schema=contract_schema(name), **kwargs)
            if target.con.name == "postgres":
                # to_pyarrow, not to_pyarrow_batches: the latter calls an API DuckDB 2 removed
                data = folder.table(name).to_pyarrow()
                _copy_into_postgres(target.con, name, schema, data.to_batches(max_chunksize=200_000),
                                    data.schema.names)
            else:
                target.con.insert(name, folder.table(name).to_pyarrow(), **kwargs)
        return names
    finally:
        folder.close()
        target.close()
