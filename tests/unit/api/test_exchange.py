"""The exchange of a run directory: a restart keeps tokens, book and ledger, and resumes after the last epoch."""
from __future__ import annotations

import pytest

from controller.api import Exchange
from controller.api.exchange import BOOK_FILE
from controller.errors import ControllerError

from .conftest import CHEAP, DEFAULT, hand_result


def test_a_restart_keeps_what_participants_did_and_resumes(tmp_path):
    first = Exchange.open(DEFAULT, tmp_path, CHEAP)
    tokens = (tmp_path / "tokens").read_text()
    first.book.change_offer("atlas", "offer-at1", {"ask_per_mbps": "0.33"})
    first.book.submit_demand("ana", {"src": "h1", "dst": "h8", "max_rate": "1Mbps", "value_per_mbps": "2"})
    assert first.next_epoch() == 1
    scenario = first.book.scenario_for_next_epoch()
    assert first.record(1, scenario, hand_result()) and first.book.last_clearing()[0] == 1
    assert first.next_epoch() == 2
    first.close()

    again = Exchange.open(DEFAULT, tmp_path, CHEAP)
    assert (tmp_path / "tokens").read_text() == tokens
    assert str(again.book.offer("offer-at1").ask_per_mbps) == "0.33" and again.book.demand("ana-1").dst == "h8"
    assert again.next_epoch() == 2 and again.book.next_epoch == 2
    assert again.record(1, scenario, hand_result()) is False  # settled before the restart: not charged twice
    again.close()


def test_a_saved_book_that_no_longer_fits_the_scenario_is_an_error(tmp_path):
    Exchange.open(DEFAULT, tmp_path, CHEAP).close()
    (tmp_path / BOOK_FILE).write_text('{"offers": [{"link": "gone", "ask_per_mbps": "1"}], "demands": []}')
    with pytest.raises(ControllerError, match="does not fit"):
        Exchange.open(DEFAULT, tmp_path, CHEAP)
