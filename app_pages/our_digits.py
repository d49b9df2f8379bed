"""Our digits: a class draws its own digits into one set, and the networks are judged on that handwriting."""

import streamlit as st

from ui import class_digits_view as view
from ui import class_verdict_view

st.title("Our digits: does conv still beat flat on our handwriting?")
st.markdown("Every accuracy elsewhere in this app is measured on MNIST's own test digits, written and scanned like "
            "its training digits. Here a class draws its own: each digit is prepared exactly as on Try it "
            "(cropped, scaled to 20×20, centred in 28×28) and filed under the digit the page asked for. Then the "
            "networks are asked about all of them, side by side on the same digits.")

code = view.class_code()
view.share_line(code)
digits = view.digits_store()
view.draw_and_add(code, digits)
class_set = view.current_set(code, digits)
view.own_digits(code, digits)
view.show_set(code, class_set)
view.teacher(code, digits, class_set)
class_verdict_view.show_verdict(class_set)
st.caption("What is kept: each digit's 28×28 pixels, its label and the time it was added. No names, nothing else.")
