"""The network editor on the Compare and Study pages, the saved network on the Runs page (fake trainer)."""

import pytest

from core.architectures import PRESETS
from core.runs import RunStore
from tests.app_pages.conftest import open_page as open_bare_page
from tests.app_pages.conftest import texts

# The editor starts from conv-small: Conv 8, Conv 8, MaxPool, Dropout, Flatten, Dense 36, Dropout (uids 0 to 6).
START = PRESETS["conv-small"]


def open_page(page=None):
    """The page with the editor opened (closed, it renders nothing but its toggle)."""
    app = open_bare_page(page)
    app.toggle(key="net_open").set_value(True).run()
    return app


def layer_table(app) -> list[list[str]]:
    """The editor's layer table (Markdown) as rows of cells, without the header."""
    tables = [text for text in texts(app.markdown) if text.startswith("| layer | type | output shape |")]
    assert len(tables) == 1
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in tables[0].splitlines()[2:]]


def parameter_line(app) -> str:
    lines = [text for text in texts(app.markdown) if text.endswith("Dense 10 softmax") and "parameters**" in text]
    assert len(lines) == 1
    return lines[0]


def layer_labels(app) -> list[str]:
    return [text for text in texts(app.markdown) if text.startswith("**") and ". " in text[:6]]


def frame_with(app, column: str):
    """The one table with this column (AppTest does not expose a dataframe's key)."""
    frames = [frame.value for frame in app.dataframe if column in frame.value.columns]
    assert len(frames) == 1
    return frames[0]


def save_as(app, name: str):
    app.text_input(key="net_name").input(name).run()
    app.button(key="net_save").click().run()
    return app


def test_the_editor_is_closed_until_asked_for(fake_trainer):
    app = open_bare_page()
    assert not app.exception and app.toggle(key="net_open").value is False
    assert not any("parameters**" in text for text in texts(app.markdown))
    assert "net_save" not in {button.key for button in app.button}


def test_the_editor_shows_a_live_parameter_count_and_layer_table_before_anything_trains(fake_trainer):
    app = open_page()
    assert not app.exception
    assert parameter_line(app).startswith(f"**{START.num_params:,} parameters** — 28×28 image → Conv 8 3×3 relu")
    table = layer_table(app)
    assert [row[2] for row in table] == ["(None, 26, 26, 8)", "(None, 24, 24, 8)", "(None, 12, 12, 8)",
                                         "(None, 12, 12, 8)", "(None, 1152)", "(None, 36)", "(None, 36)", "(None, 10)"]
    assert sum(int(row[3].replace(",", "")) for row in table) == START.num_params
    assert fake_trainer.calls == []


def test_adding_changing_and_removing_layers_updates_the_count(fake_trainer):
    app = open_page()
    app.selectbox(key="net_add_kind").set_value("dense").run()
    app.button(key="net_add").click().run()
    assert not app.exception
    # Dense 50 after the last dropout: 37 x 50 more, and the output now reads 50 units instead of 36.
    grown = START.num_params + 37 * 50 + (51 - 37) * 10
    assert parameter_line(app).startswith(f"**{grown:,} parameters**")
    assert layer_labels(app)[-1] == "**8. Dense**"
    app.number_input(key="net_0_filters").set_value(16).run()      # first convolution: 8 -> 16 filters
    wider = grown + (16 - 8) * 10 + (9 * 16 + 1) * 8 - (9 * 8 + 1) * 8
    assert parameter_line(app).startswith(f"**{wider:,} parameters**")
    app.button(key="net_6_remove").click().run()                    # the last dropout
    assert layer_labels(app)[-2:] == ["**6. Dense**", "**7. Dense**"]
    app.selectbox(key="net_add_kind").set_value("conv").run()
    app.button(key="net_add").click().run()                         # a convolution goes before the Flatten
    assert layer_labels(app)[:5] == ["**1. Convolution**", "**2. Convolution**", "**3. Max-pooling**",
                                     "**4. Dropout**", "**5. Convolution**"]
    assert not app.exception


def test_an_average_pooling_is_added_before_the_flatten_with_its_size_and_help(fake_trainer):
    app = open_page()
    assert "Average pooling" in app.selectbox(key="net_add_kind").options
    app.selectbox(key="net_add_kind").set_value("avgpool").run()
    app.button(key="net_add").click().run()
    assert not app.exception
    assert layer_labels(app)[3:6] == ["**4. Dropout**", "**5. Average pooling**", "**6. Flatten**"]
    size = app.number_input(key="net_7_size")
    assert size.value == 2 and "From 1 to 28" in size.help and "window" in size.help  # no max: the preview says why
    # 12x12 pooled by 2 is 6x6: the Dense 36 after the Flatten reads 6 * 6 * 8 inputs instead of 12 * 12 * 8.
    smaller = START.num_params - (12 * 12 * 8 - 6 * 6 * 8) * 36
    assert parameter_line(app).startswith(f"**{smaller:,} parameters**") and "AvgPool 2" in parameter_line(app)
    assert [row[1] for row in layer_table(app)][4] == "AveragePooling2D"


def test_moving_a_layer_keeps_its_settings(fake_trainer):
    app = open_page()
    app.number_input(key="net_5_units").set_value(40).run()  # Dense 36 -> 40
    app.button(key="net_5_up").click().run()                  # now before the Flatten: a Dense on an image
    assert not app.exception
    assert any("needs a vector: add a Flatten before it" in text for text in texts(app.error))
    assert app.number_input(key="net_5_units").value == 40
    app.button(key="net_5_down").click().run()
    assert not any("cannot be built" in text for text in texts(app.error))
    assert "Dense 40 relu" in parameter_line(app)


@pytest.mark.parametrize("change, message", [
    (lambda app: app.number_input(key="net_0_kernel_size").set_value(28),
     "Layer 2 (Conv 8 3×3 relu) needs an image of at least 3×3 pixels but gets 1×1"),
    (lambda app: app.radio(key="net_input").set_value("vector"), "the 784-vector input has no rows and columns"),
    # Issue 28 item 9: a value outside a field's range (kernel 29) was marked red and the old value kept, in silence
    (lambda app: app.number_input(key="net_0_kernel_size").set_value(29),
     "kernel size must be a whole number from 1 to 28; got 29"),
    (lambda app: app.number_input(key="net_3_rate").set_value(1.5),
     "dropout rate must be at least 0 and below 1; got 1.5"),
    (lambda app: app.button(key="net_4_remove").click(), "needs a vector: add a Flatten before it"),
    (lambda app: (app.number_input(key="net_1_filters").set_value(16),
                  app.number_input(key="net_5_units").set_value(4096)),
     "9,483,498 parameters is over the limit of 5,000,000"),
])
def test_a_network_that_cannot_build_shows_one_message_and_cannot_be_saved(fake_trainer, change, message):
    app = open_page()
    app.text_input(key="net_name").input("broken").run()
    change(app)
    app.run()
    assert not app.exception
    errors = [text for text in texts(app.error) if "cannot be built" in text]
    assert len(errors) == 1 and message in errors[0]
    assert app.button(key="net_save").disabled


def test_a_presets_name_is_refused(fake_trainer):
    app = open_page()
    app.text_input(key="net_name").input("conv").run()
    assert any("'conv' is a preset's name" in text for text in texts(app.error))
    assert app.button(key="net_save").disabled


def test_a_saved_network_is_chosen_trains_and_reopens_from_the_store(fake_trainer):
    app = save_as(open_page(), "my-net")
    assert not app.exception
    assert RunStore().saved_networks()["my-net"].layers == START.layers
    assert any("Saved my-net" in text for text in texts(app.success))
    assert app.multiselect(key="architectures").value == ["flat", "conv", "my-net"]
    app.number_input(key="sample_size").set_value(100)
    app.number_input(key="epochs").set_value(1)
    app.button(key="train").click().run()
    assert not app.exception
    assert [config.architecture for config in fake_trainer.calls] == ["flat", "conv", "my-net"]
    assert fake_trainer.calls[-1].spec.layers == START.layers
    assert "my-net" in texts(app.subheader)
    timing = frame_with(app, "my-net")  # the Timing table: a column per run
    assert timing.loc["parameters", "my-net"] == f"{START.num_params:,}"

    again = open_bare_page()  # a new session, as after a restart: the network is a choice, its run is stored
    assert "my-net · 42,542" in again.multiselect(key="architectures").options  # name · parameters
    again.multiselect(key="architectures").set_value(["my-net"])
    again.number_input(key="sample_size").set_value(100)
    again.number_input(key="epochs").set_value(1)
    again.button(key="train").click().run()
    assert len(fake_trainer.calls) == 3 and any("from cache" in text for text in texts(again.caption))


def test_the_runs_page_lists_saved_networks_and_deletes_them(fake_trainer):
    app = save_as(open_page(), "my-net")
    app.number_input(key="sample_size").set_value(100)
    app.number_input(key="epochs").set_value(1)
    app.button(key="train").click().run()
    app = open_bare_page("app_pages/runs.py")
    assert not app.exception
    (table,) = [table.value for table in app.table if "what it tests" in table.value.columns]  # wraps on a phone
    assert list(table["name"]) == ["my-net"]
    assert list(table["parameters"]) == [f"{START.num_params:,}"] and list(table["runs"]) == ["1"]
    app.multiselect(key="chosen_networks").set_value(["my-net"]).run()
    app.button(key="delete_networks").click().run()
    assert texts(app.warning)[0].startswith("Delete 1 network?") and "- my-net" in texts(app.warning)[0]
    assert "my-net" in RunStore().saved_networks()  # asked first (issue 28 item 1)
    app.button(key="confirm_delete_networks").click().run()
    assert not app.exception and RunStore().saved_networks() == {}
    assert any(text.startswith("Deleted 1 network: my-net") for text in texts(app.success))
    assert len(RunStore().list_runs()) == 3  # its runs stay


def test_the_study_page_designs_networks_and_answers_convolution_or_capacity(fake_trainer):
    app = open_page("app_pages/study.py")
    app.button(key="study_capacity_preset").click().run()
    assert app.multiselect(key="study_architectures").value == ["flat", "conv", "flat-wide", "conv-small"]
    assert app.multiselect(key="study_pairs").value == [("conv", "flat"), ("conv", "flat-wide"), ("conv-small", "flat")]
    app.multiselect(key="study_sizes").set_value([100])
    app.number_input(key="study_seeds").set_value(3)
    app.number_input(key="study_epochs").set_value(1).run()  # the preset's default study may need confirming first
    app.button(key="run_study").click().run()
    assert not app.exception
    assert len(fake_trainer.calls) == 12
    assert any(text.startswith("Convolution or capacity? Convolution") for text in texts(app.info))
    gaps = frame_with(app, "McNemar")
    assert list(gaps["difference"]) == ["conv − flat", "conv − flat-wide", "conv-small − flat"]
    (pairs,) = [table.value for table in app.table if "conv − flat-wide" in table.value.columns]
    assert list(pairs.columns) == ["images", "conv − flat (H2)", "conv − flat-wide", "conv-small − flat"]
    h1 = [list(table.value.columns) for table in app.table if "flat" in table.value.columns or
          "conv-small" in table.value.columns]
    assert h1 == [["images", "flat", "conv"], ["images", "flat-wide", "conv-small"]]  # at most three: a phone

    save_as(app, "mine")  # the editor on the Study page saves into the study's choices
    assert not app.exception
    assert "mine" in app.multiselect(key="study_architectures").value


def test_each_chosen_network_says_what_it_isolates(fake_trainer):
    app = open_bare_page()
    app.multiselect(key="architectures").set_value(["conv", "flat-wide"]).run()
    lines = [text for text in texts(app.caption) if text.startswith("**conv**")]
    assert len(lines) == 1 and "**flat-wide** — Capacity matched: flat widened to conv's parameters" in lines[0]
