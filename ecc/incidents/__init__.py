"""Incidents: the automatic rule that opens and joins them, their lifecycle, the geofence of
dispatched vehicles, the timeline and the wire format.

Shared by the ingest workers (the rule runs on their shared subscription of the alerts) and the
command center (the operators' actions, the geofence on position reports, review and export):
it sits below both, beside `sensors` and `media`.
"""

from ecc.incidents.desk import Desk

__all__ = ["Desk"]
