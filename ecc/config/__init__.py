"""Settings and site files: pydantic models that refuse unknown keys and name every problem."""

from ecc.config.errors import ConfigError
from ecc.config.secret import signing_secret
from ecc.config.settings import Settings, load_settings
from ecc.config.site import EXAMPLE_SITE, Camera, Site, Station, Vehicle, load_site

__all__ = [
    "EXAMPLE_SITE",
    "Camera",
    "ConfigError",
    "Settings",
    "Site",
    "Station",
    "Vehicle",
    "load_settings",
    "load_site",
    "signing_secret",
]
