"""The generated faces of the demo and the tests: inference/synthetic_faces.py, kept in the lowest
layer because inference calibrates and checks int8 on them (inference/int8.py, int8_gate.py)."""

from inference.synthetic_faces import *  # noqa: F403
