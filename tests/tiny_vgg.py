"""A tiny-width VGG-Face model (random base, head trained on synthetic data) for serving tests."""

from tests.vgg_files import TINY


def tiny_vgg_model(key: str = "tiny-vgg", *, epochs: int = 2):
    from training.image_sets import synthetic_image_set
    from training.services.mlp import demo_label_set
    from training.services.vgg import ensure_random_base, train_vgg_head

    groups = demo_label_set().labels
    return train_vgg_head(
        base=ensure_random_base(width=TINY),
        label_set=demo_label_set(),
        train=synthetic_image_set(dict.fromkeys(groups, 3), split="train"),
        test=synthetic_image_set(dict.fromkeys(groups, 1), split="test"),
        key=key,
        name="Tiny VGG-Face (random base, synthetic)",
        data_source="synthetic",
        synthetic_data=True,
        epochs=epochs,
    )


def tiny_trained_top(
    key: str = "tiny-trained-top", *, per_group: int = 40, epochs: int = 60, seed: int = 0, width: float = TINY
):
    """A tiny VGG-Face whose fc6, fc7 and head are trained on generated faces over a random base's
    frozen convolutions: the layers and the file the platform's fine-tune makes (training/trainers/
    vgg_finetune.py), trained here on pool5 computed once per image (seconds, not minutes).
    Registered on the random base, so serving runs the base's convolutions and its own fc6/fc7."""
    from itertools import islice

    import keras
    import numpy as np

    from inference.artifacts import save_artifact
    from inference.models import ModelVersion
    from inference.preprocessing import VGG_SPEC, prepare
    from inference.registry import verified_path
    from inference.services import register_model_version
    from inference.vggface import FC6, build_part, channels, convolutions
    from inference.vggface_weights import iter_layers, write_layers
    from training import synthetic
    from training.image_sets import synthetic_image_set
    from training.services.mlp import demo_label_set
    from training.services.vgg import ensure_random_base

    base = ensure_random_base(width=width)
    conv = build_part(
        0,
        FC6,
        1,
        width=width,
        layer_source=islice(iter_layers(verified_path(base.name, base.artifact_path, base.sha256)), FC6),
    )
    conv.compile(jit_compile=False)
    train = synthetic_image_set(dict.fromkeys(synthetic.GROUPS, per_group), split="train", seed=seed)
    images = np.stack([prepare(train.load(i), VGG_SPEC)[0] for i in range(len(train))])
    pooled = convolutions(conv, images).reshape(len(train), -1)
    keras.utils.set_random_seed(seed)
    fc, n = channels(width)[13], len(synthetic.GROUPS)
    top = keras.Sequential(
        [
            keras.Input((pooled.shape[1],)),
            keras.layers.Dense(fc, activation="relu", name="fc6"),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(fc, activation="relu", name="fc7"),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(n, activation="softmax", name="head"),
        ]
    )
    top.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    top.fit(pooled, train.labels, epochs=epochs, batch_size=32, verbose=0)
    (k6, b6), (k7, b7), (kh, bh) = (top.get_layer(name).get_weights() for name in ("fc6", "fc7", "head"))
    layers = [
        ("fc6", [k6.reshape(7, 7, -1, fc), b6]),
        ("fc7", [k7.reshape(1, 1, fc, fc), b7]),
        ("head", [kh.reshape(1, 1, fc, n), bh]),
    ]
    relative, digest = save_artifact("vgg", key, ".h5", lambda path: write_layers(path, layers))
    return register_model_version(
        key=key,
        name="Tiny VGG-Face (random base; fc6, fc7 and head trained on synthetic data)",
        family=ModelVersion.Family.VGG,
        label_set=demo_label_set(),
        artifact_path=relative,
        sha256=digest,
        input_spec=VGG_SPEC.to_dict(),
        training_params={"width": width, "epochs": epochs, "seed": seed},
        base=base,
        data_source="synthetic",
        synthetic=True,
        pretrained=False,
    )
