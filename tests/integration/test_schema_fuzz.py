"""Schemathesis over the OpenAPI schema: generated requests from every operation, no 5xx."""

from __future__ import annotations

import time

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecc.storage.models import NewAlert, Reading
from tests.support.center import RunningCenter

EXAMPLES_PER_OPERATION = 25
# WHIP/WHEP take SDP offers (RFC 9725): generated as text.
schemathesis.serializer.alias("application/sdp", "text/plain")


def test_no_operation_answers_5xx(center: RunningCenter) -> None:
    now = time.time()
    center.store.readings.insert(
        [Reading("lujiang-daqi", now - i * 300, {"water_level": 2.0}) for i in range(20)]
    )
    center.store.alerts.insert(
        NewAlert("level", "warning", "station", "lujiang-daqi", "water_level", 2.6, 2.5, "m", now)
    )
    schema = schemathesis.openapi.from_url(f"{center.url}/openapi.json")
    headers = {"Authorization": f"Bearer {center.token('admin')}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures: list[str] = []
    for op in operations:
        if op.path == "/api/auth/login":
            continue  # fuzzing it would lock the admin out; tested on its own

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=op.as_strategy(), data=st.data())
        def check(case: schemathesis.Case, data: st.DataObject) -> None:
            response = case.call(base_url=center.url, headers=headers, timeout=30)
            if response.status_code >= 500:
                where = f"{case.method} {case.formatted_path}"
                failures.append(f"{where} -> {response.status_code}: {response.text[:200]}")

        check()
    assert failures == []
