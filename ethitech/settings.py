"""Settings for EthiTech classroom, read from the environment (see .env.example).

With no configuration at all the platform runs embedded: SQLite and a
filesystem message broker under ./var, so `make demo` needs no servers.
Setting DATABASE_URL and REDIS_URL switches to PostgreSQL and Redis.
"""

import os
import warnings
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file is optional; real deployments pass variables directly.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _str(name: str, default: str) -> str:
    """An unset or empty variable (as in a copied .env.example) means the default."""
    return env.str(name, default="") or default


DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The fallback key only exists so a fresh clone runs; production must set one.
SECRET_KEY = _str("DJANGO_SECRET_KEY", "insecure-dev-key-change-me-" + "x" * 24)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

DATA_DIR = Path(_str("ETHITECH_DATA_DIR", str(BASE_DIR / "var")))
MEDIA_ROOT = Path(_str("ETHITECH_MEDIA_ROOT", str(DATA_DIR / "media")))
# The student lab's pool per dataset: preprocessed once, then every lab fit draws from it.
LAB_POOL_PER_GROUP = env.int("ETHITECH_LAB_POOL_PER_GROUP", default=2000)
LAB_TEST_PER_GROUP = env.int("ETHITECH_LAB_TEST_PER_GROUP", default=200)
# At most this many lab models of one class train at once (when several training workers share a server).
LAB_JOBS_PER_GROUP = env.int("ETHITECH_LAB_JOBS_PER_CLASS", default=2)
MODEL_STORE = Path(_str("ETHITECH_MODEL_STORE", str(DATA_DIR / "models")))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "axes",
    "csp",
    "inference",
    "training",
    "classroom",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the switcher's cookie, else the browser's Accept-Language, else English.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # no-store on signed-in pages and the API; API errors always JSON.
    "classroom.middleware.PrivateResponsesMiddleware",
    # The database or Redis restarting: a plain "try again" page (503), never a 500.
    "classroom.middleware.ServiceUnavailableMiddleware",
    # Before any view reads the body: oversized uploads get a 413 page unread.
    "classroom.middleware.RequestSizeLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ethitech.urls"
WSGI_APPLICATION = "ethitech.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db_url_config(_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}")),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The results indexes cover extra columns on PostgreSQL; SQLite just ignores that part.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
    # The worker is a separate process: WAL plus IMMEDIATE transactions avoid
    # "database is locked" when web and worker write at the same time.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    # Reuse connections (the URL parser sets 0): saves a connect per request and per task.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts ---------------------------------------------------------------
AUTH_USER_MODEL = "classroom.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "classroom.hashers.ClassroomArgon2PasswordHasher",  # Argon2id, OWASP parameters (see the module)
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # login throttling; must come first
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Login throttling (django-axes) and sessions ------------------------------
# After this many wrong passwords for one username from one address, that
# username is locked there for the cool-off time. Not by address alone: a whole
# class shares one school address.
AXES_FAILURE_LIMIT = env.int("ETHITECH_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ETHITECH_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client address is the connection's: a forged X-Forwarded-For cannot dodge the limit.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
# Privacy: failed attempts are kept until their cool-off ends; successful logins are not logged.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Shared classroom computers: a session ends with the browser, and after 12 hours at most.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = 12 * 3600

# --- Content-Security-Policy (django-csp) -------------------------------------
# Everything comes from this site; no inline scripts or styles anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LANGUAGE_CODE = "en"
# A school adds a language here and in locale/<code>/ (docs/translating.md).
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The switcher's choice is remembered for a year on that browser.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = _str("ETHITECH_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Uploaded photos are private: they live under MEDIA_ROOT but no URL serves them.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": "/nonexistent/"},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Optional: photos and a copy of every model file in a private S3-compatible bucket, so workers on
# other machines need no share of this one's disk (ethitech/object_storage.py, docs/operations.md).
S3_BUCKET = _str("ETHITECH_S3_BUCKET", "")
if S3_BUCKET:
    from .object_storage import storages_config

    STORAGES.update(
        storages_config(
            bucket=S3_BUCKET,
            endpoint_url=_str("ETHITECH_S3_ENDPOINT_URL", ""),
            access_key=_str("ETHITECH_S3_ACCESS_KEY", ""),
            secret_key=_str("ETHITECH_S3_SECRET_KEY", ""),
            region=_str("ETHITECH_S3_REGION", ""),
            addressing_style=_str("ETHITECH_S3_ADDRESSING_STYLE", ""),
        )
    )

# --- Uploads ----------------------------------------------------------------
# Lesson templates (classroom/lessons/catalogue.py); an operator may add a folder of their own.
LESSON_DIRS = [BASE_DIR / "classroom" / "lessons" / "library"] + [
    Path(p) for p in env.list("ETHITECH_EXTRA_LESSON_DIRS", default=[])
]
# Below this many independent tests of a group, pages show "not enough tests yet" instead of a rate.
MIN_TESTS_PER_GROUP = env.int("ETHITECH_MIN_TESTS_PER_GROUP", default=5)

UPLOAD_MAX_BYTES = env.int("ETHITECH_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
UPLOAD_MAX_PIXELS = env.int("ETHITECH_UPLOAD_MAX_PIXELS", default=40_000_000)
# Stored copies are downscaled: models never need more, and less data is kept.
UPLOAD_STORE_MAX_SIDE = env.int("ETHITECH_UPLOAD_STORE_MAX_SIDE", default=1600)
# Bodies over UPLOAD_MAX_BYTES (plus form overhead) are refused unread by
# classroom.middleware. Below that, a photo stays in memory: no temporary copy
# of it is ever written to disk.
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 256 * 1024
# Form fields other than files (the longest is an experiment's instructions).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# Photos in one form post: one for a test; an audit takes several (or a zip of up to AUDIT_MAX_IMAGES).
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("ETHITECH_MAX_FILES_PER_UPLOAD", default=50)
# A folder on the server where an operator puts datasets and weight files; the staff page
# "Models and data" lists and imports what is there (training/import_dir.py). Unset: no page.
IMPORT_DIR = env.str("ETHITECH_IMPORT_DIR", default="")
# Audits of a collection (classroom.audits): its size, and what classroom.middleware lets through
# for the pages and API that create one (every other route keeps the one-photo limit).
AUDIT_MAX_IMAGES = env.int("ETHITECH_AUDIT_MAX_IMAGES", default=500)
AUDIT_MAX_BYTES = env.int("ETHITECH_AUDIT_MAX_BYTES", default=100 * 1024 * 1024)
# Images one audit task answers before it queues its continuation behind whatever arrived
# meanwhile: a class's tests never wait more than one chunk (one VGG-Face batch: 1-2 s).
AUDIT_IMAGES_PER_TASK = {"mlp": 256, "vgg": 8}

# --- Celery -----------------------------------------------------------------
REDIS_URL = _str("REDIS_URL", "")
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = _str("CELERY_BROKER_URL", REDIS_URL or "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.1,  # the default 1 s would add a second to every answer
    }
    # The filesystem transport needs its folder before the first message.
    (BROKER_DIR / "queue").mkdir(parents=True, exist_ok=True)
else:
    # Longer than the longest task, or Redis re-delivers work still running.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=4 * 3600)}
# The database is the source of truth for results; Celery stores none.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Pool processes load their models before taking work (VGG-Face: seconds), see ethitech/celery.py.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = 120
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# When the broker restarts, a task under way finishes and stores its answer (the database, not the
# broker, says what is done). Cancelling it (Celery 6's default) would leave its claim "running".
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Attempts after which a prediction is marked failed instead of retried again.
PREDICTION_MAX_ATTEMPTS = env.int("ETHITECH_PREDICTION_MAX_ATTEMPTS", default=3)
# VGG-Face tasks claim up to this many pending predictions and run them as one batch.
PREDICTION_BATCH_SIZE = {"mlp": 1, "vgg": env.int("ETHITECH_VGG_BATCH_SIZE", default=8)}
# The web finds the face in each upload (OpenCV Haar, 13-70 CPU-ms for a phone photo) and stores
# the box with it, so neither worker searches (classroom.services.submissions). Off: the workers
# search, the first one shares its box (for a web host much smaller than its workers' hosts).
FIND_FACES_AT_UPLOAD = env.bool("ETHITECH_FIND_FACES_AT_UPLOAD", default=True)
# A claimed prediction (with its siblings, or in a VGG batch) is left to the task that claimed it
# for this long before another task may run it; that task's own redelivery may re-claim it at once.
# Its name was ETHITECH_VGG_LEASE_SECONDS before MLP claims had leases too: still honoured.
_old_lease = os.environ.get("ETHITECH_VGG_LEASE_SECONDS")
if _old_lease and "ETHITECH_PREDICTION_LEASE_SECONDS" not in os.environ:
    warnings.warn("ETHITECH_VGG_LEASE_SECONDS is now called ETHITECH_PREDICTION_LEASE_SECONDS", stacklevel=1)
PREDICTION_LEASE_SECONDS = env.int("ETHITECH_PREDICTION_LEASE_SECONDS", default=int(_old_lease or 600))
# How many models of a family one worker process keeps loaded (VGG-Face: ~540 MB of weights each).
MODELS_PER_WORKER = {"vgg": env.int("ETHITECH_VGG_MODELS_PER_WORKER", default=1)}
# The number format VGG-Face computes in (inference/precision.py): float32, bfloat16 (half the
# weights' memory, about twice as fast on CPUs with AVX512-BF16 or AMX) or int8 (ONNX Runtime,
# no TensorFlow in the worker; CPUs with VNNI or AMX). A worker without the instructions says
# so at start-up and uses float32.
VGG_PRECISION = env.str("ETHITECH_VGG_PRECISION", default="float32").strip().lower()
if VGG_PRECISION not in ("float32", "bfloat16", "int8"):
    raise ImproperlyConfigured(f"ETHITECH_VGG_PRECISION must be float32, bfloat16 or int8, not {VGG_PRECISION!r}.")
# int8 serves a model only where it keeps this share of float32's top guesses (inference.int8_gate);
# 0 serves int8 unchecked.
VGG_INT8_MIN_AGREEMENT = env.float("ETHITECH_VGG_INT8_MIN_AGREEMENT", default=0.99)
# Hard limit in seconds on one prediction task (a VGG batch included).
PREDICTION_TIME_LIMIT = env.int("ETHITECH_PREDICTION_TIME_LIMIT", default=300)
# The sweeper re-queues a prediction pending (since queued) or running (since claimed) this long...
PREDICTION_STALE_SECONDS = env.int("ETHITECH_PREDICTION_STALE_SECONDS", default=900)
# Each worker says it is alive every WORKER_HEARTBEAT_SECONDS (in the shared cache); a worker
# silent for WORKER_DEAD_AFTER_SECONDS is dead, and the live workers put its claims back.
WORKER_HEARTBEAT_SECONDS = env.int("ETHITECH_WORKER_HEARTBEAT_SECONDS", default=10)
WORKER_DEAD_AFTER_SECONDS = env.int("ETHITECH_WORKER_DEAD_AFTER_SECONDS", default=20)
# ...and marks failed, with a message, one still unanswered this long after it was submitted.
PREDICTION_GIVE_UP_SECONDS = env.int("ETHITECH_PREDICTION_GIVE_UP_SECONDS", default=24 * 3600)
# A worker whose database is restarting tries each step again for this long before its task fails
# (and is sent again): an answer it has computed is stored once the database is back, never dropped.
DATABASE_WAIT_SECONDS = env.int("ETHITECH_DATABASE_WAIT_SECONDS", default=120)
if PREDICTION_STALE_SECONDS <= max(PREDICTION_TIME_LIMIT, PREDICTION_LEASE_SECONDS):
    raise ImproperlyConfigured("ETHITECH_PREDICTION_STALE_SECONDS must exceed the task time limit and the lease.")
if PREDICTION_LEASE_SECONDS <= PREDICTION_TIME_LIMIT:
    raise ImproperlyConfigured("ETHITECH_PREDICTION_LEASE_SECONDS must exceed ETHITECH_PREDICTION_TIME_LIMIT.")
if CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", float("inf")) <= PREDICTION_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must exceed ETHITECH_PREDICTION_TIME_LIMIT.")
# Periodic jobs (run `celery beat`, and a worker on the "maintenance" queue).
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-predictions": {
        "task": "classroom.sweep_stale_predictions",
        "schedule": env.int("ETHITECH_SWEEP_INTERVAL_SECONDS", default=60),
        "options": {"queue": "maintenance", "expires": 60},
    },
    "clear-sessions": {  # expired sessions out of the table (Django keeps them until told)
        "task": "classroom.clear_sessions",
        "schedule": 6 * 3600,
        "options": {"queue": "maintenance", "expires": 3600},
    },
    "purge-photos": {
        "task": "classroom.purge_photos",
        "schedule": env.int("ETHITECH_PURGE_INTERVAL_SECONDS", default=900),
        "options": {"queue": "maintenance", "expires": 900},
    },
}

# Per-user limits, counted in the shared cache: tests per minute (pages and API together) and
# join codes tried per minute.
# What students see of class-wide numbers: counts from 1 to this minus one are withheld ("fewer
# than 5") and times coarsened to the day, so nobody in a small class is singled out.
STUDENT_MIN_COUNT = env.int("ETHITECH_STUDENT_MIN_COUNT", default=5)
UPLOADS_PER_MINUTE = env.int("ETHITECH_UPLOADS_PER_MINUTE", default=30)
JOIN_ATTEMPTS_PER_MINUTE = env.int("ETHITECH_JOIN_ATTEMPTS_PER_MINUTE", default=10)


# The shared cache: Redis when there is one (its own database, next to the broker's: clearing the
# cache must never touch the queues), else a folder (the demo's processes share it).
def _cache_url(redis_url: str) -> str:
    base, _, db = redis_url.rstrip("/").rpartition("/")
    return f"{base}/{int(db) + 1}" if db.isdigit() else redis_url


CACHE_URL = _str("ETHITECH_CACHE_URL", _cache_url(REDIS_URL) if REDIS_URL else "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL, "KEY_PREFIX": "ethitech"}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(DATA_DIR / "cache")}
    )
}

# Django's admin, for operators: off unless asked for (ETHITECH_ADMIN=1).
ADMIN_ENABLED = env.bool("ETHITECH_ADMIN", default=False)
# Teachers sign up freely, unless the school sets an invitation code they must give.
TEACHER_INVITE_CODE = _str("ETHITECH_TEACHER_INVITE_CODE", "")
# Password-reset emails (teachers): printed to the console unless an SMTP server is configured.
EMAIL_BACKEND = _str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = _str("EMAIL_HOST", "localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = _str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = _str("DEFAULT_FROM_EMAIL", "EthiTech classroom <noreply@localhost>")

# --- REST API (classroom/api.py) --------------------------------------------
# API tokens end after this many hours (and at logout, password change or reset).
API_TOKEN_HOURS = env.int("ETHITECH_API_TOKEN_HOURS", default=24)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous request gets 401 with "WWW-Authenticate: Token".
        "classroom.auth_tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: the browsable API's pages need inline scripts (no strict CSP).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    # DRF's AnonRateThrottle and UserRateThrottle, letting calls through while the cache is away.
    "DEFAULT_THROTTLE_CLASSES": ["classroom.throttles.AnonThrottle", "classroom.throttles.UserThrottle"],
    # "user" allows a projector polling every few seconds (uploads: UPLOADS_PER_MINUTE, shared with the pages);
    # "token" limits password guesses at /api/token/.
    "DEFAULT_THROTTLE_RATES": {
        "anon": "60/minute",
        "user": "600/minute",
        "token": "10/minute",
    },
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "EthiTech classroom API",
    "DESCRIPTION": (
        "Classes, experiments, submissions, predictions and aggregated class results, scoped by role "
        "exactly as the pages are. A prediction is what one model guesses, never a fact about a person."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": _str("ETHITECH_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
