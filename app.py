"""Entrypoint: `streamlit run app.py`. Page config and navigation only; the pages live in app_pages/.

Not `pages/`: Streamlit still treats a folder of that name beside the entrypoint as an old-style
multipage app, and a deep link such as /study on a fresh server then runs the page without this file
(no page config, the wrong navigation).

Everything happens in `main()`, behind `if __name__ == "__main__"`: Streamlit runs this file as `__main__` and
leaves it installed as `sys.modules["__main__"]`, so every worker process spawned by the server (core/runs/
workers.py) imports this file again, as `__mp_main__`. There it must do nothing: no Streamlit, no pages, no
workers of its own (the multiprocessing docs' "safe importing of main module").
"""

MODEL_WORK_PAGES = ("", "compare", "study", "try_it", "our_digits")  # url paths whose buttons train or predict


def main() -> None:
    import streamlit as st

    import core  # noqa: F401  (quietens TensorFlow's start-up chatter before anything imports it)
    from core.runs.errors import StoreError
    from ui import server_notice
    from ui.background import start_workers_now
    from ui.controls import keep_choices

    st.set_page_config(page_title="Flat vs conv on handwritten digits", page_icon=":material/draw:", layout="wide")

    navigation = st.navigation([
        st.Page("app_pages/compare.py", title="Compare", icon=":material/compare_arrows:", default=True),
        st.Page("app_pages/study.py", title="Study", icon=":material/query_stats:"),
        st.Page("app_pages/try_it.py", title="Try it", icon=":material/draw:"),
        st.Page("app_pages/our_digits.py", title="Our digits", icon=":material/groups:"),
        st.Page("app_pages/data.py", title="Data", icon=":material/grid_on:"),
        st.Page("app_pages/runs.py", title="Runs", icon=":material/history:"),
    ])
    keep_choices()  # the sidebar's choices survive a visit to another page
    server_notice.settings_problems()  # a bad server setting is one message on every page, never a traceback
    try:
        # TensorFlow's import in the workers overlaps this page's paint. Not for a link's settings (any query
        # parameter): opening a link starts no model work until its user chooses (the page decides after paint).
        if navigation.url_path in MODEL_WORK_PAGES and not st.query_params:
            start_workers_now()
        navigation.run()
    except StoreError as error:  # the store's database went away mid-page (or refuses us): a message, not a traceback
        st.error(f"{error}", icon=":material/cloud_off:")


if __name__ == "__main__":
    main()
