"""Listening to what a test received: how loud it is and how much of it is the tone sent."""

from __future__ import annotations

import numpy as np


def tone_level(pcm: np.ndarray, rate: int, hz: float) -> tuple[float, float]:
    """RMS of mono samples, and the share of their energy within 10 % of `hz`."""
    x = pcm.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x - x.mean())) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    near = spectrum[(freqs > hz * 0.9) & (freqs < hz * 1.1)].sum()
    return float(np.sqrt(np.mean(x**2))), float(near / spectrum.sum())
