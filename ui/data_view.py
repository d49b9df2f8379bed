"""The Data page's views: a sample's class balance, a grid of digits, one digit read two ways."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.data import Dataset, stratified_sample
from ui import plots

GRID_SIZE = 24


def show_sample(dataset: Dataset, sample_size: int, seed: int) -> None:
    index = stratified_sample(dataset.y_train, sample_size, seed=seed)
    counts = np.bincount(dataset.y_train[index], minlength=len(dataset.class_names))
    st.subheader("Class balance of the sample")
    st.caption(f"{sample_size:,} training images drawn with seed {seed}: every class gets the same share "
               f"(to within one image) as long as the pool has enough of it.")
    st.plotly_chart(plots.class_balance(counts, dataset.class_names), key="class_balance")

    st.subheader("Random digits from the sample")
    shown = index[:GRID_SIZE]
    images = [np.kron(dataset.x_train[i], np.ones((3, 3), dtype=np.uint8)) for i in shown]
    st.image(images, caption=[dataset.class_names[dataset.y_train[i]] for i in shown], width=84)

    st.subheader("One image, read two ways")
    position = st.slider("Which of the digits above", 1, len(shown), 1, key="data_digit")
    image = dataset.x_train[shown[position - 1]]
    name = dataset.class_names[dataset.y_train[shown[position - 1]]]
    left, right = st.columns(2)
    left.plotly_chart(plots.digit_image(image, f"“{name}” as 28×28 pixels: what the conv net reads"),
                      key="digit_image")
    right.plotly_chart(plots.digit_vector(image, f"“{name}” as 784 numbers: what the flat net reads"),
                       key="digit_vector")
