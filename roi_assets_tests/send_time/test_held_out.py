import numpy as np
import pytest

from roi_assets.send_time.held_out import is_held_out

from .worlds import client_ids


def test_about_the_requested_share_of_clients_is_held_out():
    share = is_held_out(client_ids(5_000), 0.2).mean()
    assert 0.18 < share < 0.22


def test_a_client_stays_on_its_side_whoever_else_is_in_the_list():
    everyone = client_ids(1_000)
    alone = np.array([is_held_out([client])[0] for client in everyone[:50]])
    assert (is_held_out(everyone)[:50] == alone).all()


@pytest.mark.parametrize("fraction", [0.0, 1.0, 1.5])
def test_a_fraction_outside_the_open_unit_interval_is_refused(fraction):
    with pytest.raises(ValueError, match="held-out fraction"):
        is_held_out(["C0001"], fraction)
