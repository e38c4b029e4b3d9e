"""The bus between ECC processes: MQTT topics, wire formats, the asyncio client, a private broker.

Layering: above config and storage (wire formats describe stored records), below sensors, media,
ingest and the command center.
"""

from ecc.bus.base import Bus
from ecc.bus.client import BrokerAddress, MqttClient
from ecc.bus.local import LocalBus
from ecc.bus.topics import Topics

__all__ = ["BrokerAddress", "Bus", "LocalBus", "MqttClient", "Topics"]
