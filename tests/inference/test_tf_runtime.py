"""A VGG-Face worker imports TensorFlow without what Keras imports only for optional features."""

import subprocess
import sys

from tests.conftest import ROOT

CHECK = """
import sys
from inference.tf_runtime import KERAS_OPTIONAL, import_tensorflow
import_tensorflow()
import keras
print(sorted(name for name in KERAS_OPTIONAL if name in sys.modules))
keras.layers.Conv2D(2, 3)(keras.ops.zeros((1, 5, 5, 3)))  # Keras works without them
import sklearn.neural_network  # and they are importable again afterwards
print("sklearn" in sys.modules)
"""


def test_tensorflow_is_imported_without_kerass_optional_imports():
    out = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["[]", "True"]
