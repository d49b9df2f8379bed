"""Issue 13 on the Study page, with a real local Ray: the choice, the cluster's status line, the cells stored."""

import pytest

pytest.importorskip("ray")

from core.runs import RunStore  # noqa: E402
from tests.app_pages.conftest import texts  # noqa: E402
from tests.app_pages.test_links import open_link  # noqa: E402

pytestmark = pytest.mark.slow
TINY = {"sizes": "100", "seeds": "2", "epochs": "1", "networks": "flat,conv"}


def test_a_study_runs_on_a_local_ray_from_the_page_and_lands_in_the_store():
    app = open_link(TINY, "app_pages/study.py")
    app.session_state["study_executor"] = "ray"
    app.run()
    assert app.text_input(key="study_ray_address").value == ""
    app.button(key="run_study").click().run(timeout=300)
    assert not app.exception
    assert len(RunStore().list_runs()) == 4
    assert any(text.startswith("All 4 cells are stored") for text in texts(app.caption))
    import ray

    assert not ray.is_initialized()  # the page left the local Ray it started


def test_an_unreachable_cluster_is_a_message_not_a_traceback():
    app = open_link(TINY, "app_pages/study.py")
    app.session_state["study_executor"] = "ray"
    app.run()
    app.text_input(key="study_ray_address").set_value("127.0.0.1:9").run()
    app.button(key="run_study").click().run(timeout=120)
    assert not app.exception
    assert any(text.startswith("Could not use Ray") for text in texts(app.error))
    assert RunStore().list_runs() == []
