"""VGG-Face weight import -> serving, on generated legacy-layout files."""

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from inference.models import BaseWeights, ModelVersion
from inference.vggface import expected_shapes
from inference.vggface_weights import layer_shapes
from tests.vgg_files import TINY, write_legacy_file

LABELS = "asian,indian,black,white,middle eastern,latino hispanic"


pytestmark = pytest.mark.usefixtures("fresh_registry")  # models loaded by one test are not cached for the next


def store_files(settings):
    from pathlib import Path

    return sorted(p.name for p in Path(settings.MODEL_STORE).rglob("*") if p.is_file())


def test_full_size_shapes_match_the_published_network():
    shapes = expected_shapes(1.0, 6)
    assert shapes[0] == ((3, 3, 3, 64), (64,))
    assert shapes[12] == ((3, 3, 512, 512), (512,))
    assert shapes[13] == ((7, 7, 512, 4096), (4096,))
    assert shapes[14] == ((1, 1, 4096, 4096), (4096,))
    assert shapes[15] == ((1, 1, 4096, 6), (6,))
    params = sum(np.prod(k) + np.prod(b) for k, b in expected_shapes(1.0, 2622))
    assert 144_000_000 < params < 146_000_000  # VGG-Face: 145 M


@pytest.mark.django_db
def test_race_model_import_then_predict(tmp_path, settings):
    path = write_legacy_file(tmp_path / "race_model_single_batch.h5", 6)
    assert len(layer_shapes(path)) == 16
    call_command("import_race_model", str(path), "--labels", LABELS, "--key", "race6")
    mv = ModelVersion.objects.get(key="race6")
    # The deepface race model's six classes are FairFace's groups: it lands on FairFace-6, its own
    # class order kept for serving.
    assert mv.family == "vgg" and mv.label_set.key == "fairface-6"
    assert mv.training_params["output_labels"] == [
        "Asian",
        "Indian",
        "Black",
        "White",
        "Middle Eastern",
        "Latino_Hispanic",
    ]
    assert mv.training_params["width"] == TINY
    from training import synthetic

    rng_images = [synthetic.generate_image(g, 0, split="gallery") for g in range(3)]
    from io import BytesIO

    from PIL import Image

    from inference.services import predict_photos

    sources = []
    for rgb in rng_images:
        buf = BytesIO()
        Image.fromarray(rgb).save(buf, format="PNG")
        buf.seek(0)
        sources.append(buf)
    outcomes = predict_photos(model_version=mv, sources=sources)
    assert len(outcomes) == 3
    for o in outcomes:
        assert o.label in mv.label_set.labels
        assert abs(sum(o.probabilities.values()) - 1) < 0.01
    # Each FairFace group's probability is the file's column for that group.
    from inference.preprocessing import VGG_SPEC, load_rgb, prepare
    from inference.registry import get_predictor

    sources[0].seek(0)
    x, _ = prepare(load_rgb(sources[0]), VGG_SPEC)
    raw = get_predictor(mv).predict_proba(x[None])[0]
    for column, group in enumerate(mv.training_params["output_labels"]):
        assert abs(outcomes[0].probabilities[group] - raw[column]) < 1e-3
    # importing the same file again changes nothing
    call_command("import_race_model", str(path), "--labels", LABELS, "--key", "race6")
    assert ModelVersion.objects.filter(key="race6").count() == 1


@pytest.mark.django_db
def test_identity_weights_import_as_base(tmp_path):
    path = write_legacy_file(tmp_path / "vgg_face_weights.h5", 2622)
    call_command("import_vggface_weights", str(path), "--key", "vggface")
    base = BaseWeights.objects.get(key="vggface")
    assert base.pretrained and base.width == TINY and len(base.sha256) == 64


@pytest.mark.django_db
def test_truncated_file_is_refused_and_nothing_kept(tmp_path, settings):
    path = write_legacy_file(tmp_path / "race.h5", 6)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    before = store_files(settings)
    with pytest.raises(CommandError, match="Nothing was imported.*(truncated|damaged|not a readable HDF5)"):
        call_command("import_race_model", str(path), "--labels", LABELS)
    assert store_files(settings) == before
    assert not ModelVersion.objects.exists()


@pytest.mark.django_db
def test_wrong_shaped_layer_is_named(tmp_path, settings):
    def break_conv3(layers):
        name, (k, b) = layers[4]
        layers[4] = (name, [np.zeros((5, 5, k.shape[2], k.shape[3]), np.float32), b])
        return layers

    path = write_legacy_file(tmp_path / "odd.h5", 6, mutate=break_conv3)
    with pytest.raises(CommandError, match=r"Layer 5 \('conv2d_5', conv3_1\) has shape \(5, 5"):
        call_command("import_race_model", str(path), "--labels", LABELS)
    assert not ModelVersion.objects.exists()


@pytest.mark.django_db
def test_wrong_label_count_and_wrong_files(tmp_path):
    path = write_legacy_file(tmp_path / "race.h5", 6)
    with pytest.raises(CommandError, match="6 classes but 5 labels"):
        call_command("import_race_model", str(path), "--labels", "a,b,c,d,e")
    text = tmp_path / "notes.h5"
    text.write_text("not hdf5")
    with pytest.raises(CommandError, match="not a readable HDF5"):
        call_command("import_race_model", str(text))
    missing = tmp_path / "missing.h5"
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_vggface_weights", str(missing))
    race_as_base = write_legacy_file(tmp_path / "race_full.h5", 6, width=1 / 16)
    call_command("import_vggface_weights", str(race_as_base), "--key", "tiny-ok")  # tiny widths skip the 2622 check


def test_training_and_serving_preprocess_identically(tmp_path):
    from PIL import Image

    from inference.preprocessing import load_rgb, prepare
    from training import synthetic
    from training.image_sets import ImageSet
    from training.trainers.vgg_finetune import _batch
    from training.vgg_features import VGG_SPEC

    rgb = synthetic.generate_image(4, 2)
    path = tmp_path / "face.jpg"
    Image.fromarray(rgb).save(path, quality=92)
    files = ImageSet(ids=[str(path)], labels=np.array([4]), load=lambda i: load_rgb(path))
    trained = _batch(files, [0])[0]
    served, _ = prepare(load_rgb(path), VGG_SPEC)
    assert trained.shape == (224, 224, 3) and trained.dtype == np.float32
    assert 0 <= trained.min() and trained.max() <= 1
    np.testing.assert_array_equal(trained, served)


@pytest.mark.parametrize("own_layers", [1, 3, 16])  # a head on features, a fine-tune, a whole network
def test_serving_forward_equals_the_whole_network(tmp_path, own_layers):
    """Models on a shared base run its layers once for all of them; the answers must be exactly
    those of the whole network built from the same weights."""
    from itertools import islice

    from inference.predictors import VGGPredictor
    from inference.preprocessing import InputSpec
    from inference.vggface import build_model
    from inference.vggface_weights import iter_layers, random_layers, write_layers

    layers = random_layers(5, width=TINY, seed=3)
    base, own = tmp_path / "base.h5", tmp_path / "own.h5"
    write_layers(base, random_layers(7, width=TINY, seed=4)[:15] + layers[15:])
    write_layers(own, layers[16 - own_layers :])
    spec = InputSpec(size=224, mode="rgb", layout="hwc")
    predictor = VGGPredictor(own, spec, 5, base_path=base, width=TINY)
    predictor.load()
    first = 16 - own_layers
    whole = build_model(5, width=TINY, layer_source=(*islice(iter_layers(base), first), *iter_layers(own)))
    x = np.random.default_rng(0).random((3, 224, 224, 3), dtype=np.float32)
    np.testing.assert_allclose(predictor.predict_proba(x), np.asarray(whole(x, training=False)), atol=1e-5)
    if own_layers < 16:  # a second model on the same base reuses its layers
        again = VGGPredictor(own, spec, 5, base_path=base, width=TINY)
        again.load()
        assert again.trunk is predictor.trunk


@pytest.mark.parametrize("cut", ["fc6", "fc7"])
def test_frozen_features_equal_the_networks_own_activations(cut):
    """Feature extraction runs fc6/fc7 as matrix products; they must give the convolutions' numbers."""
    import keras

    from inference.vggface import build_model, feature_model

    model = build_model(5, width=TINY, initialize=True)
    x = np.random.default_rng(1).random((3, 224, 224, 3), dtype=np.float32)
    expected = np.asarray(keras.Model(model.input, model.get_layer(cut).output)(x, training=False)).reshape(3, -1)
    np.testing.assert_allclose(feature_model(model, cut)(x), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.django_db
def test_the_imported_race_model_sits_in_an_experiment_with_fairface_trained_models(tmp_path, classroom):
    """Same label set as a model trained on FairFace here: one experiment can compare them."""
    from classroom.services.classes import create_assignment
    from inference.label_sets import label_set_for

    path = write_legacy_file(tmp_path / "race_model_single_batch.h5", 6)
    call_command("import_race_model", str(path), "--key", "deepface-race")  # the default labels
    race = ModelVersion.objects.get(key="deepface-race")
    trained_here = ModelVersion.objects.create(
        key="fairface-mlp",
        name="MLP on FairFace",
        family="mlp",
        label_set=label_set_for("fairface-6"),
        artifact_path="x",
        sha256="0" * 64,
    )
    a = create_assignment(
        classroom=classroom, title="Both", instructions="", model_versions=[race, trained_here], ask_expected=True
    )
    assert a.label_set.key == "fairface-6" and a.model_versions.count() == 2
    # Labels that are no known dataset's groups keep a label set of their own.
    other = write_legacy_file(tmp_path / "other.h5", 2, seed=1)
    call_command("import_race_model", str(other), "--labels", "x,y", "--key", "xy")
    assert ModelVersion.objects.get(key="xy").label_set.key.startswith("imported-2-")
