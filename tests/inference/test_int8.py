"""VGG-Face in int8 through ONNX Runtime: when it is used, the graph, the cache, agreement, and a
worker that never imports TensorFlow."""

import json
import re
import subprocess
import sys
import threading

import numpy as np
import pytest
from django.core.management import call_command

from inference.precision import FLOAT32, INT8, choose, nvidia_gpus
from tests.conftest import ROOT
from tests.tiny_vgg import tiny_trained_top, tiny_vgg_model
from tests.vgg_files import TINY

pytestmark = pytest.mark.usefixtures("fresh_registry")

CPU = "processor : 0\nflags : fpu sse2 avx2 avx512f avx512bw{}\n"


def test_int8_only_where_the_hardware_runs_it(tmp_path, monkeypatch):
    for flag in ("avx512_vnni", "avx_vnni", "amx_int8"):
        assert choose(INT8, cpuinfo=CPU.format(" " + flag)).precision == INT8
    plain = choose(INT8, cpuinfo=CPU.format(" avx512_bf16"))
    assert plain.precision == FLOAT32 and plain.fell_back and "avx512_vnni" in plain.reason
    assert choose(INT8, cpuinfo="").precision == FLOAT32  # no flags to read: never assumed
    # int8 runs on the CPU only: with a GPU visible, float32 on the GPU.
    gpu = choose(INT8, cpuinfo=CPU.format(" avx512_vnni"), gpus=[("NVIDIA L4", (0, 0))])
    assert gpu.precision == FLOAT32 and "NVIDIA L4" in gpu.reason
    # GPUs are found from the driver's files (no TensorFlow): its list, else its device files.
    proc, dev = tmp_path / "gpus", tmp_path / "dev"
    (proc / "0000:01:00.0").mkdir(parents=True)
    (proc / "0000:01:00.0/information").write_text("Model: \t\t NVIDIA L4\nIRQ: 1\n")
    dev.mkdir()
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert nvidia_gpus(proc, dev) == [("NVIDIA L4", (0, 0))]
    (dev / "nvidia0").touch()
    (dev / "nvidiactl").touch()
    assert nvidia_gpus(tmp_path / "none", dev) == [("nvidia0", (0, 0))]
    assert nvidia_gpus(tmp_path / "none", tmp_path / "none") == []
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # every GPU hidden, as from TensorFlow
    assert nvidia_gpus(proc, dev) == []
    with pytest.raises(ValueError, match="float32, bfloat16, int8"):
        choose("int4")


def test_the_onnx_graph_equals_keras_in_float32():
    """The graphs built from the weight layers (no TensorFlow) compute what the Keras model does."""
    import onnxruntime as ort

    from inference.vggface import FC6, SplitForward, build_model
    from inference.vggface_onnx import conv_graph, fc_graph
    from inference.vggface_weights import random_layers

    layers = random_layers(5, width=TINY, seed=3)
    conv = ort.InferenceSession(conv_graph(layers[:FC6]).SerializeToString(), providers=["CPUExecutionProvider"])
    fc = ort.InferenceSession(fc_graph(layers[FC6:15]).SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((3, 224, 224, 3), dtype=np.float32)
    pooled = conv.run(None, {"image": x})[0]
    fc7 = fc.run(["fc7"], {"pool5_flat": pooled})[0]
    keras_model = SplitForward(build_model(5, width=TINY, layer_source=iter(layers)), until="fc7")
    keras_pooled = np.concatenate([keras_model.conv.predict_on_batch(x[i : i + 1]) for i in range(3)])
    np.testing.assert_allclose(pooled, keras_pooled.reshape(3, -1), atol=1e-5)
    np.testing.assert_allclose(fc7, keras_model(x), atol=1e-5)
    assert np.abs(fc7).max() > 0.1  # not a vanishing signal that any graph would match


@pytest.mark.django_db
def test_int8_agrees_with_float32_on_a_trained_model(capsys):
    """The head trained on generated data (as the bfloat16 test), 400 held-out generated images,
    int8 as served: the issue's bar of 99% top-1 agreement, reached with the second look.

    int8 alone kept 97.5-98.5% here (394/400 in the last run), while moving each pixel by up to one
    grey level keeps 97.2% of float32's answers (bfloat16: 99.25%): pool5 moves by 2.2% at this width,
    nearly all of it the 8-bit activations' (docs/operations.md). The second look runs the near-ties'
    convolutions again in float32 (the threshold measured by the gate on other faces): 99.5% with 36%
    of the images looked at again at this width. With it switched off (threshold 0) this fails."""
    model = tiny_trained_top("tiny-agree-int8", per_group=40, epochs=60, seed=0)
    call_command("compare_precision", model.key, "--generated", "400", "--reduced", "int8", "--min-agreement", "0.99")
    out = capsys.readouterr().out
    print(out)  # the numbers, for -s
    assert "float32 against int8 on 400 generated images (synthetic)" in out
    top = float(out.split("float32's top probability, mean: ")[1].split()[0])
    again = float(out.split("looked at again in float32 (near-ties): ")[1].split("= ")[1].split("%")[0])
    assert top > 0.45, "a near-uniform model would make agreement meaningless"
    assert 0 < again < 60, "the second look is for near-ties, not for every image (36% seen here)"


@pytest.mark.django_db
def test_the_near_tie_threshold_comes_from_other_faces_than_the_gates(monkeypatch):
    """The second look's threshold is measured on faces the gate's agreement is not then judged on."""
    from inference import int8_gate
    from inference.registry import _verified_paths

    model = tiny_trained_top("tiny-threshold", per_group=10, epochs=10)
    path, base = _verified_paths(model)
    network = {
        "path": str(path),
        "base_path": str(base),
        "width": TINY,
        "n_classes": len(model.label_set.labels),
        "input_spec": model.input_spec,
    }
    seen, real_faces, real_threshold = [], int8_gate._faces, int8_gate.near_tie_threshold

    def faces(spec, images, seed, batch):
        for x in real_faces(spec, images, seed, batch):
            seen.append((seed, x))
            yield x

    def threshold(errors):
        seen.append(("threshold", None))
        return real_threshold(errors)

    monkeypatch.setattr(int8_gate, "_faces", faces)
    monkeypatch.setattr(int8_gate, "near_tie_threshold", threshold)
    found = int8_gate.measure(network, images=10, threshold_images=10, batch=5)
    order = [seed for seed, _ in seen]
    cut = order.index("threshold")
    assert set(order[:cut]) == {int8_gate.THRESHOLD_SEED} and set(order[cut + 1 :]) == {int8_gate.GATE_SEED}
    assert int8_gate.THRESHOLD_SEED != int8_gate.GATE_SEED
    measured_on = np.concatenate([x for _, x in seen[:cut]])
    judged_on = np.concatenate([x for _, x in seen[cut + 1 :]])
    assert not any((judged_on == face).all(axis=(1, 2, 3)).any() for face in measured_on)  # no face in both
    assert found.n == 10 and found.near_tie > 0 and 0 <= found.looked_again <= 10


def _tiny_base(tmp_path, seed=3):
    from inference.vggface_weights import random_layers, write_layers

    path = tmp_path / "base.h5"
    write_layers(path, random_layers(5, width=TINY, seed=seed))
    return path


def test_the_quantised_file_is_built_once_reused_and_rebuilt_when_damaged(tmp_path, settings, monkeypatch):
    from inference import int8

    settings.DATA_DIR = tmp_path / "data"
    spec = int8.PartSpec("conv", str(_tiny_base(tmp_path)), 0, TINY)
    builds = []
    real = int8._build_in_child

    def counted(spec, path):
        builds.append(path)
        real(spec, path)

    monkeypatch.setattr(int8, "_build_in_child", counted)
    results = []
    workers = [threading.Thread(target=lambda: results.append(int8.ensure(spec))) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(builds) == 1 and results[0] == results[1]  # two workers at once: built once
    path = results[0]
    assert int8.ensure(spec) == path and len(builds) == 1  # reused
    assert not list(path.parent.glob(".building-*"))  # nothing half-written left behind
    int8.session(path)

    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # cut short: never served
    assert int8.ensure(spec) == path and len(builds) == 2
    int8.session(path)
    # Another calibration set or width is another file.
    other = int8.PartSpec("conv", spec.source, 0, TINY, calibration=str(tmp_path / "x.npy"))
    np.save(tmp_path / "x.npy", np.zeros((2, 224, 224, 3), dtype=np.float32))
    assert other.key() != spec.key()


def test_a_quantised_graph_is_built_again_for_other_tools_or_rounding(tmp_path, monkeypatch):
    """A graph's key covers what made it: a newer ONNX Runtime or onnx, or other rounding settings
    (convolutions) or block size (fc6/fc7), is another file, quantised and checked again."""
    from inference import int8, int8_rounding

    base = str(_tiny_base(tmp_path))
    conv, fc = int8.PartSpec("conv", base, 0, TINY), int8.PartSpec("fc", base, 13, TINY, conv_source=base)
    before = conv.key(), fc.key()
    monkeypatch.setattr(int8, "_tool_versions", lambda: ["9.9.9", "9.9.9"])
    assert conv.key() != before[0] and fc.key() != before[1]
    monkeypatch.undo()
    monkeypatch.setattr(int8_rounding, "DAMPING", int8_rounding.DAMPING * 2)
    assert conv.key() != before[0] and fc.key() == before[1]
    monkeypatch.undo()
    monkeypatch.setattr(int8, "FC_BLOCK", 64)
    assert fc.key() != before[1] and conv.key() == before[0]


def test_a_missing_or_damaged_weights_file_is_a_clear_error(tmp_path):
    from inference.int8_predictor import Int8VGGPredictor
    from inference.predictors import ModelArtifactError
    from inference.preprocessing import VGG_SPEC

    with pytest.raises(ModelArtifactError, match="does not exist"):
        Int8VGGPredictor(tmp_path / "missing.h5", VGG_SPEC, 5, width=TINY).load()
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not hdf5")
    with pytest.raises(ModelArtifactError, match="not a readable HDF5"):
        Int8VGGPredictor(broken, VGG_SPEC, 5, width=TINY).load()


WORKER = """
import json, sys
import django
django.setup()
import numpy as np
from classroom.services.worker_start import warm_up_worker
from inference.models import ModelVersion
from inference.preprocessing import VGG_SPEC, prepare
from inference.registry import get_predictor
from training import synthetic

warm_up_worker({"vgg"})
predictor = get_predictor(ModelVersion.objects.get(key=sys.argv[1]))
x = np.stack([prepare(synthetic.generate_image(g, 0, split="test", seed=1), VGG_SPEC)[0] for g in (0, 1)])
probs, maps = predictor.predict_and_explain(x, [True, False])
print(json.dumps({
    "precision": predictor.precision,
    "sums": probs.sum(axis=1).round(6).tolist(),
    "map": maps[0].as_dict(),
    "second": maps[1],
    "second_look": predictor.near_tie > 0 and predictor.float32_conv is not None,
    "imported": sorted(m for m in ("tensorflow", "keras", "tf_keras") if m in sys.modules),
}))
"""


@pytest.mark.django_db(transaction=True)
def test_a_vgg_worker_serving_int8_never_imports_tensorflow(worker_env):
    """Load, answer and explain as a worker does, in a process of its own with int8 chosen: its
    memory stays that of ONNX Runtime's sessions (TensorFlow alone costs ~555 MB)."""
    from classroom.serializers import SaliencySerializer

    model = tiny_vgg_model("tiny-vgg-int8")
    # Checked against float32 in a child process of its own, which may import TensorFlow; this tiny
    # random-base model keeps ~96% of float32's answers (the demo's bar is 99%: it would fall back).
    env = {**worker_env, "ETHITECH_VGG_PRECISION": "int8", "ETHITECH_VGG_INT8_MIN_AGREEMENT": "0.5"}
    done = subprocess.run(
        [sys.executable, "-c", WORKER, model.key], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["precision"] == INT8
    assert result["imported"] == []
    assert result["sums"] == [1.0, 1.0]
    saliency = result["map"]
    assert saliency["method"] == "feature_occlusion" and saliency["params"]["layer"] == "pool5"
    assert len(saliency["grid"]) == 7 and {len(row) for row in saliency["grid"]} == {7}
    assert result["second"] is None
    assert result["second_look"]  # its float32 convolutions are ONNX Runtime's too
    assert SaliencySerializer(data=saliency).is_valid()


@pytest.mark.django_db
def test_prepare_int8_builds_ahead_and_can_calibrate_on_a_folder(tmp_path, settings, capsys):
    from PIL import Image

    from inference import int8
    from training import synthetic

    settings.DATA_DIR = tmp_path / "data"
    model = tiny_vgg_model("tiny-vgg-prepare", epochs=1)
    call_command("prepare_int8", model.key)
    said = capsys.readouterr().out
    # ...and checked against float32, once, saying where it will be served.
    assert re.search(r"tiny-vgg-prepare: int8 ready; keeps \d+/200 = [\d.]+% of float32's top guesses", said), said
    assert re.search(r"(at least 99%: served in int8|below 99%: served in (bfloat16|float32) instead)", said)
    built = sorted(p.name for p in int8.cache_dir().glob("*.onnx"))
    assert len(built) == 2  # the base's convolutions and its fc6/fc7 (the head is NumPy)

    photos = tmp_path / "photos" / "Group A"
    photos.mkdir(parents=True)
    for i in range(3):
        Image.fromarray(synthetic.generate_image(0, i, split="test", seed=5)).save(photos / f"{i}.png")
    call_command("prepare_int8", model.key, "--images", str(tmp_path / "photos"), "--count", "2")
    assert "Calibration images: 2 photos from" in capsys.readouterr().out
    assert int8.calibration_choice() != int8.GENERATED
    # The convolutions quantised again, under another key; fc6/fc7 are not calibrated: the same file.
    assert len(list(int8.cache_dir().glob("*.onnx"))) == 3
    call_command("prepare_int8", model.key, "--generated", "1")
    assert int8.calibration_choice() == int8.GENERATED
    assert len(list(int8.cache_dir().glob("*.onnx"))) == 3  # the generated faces' files were kept
