"""Importing TensorFlow without what Keras imports only for features no worker uses.

`import tensorflow` imports Keras, and Keras imports pandas, matplotlib, scikit-learn and SciPy
if they are installed, for DataFrame inputs, plotting, its scikit-learn wrappers and image
utilities: about 125 MB in every VGG-Face worker process (measured: 646 -> 519 MB after import). Keras treats each as
optional, so hiding them while TensorFlow is first imported leaves them out of that import; they
are importable again right after (an audit's estimates import scikit-learn when they need it).
"""

import sys

KERAS_OPTIONAL = ("pandas", "matplotlib", "sklearn", "scipy")


def import_tensorflow():
    """TensorFlow, imported (once) without Keras' optional imports where they are not loaded yet."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    hidden = [name for name in KERAS_OPTIONAL if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # "import name" raises ImportError while this is set
    try:
        import tensorflow
    finally:
        for name in hidden:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]
    return tensorflow
