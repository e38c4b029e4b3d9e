"""The sensor domain: metric registry, payload validation, alert rules, station simulator.

Above config, storage and bus; below ingest and the command center, which both use it (the
center validates a reading with the same code before it shows it, so a dashboard never shows a
reading that ingest refused).
"""
