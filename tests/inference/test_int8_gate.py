"""int8 serves a model only where its answers agree with float32's (inference/int8_gate.py); below the
bar the model is served in the fallback precision, and the worker says why."""

import json
import logging

import pytest

from inference import int8_gate, precision, registry
from tests.tiny_vgg import tiny_trained_top

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_registry")]


@pytest.fixture
def int8_requested(settings, monkeypatch):
    """ETHITECH_VGG_PRECISION=int8 on a CPU with VNNI but no bfloat16, and no GPU."""
    settings.VGG_PRECISION = "int8"
    settings.VGG_INT8_MIN_AGREEMENT = 0.99
    monkeypatch.setattr(precision, "cpu_flags", lambda cpuinfo=None: {"avx512f", "avx512_vnni"})
    monkeypatch.setattr(precision, "nvidia_gpus", lambda *args: [])
    precision.decision.cache_clear()
    precision.int8_fallback.cache_clear()
    yield
    precision.decision.cache_clear()
    precision.int8_fallback.cache_clear()


def _unchecked(model):
    """The model's int8 predictor, neither loaded nor checked (the check is what these tests test;
    registry.load_uncached would run the real check first)."""
    from inference.int8_predictor import Int8VGGPredictor

    return registry._predictor(Int8VGGPredictor, model, *registry._verified_paths(model), "int8")


def _measured(model, agree: int, n: int = 200) -> None:
    """What the check found for this model, as its child process stores it."""
    from inference.int8 import cache_dir

    path = cache_dir() / f"agreement-{int8_gate._key(model, _unchecked(model))}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"agree": agree, "n": n, "nudge_rate": 0.97, "near_tie": 0.2, "looked_again": 20}))


def test_a_model_below_the_bar_is_served_in_the_fallback_and_one_above_it_in_int8(int8_requested, caplog):
    model = tiny_trained_top("tiny-gate", per_group=10, epochs=10)
    _measured(model, 192)  # 96%
    with caplog.at_level(logging.WARNING, logger="inference.registry"):
        served = registry.get_predictor(model)
    assert served.precision == "float32"  # this CPU has no bfloat16
    said = "keeps 192/200 = 96.0% of float32's top guesses on generated faces, with a second look in float32 at 20/200"
    assert said in caplog.text
    assert "below the 99% bar" in caplog.text
    registry.clear_cache()
    _measured(model, 199)
    served = registry.get_predictor(model)
    assert served.precision == "int8" and served.near_tie == 0.2  # the second look's threshold, as measured


def test_the_check_runs_once_in_a_child_process(int8_requested, monkeypatch, settings, tmp_path):
    import subprocess

    settings.DATA_DIR = tmp_path / "data"  # not another test's stored verdict for the same files
    model = tiny_trained_top("tiny-gate-child", per_group=10, epochs=10)
    predictor = _unchecked(model)
    assert int8_gate.cached(model, predictor) is None
    found = int8_gate.verdict(model, predictor)  # float32 needs TensorFlow: a child's work
    assert found.n == int8_gate.GATE_IMAGES and 0.5 < found.rate <= 1 and 0.5 < found.nudge_rate <= 1
    assert found.near_tie > 0 and 0 < found.agree_alone <= found.n and 0 <= found.looked_again <= found.n

    def no_child(*args, **kwargs):
        raise AssertionError("measured again")

    monkeypatch.setattr(subprocess, "run", no_child)
    assert int8_gate.verdict(model, predictor) == found  # kept beside the quantised files


def test_an_unchecked_model_is_not_served_in_int8(int8_requested, monkeypatch, caplog):
    from inference.int8 import Int8BuildError

    def fails(*args):
        raise Int8BuildError("the child process ran out of memory")

    monkeypatch.setattr(int8_gate, "verdict", fails)
    model = tiny_trained_top("tiny-gate-unchecked", per_group=10, epochs=10)
    assert registry.get_predictor(model).precision == "float32"
    assert "int8 not checked against float32 (the child process ran out of memory)" in caplog.text


def test_a_model_whose_int8_cannot_load_is_served_in_the_fallback(int8_requested, monkeypatch, caplog):
    """Its check was passed with the second look: without the float32 session it is not served in int8."""
    from inference import int8_predictor

    def no_memory(source):
        raise MemoryError("no room for the float32 convolutions")

    monkeypatch.setattr(int8_predictor, "_shared_float32_conv", no_memory)
    model = tiny_trained_top("tiny-gate-no-room", per_group=10, epochs=10)
    _measured(model, 199)
    assert registry.get_predictor(model).precision == "float32"  # this CPU has no bfloat16
    assert "int8 could not be loaded (no room for the float32 convolutions)" in caplog.text
