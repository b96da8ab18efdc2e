"""One colour per charge point, the same in every view of a session.

Colours are handed out in the order charge points are first seen (so the first 24 are all
different, which a hash could not promise), from a palette picked to stay apart on white:
matplotlib's tab10, then Kelly's colours of maximum contrast that differ from them. Past
24, hues continue around the colour wheel by the golden angle, still distinct from their
neighbours.
"""

from __future__ import annotations

import colorsys

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22",
           "#0067a5", "#be0032", "#008856", "#f38400", "#875692", "#882d17", "#e68fac",
           "#2b3d26", "#dcd300", "#604e97", "#f6a600", "#b3446c", "#8db600", "#654522")


def _extra(index: int) -> str:
    hue = (index * 0.618033988749895) % 1.0
    red, green, blue = colorsys.hsv_to_rgb(hue, 0.75, 0.55 + 0.3 * ((index // 7) % 2))
    return f"#{int(red * 255):02x}{int(green * 255):02x}{int(blue * 255):02x}"


class ColourBook:
    def __init__(self) -> None:
        self._given: dict[str, str] = {}

    def colour(self, charge_point_id: str) -> str:
        colour = self._given.get(charge_point_id)
        if colour is None:
            index = len(self._given)
            colour = PALETTE[index] if index < len(PALETTE) else _extra(index)
            self._given[charge_point_id] = colour
        return colour
