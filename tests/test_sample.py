"""The built-in sample: determinism, delivery formats, and that the truth is what it claims."""

import json

import numpy as np
import pandas as pd
import pytest

from helpers import io, sample, sources


def _bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    for name, seed in [("a", 7), ("b", 7), ("c", 8)]:
        sample.write_sample(tmp_path / name / "raw", tmp_path / name / "truth", size="tiny",
                            seed=seed)
    first, second, other = (_bytes(tmp_path / n / "raw") for n in "abc")
    assert first == second
    assert set(first) == {part.spec["file"] for part in sources.load_mapping("").parts()}
    assert first["orders_current.csv"] != other["orders_current.csv"]


def test_refuses_to_write_into_a_folder_with_files(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "mine.csv").write_text("keep me")
    with pytest.raises(FileExistsError, match="already holds 1 file"):
        sample.write_sample(raw, tmp_path / "truth", size="tiny")
    assert (raw / "mine.csv").read_text() == "keep me"


def test_cli_if_empty_leaves_existing_data_alone(tmp_path, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "x.csv").write_text("1")
    assert sample.main(["--if-empty", "--raw-dir", str(raw), "--truth-dir",
                        str(tmp_path / "t")]) == 0
    assert [p.name for p in raw.iterdir()] == ["x.csv"]
    assert sample.main(["--raw-dir", str(raw), "--truth-dir", str(tmp_path / "t")]) == 1
    assert "never overwritten" in capsys.readouterr().err


def test_cli_skips_the_sample_for_a_configuration_with_its_own_data(tmp_path, capsys):

    raw, truth = tmp_path / "raw", tmp_path / "truth"
    own = io.PACKAGE_ROOT / "configs" / "online_retail.yaml"
    assert sample.main(["--if-empty", "--raw-dir", str(raw), "--truth-dir", str(truth),
                        "--config", str(own)]) == 0
    assert not raw.exists() and not truth.exists()
    assert "online_retail.yaml maps its own sources (" in capsys.readouterr().out
    other = tmp_path / "other.yaml"
    other.write_text("01_cleaning:\n  raw_dir: /somewhere/else\n")
    assert sample.reads_own_data(other) == "reads /somewhere/else, not data/raw"
    default = io.PACKAGE_ROOT / "configs" / "default.yaml"
    assert sample.reads_own_data(default) == ""
    assert sample.main(["--if-empty", "--size", "tiny", "--raw-dir", str(raw), "--truth-dir",
                        str(truth), "--config", str(default)]) == 0
    assert any(raw.iterdir())  # the default configuration reads the sample: it is written


def test_legacy_export_is_gbk_with_semicolons_and_fen(raw_dir):
    data = (raw_dir / "orders_legacy.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("gbk")
    header, first = text.splitlines()[:2]
    assert header.split(";")[:3] == ["BILL_NO", "ITEM_SEQ", "CUST_NO"]
    fields = dict(zip(header.split(";"), first.split(";"), strict=True))
    assert fields["CATEGORY_CN"] in sample.CATEGORY_CN.values()
    assert fields["AMOUNT_FEN"].isdigit()  # integer fen, no decimal point
    assert len(fields["BILL_DATE"].split("/")) == 3


def test_truth_describes_the_generating_process(workspace, truth):
    meta = json.loads((workspace / "data" / "truth" / "truth.json").read_text())
    assert meta["size"] == "small" and meta["n_customers"] == len(truth["customers"])
    elasticity = truth["elasticity"].set_index("region")["elasticity"]
    assert elasticity.to_dict() == sample.TRUE_ELASTICITY
    # loyalty drives buying: the top loyalty quartile orders far more than the bottom one
    customers = truth["customers"]
    q = pd.qcut(customers["loyalty_z"], 4, labels=False)
    per_month = customers["n_orders"] / (sample.N_MONTHS - customers["join_month"].clip(lower=0))
    assert per_month[q == 3].mean() > 2 * per_month[q == 0].mean()


def test_survey_nonresponse_is_biased_towards_the_loyal(truth):
    survey = truth["survey"]
    responders = survey.loc[survey["responded"], "loyalty_z"].mean()
    non_responders = survey.loc[~survey["responded"], "loyalty_z"].mean()
    assert 0.05 < survey["responded"].mean() < 0.25  # low response
    assert responders - non_responders > 0.3
    assert survey.loc[survey["responded"], "reversed"].mean() > 0


def test_churners_cool_off_before_they_stop(truth):
    customers = truth["customers"]
    churned = customers[customers["churn_month"] >= 0]
    assert len(churned) > 50
    assert (churned["churn_month"] - churned["cooling_start_month"] == 3).all()
    # complaints raise churn: churners complained more per order than stayers
    stayed = customers[(customers["churn_month"] < 0) & (customers["n_orders"] > 0)]
    rate = lambda c: c["n_complaints"].sum() / c["n_orders"].sum()  # noqa: E731
    assert rate(churned) > rate(stayed)


@pytest.mark.slow
def test_default_size_matches_the_brief():
    generated = sample.generate(sample.SampleParams.for_size("default"))
    lines = generated.truth["order_lines"]
    assert len(generated.truth["customers"]) == 20_000
    assert lines["region"].nunique() == 6
    span_years = (lines["order_date"].max() - lines["order_date"].min()).days / 365.25
    assert span_years > 3
    assert len(lines) > 250_000  # several hundred thousand order lines
    legacy_share = (lines["system"] == "legacy").mean()
    assert 0.2 < legacy_share < 0.6
    assert np.isclose(generated.raw["orders_current"]["order_id"].duplicated().mean(), 0.5,
                      atol=0.5)  # sanity: the file has multi-line orders


def test_unknown_size_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown sample size 'huge'"):
        sample.SampleParams.for_size("huge")
