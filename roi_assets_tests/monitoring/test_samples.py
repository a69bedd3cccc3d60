import polars as pl

from roi_assets.monitoring.samples import at_most


def test_a_larger_frame_is_sampled_to_the_cap_the_same_way_for_the_same_seed():
    frame = pl.DataFrame({"row": range(1_000)})

    sample = at_most(frame, 100, seed=4)

    assert sample.height == 100 and sample["row"].n_unique() == 100
    assert sample.equals(at_most(frame, 100, seed=4))
    assert not sample.equals(at_most(frame, 100, seed=5))


def test_a_frame_within_the_cap_comes_back_whole():
    frame = pl.DataFrame({"row": range(10)})

    assert at_most(frame, 10) is frame
