"""MLP files move from pickle (joblib) to skops. A pickle this installation wrote (its checksum
still matches the registry) is read once more and written again as skops; any other is left
alone, and loading it then fails with a message that says what to do. Nothing is overwritten:
the new file gets its own name, and the old one is removed only after the registry points at it.
"""

import hashlib
import logging
from pathlib import Path

from django.conf import settings
from django.db import migrations, transaction

log = logging.getLogger(__name__)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def forwards(apps, schema_editor):
    ModelVersion = apps.get_model("inference", "ModelVersion")
    store = Path(settings.MODEL_STORE)
    for mv in ModelVersion.objects.filter(family="mlp", artifact_path__endswith=".joblib"):
        old = store / mv.artifact_path
        if not old.is_file() or _sha256(old) != mv.sha256:
            log.warning("MLP %s: %s is missing or changed; not converted", mv.key, mv.artifact_path)
            continue
        import joblib
        import skops.io as sio

        model = joblib.load(old)  # written by this installation: its checksum is the registry's
        tmp = old.with_name(f".tmp-{old.stem}.skops")
        sio.dump(model, tmp)
        digest = _sha256(tmp)
        relative = f"mlp/{mv.key}-{digest[:12]}.skops"
        tmp.replace(store / relative)
        mv.artifact_path, mv.sha256 = relative, digest
        mv.save(update_fields=["artifact_path", "sha256"])
        transaction.on_commit(old.unlink)  # only once the registry points at the new file


class Migration(migrations.Migration):
    dependencies = [("inference", "0003_model_scope")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
