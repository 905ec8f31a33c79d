"""The sample organisation's files: reproducible byte for byte, exactly the contract, all formats."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from helpers.core.contract import TABLES
from helpers.paths import DEFAULT_CONFIG_FILE, SAMPLE_DATA_DIR
from helpers.data.sample import (DEFAULT_END_MONTH, DEFAULT_MONTHS, DEFAULT_REPS, DEFAULT_SEED, SampleError,
                            cli_sample, generate_org)
from helpers.data.sample_io import ARROW_TYPES, SampleFormatError

MAX_SAMPLE_BYTES = 10 * 1024 * 1024


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def regenerated_default(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("default_sample")
    generate_org(out)
    return out


def test_default_seed_reproduces_committed_sample_byte_for_byte(regenerated_default: Path) -> None:
    committed = sorted(p.name for p in SAMPLE_DATA_DIR.iterdir() if p.is_file())
    regenerated = sorted(p.name for p in regenerated_default.iterdir() if p.is_file())
    assert committed == regenerated
    assert "ground_truth.json" in committed
    differing = [name for name in committed
                 if _sha256(SAMPLE_DATA_DIR / name) != _sha256(regenerated_default / name)]
    assert differing == [], f"regenerate data/sample with `sales-workbook sample --out data/sample`: {differing}"


def test_committed_sample_is_small_and_records_its_arguments() -> None:
    total = sum(p.stat().st_size for p in SAMPLE_DATA_DIR.iterdir() if p.is_file())
    assert total <= MAX_SAMPLE_BYTES
    gen = json.loads((SAMPLE_DATA_DIR / "ground_truth.json").read_text())["generator"]
    assert (gen["seed"], gen["reps"], gen["months"], gen["end_month"]) == (
        DEFAULT_SEED, DEFAULT_REPS, DEFAULT_MONTHS, DEFAULT_END_MONTH)


def test_every_table_has_exactly_the_contract_columns_and_types() -> None:
    for name, spec in TABLES.items():
        schema = pq.read_schema(SAMPLE_DATA_DIR / f"{name}.parquet")
        assert schema.names == spec.column_names, name
        for col in spec.columns:
            assert schema.field(col.name).type == ARROW_TYPES[col.dtype], (name, col.name)
        assert pq.read_metadata(SAMPLE_DATA_DIR / f"{name}.parquet").num_rows > 0, name


def test_values_follow_the_contract_and_nothing_is_in_the_future() -> None:
    end = pd.Timestamp("2026-11-01", tz="UTC")
    for name, spec in TABLES.items():
        df = pd.read_parquet(SAMPLE_DATA_DIR / f"{name}.parquet")
        for col in spec.columns:
            values = df[col.name]
            if not col.nullable:
                assert values.notna().all(), (name, col.name)
            if col.allowed is not None:
                assert set(values.dropna()) <= set(col.allowed), (name, col.name)
            if col.unique:
                assert values.is_unique, (name, col.name)
            if col.dtype == "timestamp":
                assert str(values.dt.tz) == "UTC" and (values.dropna() < end).all(), (name, col.name)
            if col.dtype == "date":
                assert (pd.to_datetime(values.dropna()) < end.tz_localize(None)).all(), (name, col.name)
            if col.dtype == "month":
                assert values.str.fullmatch(r"\d{4}-\d{2}").all()
                assert values.min() == "2025-11" and values.max() == "2026-10"
            if col.references:
                table, key = col.references.split(".")
                known = set(pd.read_parquet(SAMPLE_DATA_DIR / f"{table}.parquet", columns=[key])[key])
                assert set(values.dropna()) <= known, (name, col.name)


def test_default_sample_passes_validation() -> None:
    validate = pytest.importorskip("helpers.data.validate")
    from helpers.core.config import load_config

    report = validate.validate_folder(SAMPLE_DATA_DIR, load_config(DEFAULT_CONFIG_FILE),
                                      now=pd.Timestamp("2026-11-01", tz="UTC"))
    assert report.errors == [], report.format()


def test_organisation_has_the_edge_cases() -> None:
    reps = pd.read_parquet(SAMPLE_DATA_DIR / "reps.parquet").set_index("rep_id")
    truth = json.loads((SAMPLE_DATA_DIR / "ground_truth.json").read_text())["organisation"]
    aes = reps[reps["role"] == "ae"]
    assert len(aes) == DEFAULT_REPS
    assert (aes["segment"].value_counts() >= 3).all() and set(aes["segment"]) == {
        "small_business", "mid_market", "enterprise"}
    leaver = truth["left_mid_period"]["rep_id"]
    assert pd.notna(reps.loc[leaver, "leave_date"]) and reps["leave_date"].notna().sum() == 1
    new_hire = truth["new_hire"]["rep_id"]
    assert str(reps.loc[new_hire, "hire_date"]) >= "2026-09-01"
    quotas = pd.read_parquet(SAMPLE_DATA_DIR / "quotas.parquet")
    assert (quotas["rep_id"] == new_hire).sum() <= 2
    # hierarchy: every AE has a manager, who reports to the head of sales
    managers = aes["manager_id"]
    assert managers.notna().all()
    assert (reps.loc[managers, "role"] == "manager").all()
    assert (reps.loc[managers, "manager_id"] == truth["head_of_sales"]).all()
    assert (reps["role"] == "consultant").sum() >= 2


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    a, b, c = (generate_org(tmp_path / name, seed=seed, reps=8, months=2)
               for name, seed in (("a", 5), ("b", 5), ("c", 6)))
    for name in TABLES:
        assert _sha256(Path(a["files"][name])) == _sha256(Path(b["files"][name])), name
    assert _sha256(Path(a["files"]["leads"])) != _sha256(Path(c["files"]["leads"]))


@pytest.mark.parametrize("fmt", ["csv", "csv.gz"])
def test_csv_formats_hold_the_same_rows_as_parquet(tmp_path: Path, fmt: str) -> None:
    parquet = generate_org(tmp_path / "pq", seed=3, reps=8, months=2)
    text = generate_org(tmp_path / "txt", seed=3, reps=8, months=2, fmt=fmt)
    again = generate_org(tmp_path / "again", seed=3, reps=8, months=2, fmt=fmt)
    assert text["rows"] == parquet["rows"]
    for name in ("activities", "customers", "reps"):
        path = Path(text["files"][name])
        assert path.name == f"{name}.{fmt}"
        assert _sha256(path) == _sha256(Path(again["files"][name]))  # gzip header has no timestamp
        raw = gzip.decompress(path.read_bytes()) if fmt == "csv.gz" else path.read_bytes()
        from_text = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
        assert list(from_text.columns) == TABLES[name].column_names
        from_parquet = pd.read_parquet(parquet["files"][name])
        assert len(from_text) == len(from_parquet)
        assert from_text.iloc[:, 0].tolist() == from_parquet.iloc[:, 0].tolist()
    acts = pd.read_csv(io.BytesIO(gzip.decompress(Path(text["files"]["activities"]).read_bytes())
                                  if fmt == "csv.gz" else Path(text["files"]["activities"]).read_bytes()),
                       dtype=str, keep_default_na=False)
    assert acts["occurred_at"].str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z").all()


def test_regenerating_in_another_format_replaces_the_old_files(tmp_path: Path) -> None:
    generate_org(tmp_path, seed=1, reps=6, months=2, fmt="csv")
    generate_org(tmp_path, seed=1, reps=6, months=2, fmt="parquet")
    assert not list(tmp_path.glob("*.csv"))
    assert len(list(tmp_path.glob("*.parquet"))) == len(TABLES)


def test_end_month_moves_the_data_window(tmp_path: Path) -> None:
    generate_org(tmp_path, seed=2, reps=6, months=3, end_month="2025-06")
    leads = pd.read_parquet(tmp_path / "leads.parquet")
    assert leads["created_at"].max() < pd.Timestamp("2025-07-01", tz="UTC")
    assert leads["created_at"].min() >= pd.Timestamp("2025-04-01", tz="UTC")
    assert sorted(pd.read_parquet(tmp_path / "quotas.parquet")["month"].unique()) == ["2025-04", "2025-05", "2025-06"]


@pytest.mark.parametrize("kwargs, message", [
    ({"reps": 3}, "at least 6"),
    ({"months": 1}, "at least 2 months"),
    ({"fmt": "xlsx"}, "csv.gz"),
    ({"end_month": "October"}, "YYYY-MM"),
])
def test_bad_arguments_say_how_to_fix_them(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises((SampleError, SampleFormatError), match=message):
        generate_org(tmp_path, **kwargs)


def test_cli_sample_writes_a_folder_and_reports_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli_sample(seed=4, reps=6, months=2, out=tmp_path / "org", fmt=None) == 0
    assert (tmp_path / "org" / "reps.parquet").is_file() and (tmp_path / "org" / "ground_truth.json").is_file()
    assert "ground_truth.json" in capsys.readouterr().out
    assert cli_sample(seed=4, reps=2, months=2, out=tmp_path / "bad", fmt=None) == 2
    assert "--reps 6" in capsys.readouterr().err


def test_command_line_entry_point(tmp_path: Path) -> None:
    from helpers.cli import main

    assert main(["sample", "--seed", "9", "--reps", "6", "--months", "2", "--out", str(tmp_path),
                 "--format", "csv"]) == 0
    assert (tmp_path / "leads.csv").is_file()
