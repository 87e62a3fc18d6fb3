"""S3-compatible object storage (AWS S3, MinIO, Ceph, Garage, ...) through boto3.

Credentials come the standard boto way (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``,
``AWS_PROFILE`` and ``~/.aws``, an instance or task role); the portal never keeps them in its
own configuration. Every failure of the service or the network becomes
:class:`~portal.files.storage.StorageUnavailable` with a message an operator can act on, and a
missing key :class:`~portal.files.storage.ObjectMissing`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO
from urllib.parse import quote

from portal.files.storage import ObjectMissing, StorageUnavailable, check_key

MISSING_CODES = {"NoSuchKey", "404", "NotFound"}
HINTS = {
    "NoSuchBucket": "the bucket does not exist",
    "AccessDenied": "access denied: the credentials may not use this bucket",
    "InvalidAccessKeyId": "the access key is not known to the service",
    "SignatureDoesNotMatch": "the secret key does not match the access key",
    "AuthorizationHeaderMalformed": "the region does not match the bucket's region",
    "PermanentRedirect": "the bucket is in another region or needs another endpoint",
}


class S3Storage:
    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        prefix: str = "",
        addressing_style: str = "auto",
        presigned_seconds: int = 0,
        timeout: float = 10,
    ):
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:  # an optional dependency
            raise ValueError(
                "PORTAL_STORAGE=s3 needs boto3: pip install 'cluster-forum-portal[s3]'"
            ) from exc
        if addressing_style not in {"auto", "path", "virtual"}:
            raise ValueError("PORTAL_S3_ADDRESSING must be 'auto', 'path' or 'virtual'")
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.presigned_seconds = presigned_seconds
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=region or None,
            config=Config(
                s3={"addressing_style": addressing_style},
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        )

    @classmethod
    def from_config(cls, config) -> S3Storage:
        bucket = (config.get("S3_BUCKET") or "").strip()
        if not bucket:
            raise ValueError("PORTAL_STORAGE=s3 needs a bucket: set PORTAL_S3_BUCKET")
        return cls(
            bucket,
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region=config.get("S3_REGION"),
            prefix=config.get("S3_PREFIX") or "",
            addressing_style=(config.get("S3_ADDRESSING_STYLE") or "auto").strip().lower(),
            presigned_seconds=int(config.get("S3_PRESIGNED_SECONDS") or 0),
            timeout=float(config.get("S3_TIMEOUT") or 10),
        )

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    @contextmanager
    def _translated(self, doing: str, key: str = ""):
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in MISSING_CODES and key:
                raise ObjectMissing(key) from exc
            hint = HINTS.get(code) or error.get("Message") or code
            raise StorageUnavailable(f"{self.describe()}: {doing} failed: {hint}") from exc
        except (BotoCoreError, Boto3Error) as exc:
            raise StorageUnavailable(f"{self.describe()}: {doing} failed: {exc}") from exc

    def save(self, key: str, stream: BinaryIO, content_type: str) -> None:
        with self._translated("writing", ""):
            # upload_fileobj sends large streams in parts, never holding all of one in memory.
            self.client.upload_fileobj(
                stream, self.bucket, self._key(key), ExtraArgs={"ContentType": content_type}
            )

    def open(self, key: str):
        with self._translated("reading", key):
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]

    def delete(self, key: str) -> None:
        with self._translated("deleting", ""):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        try:
            with self._translated("looking up", key):
                self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ObjectMissing:
            return False
        return True

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        with self._translated("listing", ""):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"][len(self.prefix) :]

    def size(self, key: str) -> int:
        with self._translated("looking up", key):
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        return int(head["ContentLength"])

    def url(self, key: str, *, filename: str, content_type: str) -> str | None:
        if self.presigned_seconds <= 0:
            return None
        disposition = f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
        with self._translated("signing", key):
            return self.client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": self._key(key),
                    "ResponseContentType": content_type,
                    "ResponseContentDisposition": disposition,
                },
                ExpiresIn=self.presigned_seconds,
            )

    def describe(self) -> str:
        where = self.endpoint_url or "AWS"
        return f"S3 bucket {self.bucket!r} at {where}" + (
            f" (prefix {self.prefix!r})" if self.prefix else ""
        )
