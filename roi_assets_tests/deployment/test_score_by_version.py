import polars as pl

from roi_assets.deployment.lifecycle import ServingPlan, score_by_version


def _scorer(calls: list[tuple[str, int]]):
    def score(version: str, part: pl.DataFrame) -> pl.DataFrame:
        calls.append((version, part.height))
        return part.select("client_id", pl.lit(version).alias("model_version"))

    return score


def test_each_client_is_scored_once_by_the_version_serving_it_in_bounded_chunks():
    rows = pl.DataFrame({"client_id": [f"C{i:03d}" for i in range(250)]})
    plan = ServingPlan("m", champion_version="1", challenger_version="2", challenger_share=0.3)
    calls: list[tuple[str, int]] = []

    scored = score_by_version(plan, rows, _scorer(calls), chunk_rows=40)

    assert sorted(scored["client_id"]) == rows["client_id"].to_list()
    expected = [plan.version_for(c) for c in scored["client_id"]]
    assert scored["model_version"].to_list() == expected
    assert {version for version, _ in calls} == {"1", "2"}
    assert max(height for _, height in calls) == 40


def test_chunking_changes_nothing_but_the_calls():
    rows = pl.DataFrame({"client_id": [f"C{i:03d}" for i in range(100)]})
    plan = ServingPlan("m", champion_version="1", challenger_version="2", challenger_share=0.5)

    whole = score_by_version(plan, rows, _scorer([]), chunk_rows=1_000)
    chunked = score_by_version(plan, rows, _scorer([]), chunk_rows=7)

    assert chunked.equals(whole)
