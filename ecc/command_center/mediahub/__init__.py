"""The command center's media hub: WHIP in, WHEP out, encoded packets fanned out, nothing
decoded or encoded per viewer (see DESIGN.md and ecc.media)."""

from ecc.command_center.mediahub.hub import MediaHub, NotPublishing, TooManyViewers
from ecc.command_center.mediahub.session import BadOffer
from ecc.command_center.mediahub.source import SourceKey

__all__ = ["BadOffer", "MediaHub", "NotPublishing", "SourceKey", "TooManyViewers"]
