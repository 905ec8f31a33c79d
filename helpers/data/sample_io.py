"""Writing the sample organisation's tables: Parquet, CSV or gzipped CSV, chunk by chunk.

Every table is written with exactly the contract's columns and Arrow types (ids as strings,
timestamps UTC, dates as calendar dates, months as ``YYYY-MM`` text). Writers append one chunk
(a month of simulated leads) at a time, so a company with thousands of reps is written in
bounded memory. Output is byte-for-byte deterministic: Parquet carries no wall-clock metadata and
gzip headers are written with a zero modification time.
"""
from __future__ import annotations

import gzip
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from helpers.core.contract import TABLES, find_table_files

FORMATS = ("parquet", "csv", "csv.gz")

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "month": pa.string(),
    "bool": pa.bool_(),
}

#: Rows per Parquet row group: big enough to compress well, small enough to stream.
ROW_GROUP_ROWS = 1_000_000


class SampleFormatError(ValueError):
    """The requested file format is not one the workbook reads."""


def table_schema(name: str) -> pa.Schema:
    """Arrow schema of a contract table: its columns in contract order with contract types."""
    spec = TABLES[name]
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.dtype], nullable=c.nullable or not c.required)
                      for c in spec.columns])


def _as_text(table: pa.Table) -> pa.Table:
    """Dates and timestamps as ISO text for CSV (``2026-10-31``, ``2026-10-31T09:15:00Z``)."""
    columns = []
    for field, column in zip(table.schema, table.columns):
        if pa.types.is_timestamp(field.type):
            seconds = pc.cast(column, pa.timestamp("s", tz="UTC"), safe=False)  # %S would print microseconds
            column = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%SZ")
        elif pa.types.is_date(field.type):
            column = pc.strftime(column, format="%Y-%m-%d")
        columns.append(column)
    names = table.schema.names
    return pa.table(dict(zip(names, columns)))


class TableWriter:
    """Appends chunks of one contract table to ``<out_dir>/<table>.<fmt>``."""

    def __init__(self, out_dir: Path, name: str, fmt: str):
        if fmt not in FORMATS:
            raise SampleFormatError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
        self.name = name
        self.fmt = fmt
        self.schema = table_schema(name)
        self.path = Path(out_dir) / f"{name}.{fmt}"
        self.rows = 0
        self._parquet: pq.ParquetWriter | None = None
        self._csv: pacsv.CSVWriter | None = None
        self._raw: BinaryIO | None = None
        self._gz: gzip.GzipFile | None = None

    def _open(self) -> None:
        if self.fmt == "parquet":
            self._parquet = pq.ParquetWriter(
                self.path, self.schema, compression="zstd", compression_level=6, use_dictionary=True,
                write_statistics=True, store_schema=False,
            )
            return
        self._raw = self.path.open("wb")
        sink: BinaryIO = self._raw
        if self.fmt == "csv.gz":
            self._gz = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)
            sink = self._gz  # type: ignore[assignment]
        text_schema = _as_text(self.schema.empty_table()).schema
        self._csv = pacsv.CSVWriter(sink, text_schema,
                                    write_options=pacsv.WriteOptions(include_header=True, quoting_style="needed"))

    def write(self, columns: dict[str, object]) -> None:
        """Append one chunk given as ``{column: array}`` (every contract column, any order)."""
        missing = [n for n in self.schema.names if n not in columns]
        extra = [n for n in columns if n not in self.schema.names]
        if missing or extra:
            raise KeyError(f"{self.name}: chunk columns differ from the contract (missing {missing}, extra {extra})")
        arrays = [pa.array(columns[f.name], type=f.type, from_pandas=True) for f in self.schema]
        table = pa.Table.from_arrays(arrays, schema=self.schema)
        if self._parquet is None and self._csv is None:
            self._open()
        if self._parquet is not None:
            self._parquet.write_table(table, row_group_size=ROW_GROUP_ROWS)
        else:
            assert self._csv is not None
            self._csv.write_table(_as_text(table))
        self.rows += table.num_rows

    def close(self) -> Path:
        """Finish the file (an empty table still gets a file with the header/schema)."""
        if self._parquet is None and self._csv is None:
            self._open()
        if self._parquet is not None:
            self._parquet.close()
        if self._csv is not None:
            self._csv.close()
            if self._gz is not None:
                self._gz.close()
            if self._raw is not None:
                self._raw.close()
        return self.path


def remove_existing_tables(out_dir: Path) -> None:
    """Delete any existing contract table file so a folder never holds two versions of a table."""
    for paths in find_table_files(out_dir).values():
        for path in paths:
            path.unlink()
