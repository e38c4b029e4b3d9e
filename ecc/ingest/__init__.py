"""Worker processes: sensors (MQTT -> store -> rules -> alerts) with their webhook notifier, and
cameras (pull -> record, analyse, push)."""
