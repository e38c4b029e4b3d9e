"""The ingest inbox: how long a partial batch waits."""

from __future__ import annotations

import time

from ecc.ingest.session import Inbox, Message


def message(mid: int, received_at: float) -> Message:
    return Message("ecc/v1/stations/s/readings", b"{}", mid, 1, 1, received_at)


def test_a_partial_batch_waits_the_interval_from_its_first_message() -> None:
    inbox = Inbox(100)
    inbox.put(message(1, time.time()))
    started = time.monotonic()
    assert len(inbox.take(10, linger_s=0.05, idle_s=1.0)) == 1
    assert time.monotonic() - started >= 0.04


def test_messages_that_waited_during_the_last_batch_wait_no_longer() -> None:
    # They came in while the previous batch was being stored: their interval has run out.
    inbox = Inbox(100)
    inbox.put(message(1, time.time() - 0.5))
    inbox.put(message(2, time.time() - 0.4))
    started = time.monotonic()
    assert [m.mid for m in inbox.take(10, linger_s=0.3, idle_s=1.0)] == [1, 2]
    assert time.monotonic() - started < 0.1


def test_a_full_batch_goes_at_once() -> None:
    inbox = Inbox(100)
    now = time.time()
    for mid in range(5):
        inbox.put(message(mid, now))
    started = time.monotonic()
    assert len(inbox.take(3, linger_s=5.0, idle_s=1.0)) == 3
    assert time.monotonic() - started < 0.1
