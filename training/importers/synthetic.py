"""The synthetic demo set written to disk, so it can be sampled, trained on and
shown in a class gallery like any imported dataset."""

from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_noop
from PIL import Image

from .. import synthetic
from ..models import Dataset
from .common import ImportReport, Row, store

KEY = "synthetic-demo"


def import_synthetic(*, train_per_group: int = 600, test_per_group: int = 100, seed: int = 0) -> ImportReport:
    from ..services.mlp import demo_label_set

    root = Path(settings.DATA_DIR) / "datasets" / KEY
    rows = []
    for split, per_group, stream in (("train", train_per_group, "train"), ("test", test_per_group, "gallery")):
        for gi, group in enumerate(synthetic.GROUPS):
            folder = root / split / f"group-{chr(97 + gi)}"
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_group):
                path = folder / f"{i:05d}.png"
                if not path.exists():
                    Image.fromarray(synthetic.generate_image(gi, i, split=stream, seed=seed)).save(path)
                extra = synthetic.attributes(gi, i, split=stream, seed=seed)  # made up, like the groups
                rows.append(
                    Row(
                        path=str(path.relative_to(root)),
                        label=group,
                        split=split,
                        gender=extra["style"],
                        age_group=extra["band"],
                    )
                )
    report = ImportReport()
    store(
        key=KEY,
        name=gettext_noop("Synthetic demo set (generated, not real people)"),
        kind=Dataset.Kind.SYNTHETIC,
        label_set=demo_label_set(),
        root=root,
        rows=rows,
        report=report,
        synthetic=True,
    )
    return report
