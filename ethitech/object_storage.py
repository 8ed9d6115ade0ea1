"""Optional S3-compatible object storage, so that workers on other machines can read the photos
and the model files (settings.py calls `storages_config` when ETHITECH_S3_BUCKET is set).

Two prefixes in one bucket: `media/` for photos (uploads, gallery copies, audit collections:
Django's default storage, exactly as on local disk) and `models/` for a copy of every model
file (inference.artifacts publishes each new file there and fetches it on a machine that lacks
it). Nothing here imports boto3: the settings of every process read this module.
"""

BACKEND = "ethitech.private_s3.PrivateS3Storage"
# A file read back from the bucket is held in memory up to this size, then spooled to an
# unnamed temporary file. Every photo fits (uploads are at most 10 MB, stored copies far less),
# so a worker never writes a photo to its disk; an audit's 100 MB zip or a 540 MB VGG-Face
# model file does not have to fit in memory.
MEDIA_SPOOL_BYTES = 32 * 1024 * 1024
MODEL_SPOOL_BYTES = 64 * 1024 * 1024


def storages_config(
    *,
    bucket: str,
    endpoint_url: str = "",
    access_key: str = "",
    secret_key: str = "",
    region: str = "",
    addressing_style: str = "",
) -> dict:
    """The STORAGES entries `default` (photos) and `models` (model files) for one bucket.

    Empty keys leave boto3 to find credentials itself (an instance role, AWS_* variables).
    Objects get no ACL, so they keep the bucket's private default, and the backend refuses to
    make URLs: photos are only ever served by the app's own views, to those allowed to see them.
    """
    common = {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url or None,
        "access_key": access_key or None,
        "secret_key": secret_key or None,
        "region_name": region or None,
        # Self-hosted servers (SeaweedFS, MinIO, Garage) want the bucket in the path.
        "addressing_style": addressing_style or ("path" if endpoint_url else None),
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,
    }
    media = {**common, "location": "media", "max_memory_size": MEDIA_SPOOL_BYTES}
    models = {**common, "location": "models", "max_memory_size": MODEL_SPOOL_BYTES}
    return {"default": {"BACKEND": BACKEND, "OPTIONS": media}, "models": {"BACKEND": BACKEND, "OPTIONS": models}}
