"""Data: where the digits came from, what a sample looks like, and one digit as each network sees it."""

import streamlit as st

from core.config import MAX_SEED
from ui import components
from ui.data_view import show_sample

st.title("The data")

dataset_name = components.dataset_select(key="data_dataset")
dataset = components.load_or_stop(dataset_name)
components.data_source_line(dataset)

left, right = st.columns([3, 1])
with left:
    sample_size = components.sample_size_input(dataset.pool_size, key="data_sample_size")
seed = components.bounded_number(right, "Seed", "data_seed", 0, MAX_SEED, 1, 0)

try:
    show_sample(dataset, sample_size, seed)
except ValueError as error:
    st.error(str(error))
