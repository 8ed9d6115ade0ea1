"""A tiny-width VGG-Face model (random base, head trained on synthetic data) for serving tests."""

from tests.vgg_files import TINY


def tiny_vgg_model(key: str = "tiny-vgg", *, epochs: int = 2):
    from training.services import demo_label_set
    from training.vgg_services import ensure_random_base, synthetic_image_set, train_vgg_head

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
