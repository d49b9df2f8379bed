"""Issue 30 in the app: link values and descriptions shown as text, one bad saved network left out with one
notice, two sessions saving one name, and no training work for a link's settings (fake trainer)."""

import json
import time

import pytest
from streamlit.testing.v1 import AppTest

from core.architectures import ArchitectureSpec
from core.layers import Dense
from core.runs import RunStore
from tests.app_pages.conftest import APP, TIMEOUT, open_page, texts
from tests.fakes import wait_until_background_idle

PHISH = "[Session expired - click here to log in again](http://127.0.0.1:29999/phish)"


def open_link(params: dict, page: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.query_params.update(params)
    if page:
        app.switch_page(page)
    return app.run()


def unescaped_link(text: str) -> bool:
    """Markdown that would render as a link or an image: '](' not preceded by a backslash-escaped ']'."""
    return "](" in text and "\\](" not in text


def test_link_values_are_never_rendered_as_markdown_in_the_notice(fake_trainer):
    app = open_link({"dataset": PHISH, "networks": "![x](http://127.0.0.1:29999/b.png)"})
    assert not app.exception
    (notice,) = texts(app.warning)
    assert not unescaped_link(notice) and "\\!\\[x\\]" in notice and "\\[Session expired" in notice
    app = open_link({"sizes": "![b](http://127.0.0.1:29999/s.png)"}, "app_pages/study.py")
    assert not app.exception and not any(unescaped_link(text) for text in texts(app.warning))


def test_a_markdown_description_is_shown_as_text(fake_trainer):
    RunStore().save_network(ArchitectureSpec("red-md", "vector", (Dense(8),),
                                             "[click me](javascript:alert(1)) ![beacon](http://127.0.0.1:29999/b.png)"))
    app = open_link({"networks": "red-md"})
    captions = [text for text in texts(app.caption) if "red-md" in text]
    assert captions and not any(unescaped_link(text) for text in captions)


def test_one_bad_saved_network_does_not_take_the_pages_down(fake_trainer):
    store = RunStore()
    (store.root / "networks" / "broken.json").write_text(json.dumps({"name": "broken", "input": [], "layers": []}))
    store.save_network(ArchitectureSpec("good", "vector", (Dense(8),)))
    for page in (None, "app_pages/study.py", "app_pages/runs.py"):
        app = open_page(page)
        assert not app.exception, page
    app = open_page()
    assert "good · 6,370" in app.multiselect(key="architectures").options
    assert any("broken.json" in text and "left out" in text for text in texts(app.caption))


def save_as(app, name: str) -> AppTest:
    app.toggle(key="net_open").set_value(True).run()
    app.text_input(key="net_name").input(name).run()
    return app.button(key="net_save").click().run()


def test_a_save_does_not_silently_replace_another_sessions_network_and_train_uses_the_spec_shown(fake_trainer):
    first = open_page()
    save_as(first, "mine")                       # session A: conv-small's layers (the editor's first draft)
    mine = RunStore().saved_networks()["mine"]
    RunStore().save_network(ArchitectureSpec("mine", "vector", (Dense(600),)))  # session B (or the CLI) replaces it
    save_as(first, "mine")                       # A saves again: refused, B's network is kept
    assert any("was changed elsewhere" in text for text in texts(first.error))
    assert RunStore().saved_networks()["mine"].num_params != mine.num_params
    first.multiselect(key="architectures").set_value(["mine"]).run()
    for key, value in (("sample_size", 100), ("epochs", 1)):
        first.number_input(key=key).set_value(value).run()
    first.button(key="train").click().run()
    assert not first.exception
    assert [config.spec.hash for config in fake_trainer.calls] == [mine.hash]  # what A shows, not B's


def test_settings_that_only_came_from_a_link_are_not_prepared(fake_trainer, warm_ups):
    app = open_link({"dataset": "mnist", "size": "1000", "batch": "64", "networks": "conv"})
    assert not app.exception
    wait_until_background_idle()
    assert warm_ups == []  # nothing until the user touches a setting
    app.number_input(key="epochs").set_value(2).run()
    wait_until_background_idle()
    assert [config.architecture for config in warm_ups] == ["conv"]


def test_settings_over_the_memory_budget_are_neither_prepared_nor_trained_in_process(fake_trainer, warm_ups,
                                                                                     monkeypatch):
    monkeypatch.setenv("MEMORY_BUDGET_MB", "2400")
    app = open_page()
    app.multiselect(key="architectures").set_value(["conv"]).run()
    app.number_input(key="batch_size").set_value(8192).run()
    wait_until_background_idle()
    assert all(config.batch_size != 8192 for config in warm_ups)
    app.button(key="train").click().run()
    assert not app.exception and fake_trainer.calls == []
    assert any("batch size of" in text and "fits" in text for text in texts(app.error))


def test_a_link_naming_one_network_thousands_of_times_is_deduplicated_and_capped(fake_trainer):
    app = open_link({"networks": ",".join(["flat"] * 5000)})
    assert not app.exception and app.multiselect(key="architectures").value == ["flat"]
    app = open_link({"sizes": ",".join(str(100 + size) for size in range(50))}, "app_pages/study.py")
    assert not app.exception and any("at most 12" in text for text in texts(app.warning))


def test_the_study_page_spinner_ends_with_a_message_for_a_port_that_is_not_ray(fake_trainer):
    pytest.importorskip("ray")
    from tests.core.runs.test_ray_address import serve, silent

    listener = serve(silent)
    app = open_link({"sizes": "100", "seeds": "1", "epochs": "1", "networks": "flat"}, "app_pages/study.py")
    app.session_state["study_executor"] = "ray"
    app.run()
    app.text_input(key="study_ray_address").set_value(f"127.0.0.1:{listener.getsockname()[1]}").run()
    started = time.perf_counter()
    app.button(key="run_study").click().run(timeout=60)
    assert not app.exception and time.perf_counter() - started < 30
    assert any(text.startswith("Could not use Ray") and "not a Ray" in text for text in texts(app.error))
    listener.close()


def test_a_pair_naming_markdown_in_a_study_link_is_shown_as_text(fake_trainer):
    app = open_link({"pairs": "![x](/b.png)x:flat"}, "app_pages/study.py")
    assert not app.exception
    shown = [text for elements in (app.error, app.warning, app.info, app.caption, app.markdown)
             for text in texts(elements)]
    assert not any(unescaped_link(text) for text in shown)
