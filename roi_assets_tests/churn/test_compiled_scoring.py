"""The compiled churn ensemble scores like the ensemble: forest, LSTM and stack, to 1e-6."""

from __future__ import annotations

import numpy as np
import pytest

from roi_assets.churn.features import tabular_matrix
from roi_assets.churn.tiers import risk_tier
from roi_assets.compiled_scoring import compile_model


@pytest.fixture(scope="module")
def compiled(ensemble, tmp_path_factory):
    return compile_model(ensemble, tmp_path_factory.mktemp("compiled"))


def test_every_member_and_the_stack_match_the_ensemble(compiled, ensemble, world):
    features, sequences = tabular_matrix(world.churn), world.sequences
    expected = ensemble.member_probabilities(world.churn, sequences)
    got = compiled.member_probabilities(features, sequences)
    for member in ("forest", "lstm", "stack_uncalibrated", "stack"):
        np.testing.assert_allclose(got[member], expected[member], rtol=0, atol=1e-6)


def test_one_client_at_a_time_gets_the_same_probability_and_tier(compiled, ensemble, world):
    features, sequences = tabular_matrix(world.churn), world.sequences
    expected = ensemble.predict_proba(world.churn, sequences)
    for row in range(0, len(features), max(1, len(features) // 50)):
        probability, tier = compiled.predict(features[row : row + 1], sequences[row : row + 1])
        assert probability[0] == pytest.approx(expected[row], abs=1e-6)
        assert tier[0] == risk_tier(expected[row])


def test_sequences_of_the_wrong_shape_are_refused(compiled, world):
    features = tabular_matrix(world.churn)[:2]
    with pytest.raises(ValueError, match="sequences"):
        compiled.member_probabilities(features, world.sequences[:2, :10])
