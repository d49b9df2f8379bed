"""Data: where the digits came from, what a sample looks like, and one digit as each network sees it."""

import streamlit as st

from core import settings
from ui import controls
from ui.data_view import show_sample

st.title("The data")

dataset_name = controls.dataset_select(key="data_dataset")
dataset = controls.load_or_stop(dataset_name)
controls.data_source_line(dataset)

left, right = st.columns([3, 1])
with left:
    sample_size = controls.sample_size_input(dataset.pool_size, key="data_sample_size")
seed = controls.setting_input(right, settings.SEED, "data_seed")

try:
    show_sample(dataset, sample_size, seed)
except ValueError as error:
    st.error(str(error))
