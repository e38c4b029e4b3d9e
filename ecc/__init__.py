"""ECC: emergency command and video monitoring center."""

__version__ = "0.1.0"
