"""The data engine: folder sources read every file format with the contract's types,
sources are chosen in the documented order, and credentials never leak."""
from __future__ import annotations

import gzip
from pathlib import Path

import ibis.expr.datatypes as dt
import pandas as pd
import pytest

from helpers.core.config import load_config
from helpers.data.engine import (
    DatabaseSource,
    DataSourceError,
    FolderSource,
    MissingColumnError,
    MissingTableError,
    contract_schema,
    load_folder_into_database,
    open_source,
    redact_url,
)

REPS_CSV = "rep_id,name,role,hire_date,leave_date\nr1,Ann,ae,2024-01-01,\nr2,Bob,sdr,2024-02-01,2024-09-30\n"
ACTIVITIES_CSV = (
    "activity_id,rep_id,lead_id,occurred_at,activity_type,outcome,meeting_kind,crm_note\n"
    "a1,r1,l1,2024-03-01T10:00:00Z,call,connected,,x\n"
    "a2,r1,l1,2024-03-01T12:00:00+02:00,meeting,held,demo,y\n"
    "a3,r2,l2,2024-03-01 10:00:00,email,sent,,z\n"
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "reps.csv").write_text(REPS_CSV, encoding="utf-8")
    with gzip.open(data / "activities.csv.gz", "wt", encoding="utf-8") as handle:
        handle.write(ACTIVITIES_CSV)
    return data


def _config(tmp_path: Path, data_dir: Path, url_env: str = "TEST_SALES_DB_URL") -> object:
    toml = tmp_path / "workbook.toml"
    toml.write_text(f'[data]\ndir = "{data_dir}"\nurl_env = "{url_env}"\n', encoding="utf-8")
    return load_config(toml)


def test_folder_lists_tables_in_contract_order(folder: Path) -> None:
    source = open_source(data_dir=folder)
    assert source.kind == "folder"
    assert source.tables() == ["reps", "activities"]
    assert source.has("activities") and not source.has("deals")


def test_every_column_has_the_contract_type(folder: Path) -> None:
    source = open_source(data_dir=folder)

    def unscaled(schema):  # a zoned timestamp is read as stored (microseconds): no CAST the SQL compiler refuses
        return {k: (v.copy(scale=None) if v.is_timestamp() else v) for k, v in schema.items()}

    for name in ("reps", "activities"):
        assert unscaled(source.table(name).schema()) == unscaled(contract_schema(name))
    assert source.table("activities").schema()["occurred_at"].timezone == "UTC"
    acts = source.table("activities")
    assert acts.select(y=acts.occurred_at.year()).to_pandas()["y"].tolist() == [2024] * 3  # EXTRACT on a CSV column


def test_csv_timestamps_with_offsets_are_converted_and_naive_ones_taken_as_utc(folder: Path) -> None:
    acts = open_source(data_dir=folder).read("activities")
    expected = pd.to_datetime(["2024-03-01T10:00:00Z"] * 3, utc=True)
    assert list(acts["occurred_at"]) == list(expected)  # 12:00+02:00 and naive 10:00 are both 10:00 UTC
    assert str(acts["occurred_at"].dtype) == "datetime64[us, UTC]"


def test_empty_cells_are_missing_and_extra_columns_dropped(folder: Path) -> None:
    source = open_source(data_dir=folder)
    acts = source.read("activities")
    assert "crm_note" not in acts.columns
    assert acts["meeting_kind"].isna().tolist() == [True, False, True]
    reps = source.read("reps")
    assert reps["leave_date"].isna().tolist() == [True, False]
    assert reps["hire_date"].iloc[1] == pd.Timestamp("2024-02-01")


def test_optional_columns_left_out_of_the_file_are_typed_nulls(folder: Path) -> None:
    reps = open_source(data_dir=folder).read("reps")
    assert {"team", "manager_id", "segment"} <= set(reps.columns)
    assert reps["team"].isna().all()


def test_missing_required_column_names_table_and_column(tmp_path: Path) -> None:
    (tmp_path / "reps.csv").write_text("rep_id\nr1\n", encoding="utf-8")
    (tmp_path / "deals.csv").write_text("deal_id,rep_id\nd1,r1\n", encoding="utf-8")
    with pytest.raises(MissingColumnError, match=r"'deals'.*status"):
        open_source(data_dir=tmp_path).table("deals")


def test_absent_optional_columns_read_as_their_fill_and_open_values_are_kept(tmp_path: Path) -> None:
    (tmp_path / "reps.csv").write_text("rep_id\nr1\nr2\n", encoding="utf-8")
    (tmp_path / "leads.csv").write_text("lead_id,created_at,source\nl1,2024-01-01,Direct_Traffic\n"
                                        "l2,2024-01-02,\nl3,2024-01-03,display\n", encoding="utf-8")
    source = open_source(data_dir=tmp_path)
    reps = source.read("reps")
    assert reps["name"].tolist() == ["r1", "r2"] and reps["role"].tolist() == ["ae", "ae"]
    assert reps["hire_date"].isna().all()
    leads = source.read("leads").sort_values("lead_id")
    # unknown values kept as their own level (trimmed, lower-cased), empty -> "unknown", absent -> "unknown"
    assert leads["source"].tolist() == ["direct_traffic", "unknown", "display"]
    assert leads["first_offer"].tolist() == ["unknown"] * 3 and leads["segment"].isna().all()
    source.category_map = {"source": {"direct_traffic": "direct"}}
    source._typed.clear()
    assert source.read("leads").sort_values("lead_id")["source"].tolist() == ["direct", "unknown", "display"]


def test_missing_table_error_names_table_and_source(folder: Path) -> None:
    source = open_source(data_dir=folder)
    with pytest.raises(MissingTableError) as info:
        source.table("deals")
    assert info.value.table == "deals"
    assert "'deals'" in str(info.value) and str(folder) in str(info.value)
    assert isinstance(info.value, KeyError)


def test_unknown_table_and_unknown_column_are_explained(folder: Path) -> None:
    source = open_source(data_dir=folder)
    with pytest.raises(DataSourceError, match="not a table of the data contract"):
        source.has("opportunities")
    with pytest.raises(DataSourceError, match="no column"):
        source.read("reps", columns=["rep_id", "salary"])
    assert list(source.read("reps", columns=["name"]).columns) == ["name"]


def test_missing_folder_is_explained(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="does not exist"):
        open_source(data_dir=tmp_path / "nope")


def test_parquet_wins_over_csv_and_gives_identical_frames(folder: Path, tmp_path: Path) -> None:
    csv_frame = open_source(data_dir=folder).read("activities")
    other = tmp_path / "other"
    other.mkdir()
    (other / "activities.csv").write_text("garbage that would fail to parse\n", encoding="utf-8")
    # naive timestamps in the Parquet file are taken as UTC, like naive CSV values
    csv_frame.assign(occurred_at=csv_frame.occurred_at.dt.tz_localize(None)).to_parquet(
        other / "activities.parquet")
    source = open_source(data_dir=other)
    assert source.file("activities").name == "activities.parquet"
    pd.testing.assert_frame_equal(source.read("activities"), csv_frame)


def test_folder_fingerprint_follows_contents(folder: Path) -> None:
    before = FolderSource(folder).fingerprint()
    assert FolderSource(folder).fingerprint() == before
    (folder / "reps.csv").write_text(REPS_CSV + "r3,Cy,ae,2024-03-01,\n", encoding="utf-8")
    assert FolderSource(folder).fingerprint() != before


def test_load_into_a_duckdb_database_and_read_back_identically(folder: Path, tmp_path: Path) -> None:
    url = f"duckdb://{tmp_path / 'crm.duckdb'}"
    assert load_folder_into_database(folder, url) == ["reps", "activities"]
    assert load_folder_into_database(folder, url) == ["reps", "activities"]  # replacing is fine
    db = open_source(url=url)
    assert db.kind == "database"
    assert db.tables() == ["reps", "activities"]
    for name in db.tables():
        pd.testing.assert_frame_equal(db.read(name), open_source(data_dir=folder).read(name))
    before = db.fingerprint()
    db.close()
    (folder / "reps.csv").write_text(REPS_CSV + "r3,Cy,ae,2024-03-01,\n", encoding="utf-8")
    load_folder_into_database(folder, url)
    assert open_source(url=url).fingerprint() != before


def test_source_precedence(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"duckdb://{tmp_path / 'crm.duckdb'}"
    load_folder_into_database(folder, url, tables=["reps"])
    config = _config(tmp_path, folder)
    monkeypatch.delenv("TEST_SALES_DB_URL", raising=False)
    assert open_source(config).kind == "folder"  # config's folder
    monkeypatch.setenv("TEST_SALES_DB_URL", url)
    from_env = open_source(config)
    assert from_env.kind == "database" and from_env.tables() == ["reps"]
    from_env.close()
    assert open_source(config, data_dir=folder).kind == "folder"  # explicit folder beats the env var
    explicit = open_source(config, data_dir=folder, url=url)  # explicit URL beats everything
    assert explicit.kind == "database"


def test_password_is_redacted() -> None:
    url = "postgres://analyst:s3cr3t-pw@db.example:5432/crm"
    assert redact_url(url) == "postgres://analyst:***@db.example:5432/crm"
    assert redact_url("duckdb:///tmp/x.duckdb") == "duckdb:///tmp/x.duckdb"
    with pytest.raises(DataSourceError) as info:
        DatabaseSource("postgres://analyst:s3cr3t-pw@127.0.0.1:1/crm")  # nothing listens on port 1
    assert "s3cr3t-pw" not in str(info.value)
    assert "analyst:***@127.0.0.1:1" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_wrap_an_existing_ibis_backend(folder: Path, tmp_path: Path) -> None:
    import ibis

    path = tmp_path / "spark_stand_in.duckdb"
    load_folder_into_database(folder, f"duckdb://{path}", tables=["activities"])
    source = DatabaseSource.from_backend(ibis.duckdb.connect(str(path)), description="our lakehouse")
    assert source.tables() == ["activities"]
    assert source.read("activities")["activity_id"].tolist() == ["a1", "a2", "a3"]
    with pytest.raises(MissingTableError, match="our lakehouse"):
        source.table("reps")


def test_unparseable_cell_names_table_line_and_value(tmp_path: Path) -> None:
    (tmp_path / "activities.csv").write_text(
        "activity_id,rep_id,lead_id,occurred_at,activity_type,outcome\na1,r1,l1,yesterday,call,connected\n",
        encoding="utf-8")
    with pytest.raises(DataSourceError) as info:
        open_source(data_dir=tmp_path).read("activities")
    message = str(info.value)
    assert "'activities'" in message and "yesterday" in message and "occurred_at" in message
    assert "sales-workbook validate" in message and "auto-detected" not in message


def test_empty_strings_in_parquet_are_missing_values_as_validation_treats_them(tmp_path):
    """A Parquet export may write '' for 'no manager'; every engine must read it as missing."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from helpers.data.engine import open_source

    reps = pa.table({"rep_id": ["a", "b"], "name": ["Ann", "Bo"], "manager_id": ["", "a"], "role": ["ae", "ae"],
                     "hire_date": ["2025-01-01", "2025-02-01"]})
    pq.write_table(reps, tmp_path / "reps.parquet")
    frame = open_source(data_dir=tmp_path).read("reps")
    assert frame["manager_id"].isna().tolist() == [True, False]
