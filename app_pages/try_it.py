"""Try it: draw or upload a digit, see both models' answers, and look inside the networks."""

import streamlit as st

from ui import server_notice, try_view

st.title("Try it: your own digit")
server_notice.training_notice()  # the models answer from a worker: a server too small for one says so
st.markdown("Draw a digit, upload a picture of one, or pick a test digit. It is prepared the way MNIST's "
            "digits were made (cropped, scaled to 20×20, centred by its centre of mass in 28×28); an upload "
            "is first read the way a browser shows it (turned upright, transparency laid on white), and "
            "uneven light and specks of noise are removed.")

runs = try_view.choose_runs()
seen = try_view.get_digit(runs)
if seen is not None:
    digit, picture = seen
    looks = try_view.looks(runs, digit.pixels)
    try_view.show_predictions(runs, looks, digit, picture)
    try_view.show_inside(runs, looks, digit.pixels)
