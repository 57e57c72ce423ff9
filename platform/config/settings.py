"""Waymark settings, read from the environment (see README and docs/deployment.md).

Unset service URLs fall back to embedded defaults for development: pgserver for PostgreSQL,
eager Celery and the database cache for Redis, localstripe for Stripe, files for e-mail.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from . import embedded
from .environment import (
    as_count,
    email_settings,
    env_bool,
    env_list,
    env_str,
    require_in_production,
)

BASE_DIR = Path(__file__).resolve().parents[2]
DATA_DIR = BASE_DIR / ".data"

# Off unless asked for, so a deployment that forgets it fails closed: with DEBUG off, a missing
# secret stops start-up. `make run` and the other development targets set DEBUG=1.
DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = require_in_production("SECRET_KEY", DEBUG, "dev-only-insecure-key-never-in-production")

PLATFORM_DOMAIN = env_str("PLATFORM_DOMAIN", "localhost")
# How links we send (e-mails, texts, the contact centre's client switcher) reach our sites:
# production serves https on 443 and leaves the port empty; the Makefile's development targets
# give http and :8000 (tenants.site_urls builds every such link).
PUBLIC_SCHEME = env_str("PUBLIC_SCHEME", "https")
if PUBLIC_SCHEME not in ("http", "https"):
    raise ImproperlyConfigured(f"PUBLIC_SCHEME must be http or https, not {PUBLIC_SCHEME!r}")
PUBLIC_PORT = env_str("PUBLIC_PORT", "")
# Client domains live under the platform domain by default (essex.localhost); custom domains
# are added per client. The leading dot allows every subdomain.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [PLATFORM_DOMAIN, f".{PLATFORM_DOMAIN}", "127.0.0.1"])

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "accounts",
    "audit",
    "outbox",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Sign-in attempts and lock-outs, in the public schema only (never in TENANT_APPS): one
    # person signs in on every client's site with the same account.
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "console",
    "billing",
    "usergroup",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "audit",
    "outbox",
    "booking",
    "reports",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.ClientOrganisation"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "config.urls_platform"
ROOT_URLCONF = "config.urls_client"
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
# New clients are cloned from this migrated schema instead of being migrated from scratch.
TENANT_BASE_SCHEMA = "client_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
# Send SET search_path only when the schema changes (it halves the statements per booking).
TENANT_LIMIT_SET_CALLS = True
# Host → client remembered per process for this long at most (tenants/routing_cache.py: every
# change to a domain or a client is seen at the next request anyway); 0 switches it off.
TENANT_ROUTING_CACHE_SECONDS = int(env_str("TENANT_ROUTING_CACHE_SECONDS", "60"))
# The public site's "taking bookings yet?" answer remembered per client at most this long
# (booking/services/setup_checklist.py: every change through the ORM is seen at the next request
# anyway); 0 switches it off.
TAKING_BOOKINGS_CACHE_SECONDS = int(env_str("TAKING_BOOKINGS_CACHE_SECONDS", "60"))
# migrate_schemas skips client schemas that already record every migration on disk, whichever
# --executor runs the rest (tenants/migration_executor.py).
GET_EXECUTOR_FUNCTION = "tenants.migration_executor.get_executor"
# ...and renders the migration state once per process, not once per schema (tenants/schema_migrate.py).
TENANT_BASE_MIGRATE_COMMAND = "tenants.schema_migrate.Command"
# `--executor=multiprocessing` migrates this many client schemas at once: one per core by default
# (a schema's migrate is mostly Python building the migration state, so more than the cores buys
# nothing).
TENANT_MULTIPROCESSING_MAX_PROCESSES = int(
    env_str("MIGRATION_PROCESSES", str(len(os.sched_getaffinity(0))))
)

MIDDLEWARE = [
    "config.log_context.RequestContextMiddleware",
    "tenants.middleware.ClientOrganisationMiddleware",
    "config.request_hygiene.RequestHygieneMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.headers.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "config.headers.PrivateByDefaultMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "tenants.middleware.ClientLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.client_site",
                "tenants.opening_hours.phone_lines_banner",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL") or embedded.postgres_url()
# Persistent connections (seconds; 0 closes each at the end of its request), checked before
# reuse (CONN_HEALTH_CHECKS) so a connection the server dropped is replaced, not failed on.
CONN_MAX_AGE = int(env_str("CONN_MAX_AGE", "60"))
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=CONN_MAX_AGE)}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
# A streaming replica, when given, serves the report pages' reads (config/replica_router.py).
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=CONN_MAX_AGE),
        "ENGINE": "django_tenants.postgresql_backend", "CONN_HEALTH_CHECKS": True,
        "TEST": {"MIRROR": "default"}}
    DATABASE_ROUTERS = ("config.replica_router.ReplicaRouter", *DATABASE_ROUTERS)
    MIDDLEWARE = [*MIDDLEWARE, "config.replica_router.ReadYourWritesMiddleware"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery ------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# The database's own cache table: where what must keep working while Redis is away (the offer
# look-up limits) falls back to.
DATABASE_CACHE = {
    "BACKEND": "django.core.cache.backends.db.DatabaseCache",
    "LOCATION": "waymark_cache",
    "KEY_FUNCTION": "django_tenants.cache.make_key",
    "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
            # A Redis that is away is found out in a second, not after the request times out.
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        },
        "database": DATABASE_CACHE,
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": DATABASE_CACHE, "database": DATABASE_CACHE}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TIMEZONE = "Europe/London"
# A hung mail server must not hold a row lock until the task time limit.
EMAIL_TIMEOUT = 20
from .beat import CELERY_BEAT_SCHEDULE  # noqa: E402, F401

# --- Sessions, auth, security ------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 60 * 60
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
# How many proxies we run in front of the app (the load balancer: 1). Their X-Forwarded-For
# entries give the caller's address; 0 trusts none (development). Production must say: a wrong
# guess either way gives everyone one address (every lock-out shared) or lets callers pick theirs.
TRUSTED_PROXY_HOPS = as_count("TRUSTED_PROXY_HOPS", require_in_production("TRUSTED_PROXY_HOPS", DEBUG, "0"))
OTP_TOTP_ISSUER = "Waymark"
# Sign-in lock-out (django-axes): 5 wrong passwords for one e-mail address from one address lock
# that pair for 15 minutes. Never by account alone, so nobody can lock a member of staff out from
# elsewhere; never by e-mail alone, so only a tried address is ever "locked", real account or not.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "email"
AXES_CLIENT_IP_CALLABLE = "audit.services.client_ip"
# No AxesMiddleware: accounts.services.sign_in reads the lock itself and our sign-in page says so;
# the middleware would only swap that page for axes' own.
SILENCED_SYSTEM_CHECKS = ["axes.W002"]
# Security headers (docs/deployment.md, "Security headers"). The page loads only what we serve;
# inline code runs only with the response's nonce; config.headers adds Stripe.js's origins to
# each response, from where integrations.stripe_gateway says Stripe.js is served.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
    },
}
# No page uses these; a script that got in could not either. `payment` is for Stripe's payment
# request button (Apple Pay, Google Pay), which we do not offer. Only names Chromium knows: it
# reports any other as an error in the header (tests/browser/test_headers.py).
PERMISSIONS_POLICY = {
    feature: [] for feature in (
        "accelerometer", "autoplay", "browsing-topics", "camera", "display-capture",
        "encrypted-media", "geolocation", "gyroscope", "hid", "idle-detection", "local-fonts",
        "magnetometer", "microphone", "midi", "payment", "publickey-credentials-get",
        "screen-wake-lock", "serial", "usb", "xr-spatial-tracking",
    )
}

# --- Internationalisation ----------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", _("English")), ("cy", _("Welsh"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "waymark_language"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("govuk", BASE_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# Uploads (client logos) go to object storage when a bucket is named, so web hosts keep nothing
# on their own disk (docs/deployment.md, "Object storage"); AWS_S3_ENDPOINT_URL names an
# S3-compatible server (`make run` starts one). boto3 reads AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY (or an instance role) itself. Unset: files under MEDIA_ROOT.
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    from integrations.object_storage import S3_BACKEND, storage_options

    STORAGES["default"] = {"BACKEND": S3_BACKEND, "OPTIONS": storage_options(
        bucket=AWS_STORAGE_BUCKET_NAME, endpoint_url=env_str("AWS_S3_ENDPOINT_URL"),
        region=env_str("AWS_S3_REGION_NAME", "eu-west-2"))}
MEDIA_ROOT = env_str("MEDIA_ROOT", str(DATA_DIR / "media"))
MEDIA_URL = "/media/"

# --- E-mail ------------------------------------------------------------------------------
globals().update(email_settings(env_str("EMAIL_URL"), str(DATA_DIR / "mail")))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Waymark <no-reply@waymark.localhost>")

# --- Text messages -------------------------------------------------------------------------
# GOV.UK Notify when NOTIFY_API_KEY is set (with a text template whose content is `((body))`);
# files under .data/sms/ in development; none in production without Notify, so the contact
# centre offers the payment link by e-mail only instead of texts that go nowhere.
NOTIFY_API_KEY = env_str("NOTIFY_API_KEY")
NOTIFY_BASE_URL = env_str("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
SMS_FILE_PATH = str(DATA_DIR / "sms")
if NOTIFY_API_KEY:
    NOTIFY_SMS_TEMPLATE_ID = env_str("NOTIFY_SMS_TEMPLATE_ID")
    if not NOTIFY_SMS_TEMPLATE_ID:
        raise ImproperlyConfigured("NOTIFY_API_KEY is set but NOTIFY_SMS_TEMPLATE_ID is not: give the "
                                   "id of a Notify text template whose content is ((body)).")
    SMS_BACKEND = "integrations.text_messages.NotifyBackend"
else:
    SMS_BACKEND = "integrations.text_messages.FileBackend" if DEBUG else None

# --- Stripe ------------------------------------------------------------------------------
# Unset STRIPE_SECRET_KEY means development: `make run` starts localstripe on STRIPE_API_BASE.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env_str("STRIPE_API_BASE")
if STRIPE_SECRET_KEY is None:
    if not DEBUG:
        require_in_production("STRIPE_SECRET_KEY", DEBUG, "")
    STRIPE_SECRET_KEY = "sk_test_embedded_localstripe"
    STRIPE_PUBLISHABLE_KEY = STRIPE_PUBLISHABLE_KEY or "pk_test_embedded_localstripe"
    STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_SECRET or "whsec_embedded_localstripe"
    # `make run LOCALSTRIPE_PORT=…` starts localstripe there; the app must call the same port.
    STRIPE_API_BASE = STRIPE_API_BASE or f"http://127.0.0.1:{env_str('LOCALSTRIPE_PORT', '8420')}"
elif not DEBUG:
    require_in_production("STRIPE_WEBHOOK_SECRET", DEBUG, "")

# --- API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON in and out, and nothing else: a form-encoded body gets 415, and the schema documents
    # exactly what the API takes and gives.
    "DEFAULT_PARSER_CLASSES": ["config.api_parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": "60/minute", "user": "600/minute"},
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    # The key for errors of the request as a whole, as in {"errors": {"__all__": [...]}}.
    "NON_FIELD_ERRORS_KEY": "__all__",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Waymark API",
    "DESCRIPTION": "Client API (/api/v1/) and platform API (/api/platform/v1/).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Redoc from our own static files: the page's policy allows no CDN (docs/deployment.md).
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "config.api_schema.document_errors"],
}

# JSON lines (config.log_context) unless LOG_FORMAT=text; development reads text by default.
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"tenant_context": {"()": "django_tenants.log.TenantContextFilter"},
                "request_context": {"()": "config.log_context.RequestContextFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s [%(schema_name)s:%(domain_url)s "
                           "req=%(request_id)s user=%(user_id)s] %(name)s: %(message)s"},
        "json": {"()": "config.log_context.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["tenant_context", "request_context"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # stripe-python logs two INFO lines per API call (request and response): its errors
        # reach us as exceptions, and every payment is recorded with its Stripe id in our tables.
        "stripe": {"level": "WARNING"},
    },
}
