"""Dataset importers: UTKFace, FairFace and the synthetic demo set."""
