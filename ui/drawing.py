"""The drawing canvas, behind one function so tests can inject pixels (a custom component has no AppTest)."""

from __future__ import annotations

import numpy as np

CANVAS_SIZE = 280


def canvas_pixels(key: str) -> np.ndarray | None:
    """RGBA pixels of what the user drew, (280, 280, 4) uint8, or None before the canvas reports."""
    from streamlit_drawable_canvas import st_canvas

    result = st_canvas(stroke_width=20, stroke_color="#000000", background_color="#FFFFFF",
                       width=CANVAS_SIZE, height=CANVAS_SIZE, drawing_mode="freedraw",
                       return_image_data=True, key=key)
    return None if result is None else result.image_data
