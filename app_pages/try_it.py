"""Try it: draw or upload a digit, see both models' answers, and look inside the networks."""

import streamlit as st

from ui import try_view

st.title("Try it: your own digit")
st.markdown("Draw a digit, upload a picture of one, or pick a test digit. It is prepared the way MNIST's "
            "digits were made (cropped, scaled to 20×20, centred by its centre of mass in 28×28).")

runs = try_view.choose_runs()
digit = try_view.get_digit(runs)
if digit is not None:
    try_view.show_predictions(runs, digit)
    try_view.show_inside(runs, digit)
