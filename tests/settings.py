"""Test settings: the real settings, with files in a throwaway folder.

Tests run against real PostgreSQL and Redis (DATABASE_URL, REDIS_URL); a
missing service is an error, never a skip.
"""

import os
import tempfile

# Set before the real settings read it, and inherited by worker subprocesses.
os.environ.setdefault("ETHITECH_DATA_DIR", tempfile.mkdtemp(prefix="ethitech-test-"))
if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    raise RuntimeError("Tests need PostgreSQL: set DATABASE_URL=postgres://... (make test and .ci/run do this).")
if not os.environ.get("REDIS_URL", "").startswith("redis://"):
    raise RuntimeError("Tests need Redis: set REDIS_URL=redis://... (make test and .ci/run do this).")

from ethitech.settings import *  # noqa: E402,F403

# Hashing speed is irrelevant to what the tests check; production uses Argon2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405  (whitenoise warns when it is missing)
# The live server answers each request in a new thread; persistent connections
# would outlive those threads and block dropping the test database.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Small audit chunks, so the real workers of the browser test chain several tasks per audit.
AUDIT_IMAGES_PER_TASK = {"mlp": 16, "vgg": 8}
