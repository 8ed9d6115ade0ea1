"""django-storages' S3 backend, made private and made to fail like local disk does."""

from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage
from storages.utils import clean_name


def _missing(err: ClientError) -> bool:
    return err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404


class PrivateS3Storage(S3Storage):
    """Photos and model files in a private bucket.

    No URL is ever made (not even a signed one): a URL would let anyone holding it see a
    student's photo. The app's own views read the file and send it, after checking who asks.
    """

    def url(self, name, *args, **kwargs):
        raise NotImplementedError("Stored files have no URL: they are sent only by the app's own views.")

    def get_modified_time(self, name):
        # A file deleted between listing and this call is "not found", as on local disk.
        try:
            return super().get_modified_time(name)
        except ClientError as err:
            if _missing(err):
                raise FileNotFoundError(f"File does not exist: {name}") from err
            raise

    def privacy_problems(self, name: str) -> tuple[list[str], list[str]]:
        """(problems, notes): what would make stored photos less private than the app promises,
        checked on the stored file `name`: anyone reading it without a key, or a bucket that keeps
        deleted files as old versions."""
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        problems, notes = [], []
        key = self._normalize_name(clean_name(name))
        anonymous = boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region_name,
            use_ssl=self.use_ssl,
            verify=self.verify,
            config=Config(signature_version=UNSIGNED, s3={"addressing_style": self.addressing_style or "auto"}),
        )
        try:
            anonymous.get_object(Bucket=self.bucket_name, Key=key)["Body"].read()
            problems.append(
                f"Anyone can read files in bucket {self.bucket_name} without a key. Make it private: "
                "remove any public-read ACL or bucket policy that allows anonymous reads."
            )
        except ClientError:
            pass  # refused, as it must be
        try:
            status = self.connection.meta.client.get_bucket_versioning(Bucket=self.bucket_name).get("Status")
        except ClientError as err:
            notes.append(f"Could not check whether the bucket keeps old versions ({err}); make sure it does not.")
        else:
            if status in ("Enabled", "Suspended"):
                problems.append(
                    f"Bucket {self.bucket_name} has versioning {status.lower()}: a deleted photo would stay in it "
                    "as an old version. Use a bucket without versioning."
                )
        return problems, notes
