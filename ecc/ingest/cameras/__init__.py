"""`ecc ingest cameras`: pull every camera, publish its health, push it to the center on demand.

See worker.py for the boot sequence, pipeline.py for one stream's pull, push.py for WHIP.
"""

from __future__ import annotations

from ecc.bus import BrokerAddress, MqttClient
from ecc.config import ConfigError, Settings
from ecc.ingest.cameras.worker import CameraWorker


def mqtt_bus(settings: Settings) -> MqttClient:
    """The worker's own MQTT client (it publishes retained health and reads demand)."""
    if settings.mqtt_url is None:
        raise ConfigError("mqtt_url: the camera worker needs a broker; set ECC_MQTT_URL")
    address = BrokerAddress.parse(
        settings.mqtt_url,
        settings.mqtt_username,
        settings.mqtt_password.get_secret_value() if settings.mqtt_password else None,
    )
    return MqttClient(address)


__all__ = ["CameraWorker", "mqtt_bus"]
