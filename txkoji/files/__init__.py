"""File transfers: downloads of task output and builds, raw uploads.

Every function returns a Deferred:

* :func:`download`: one file from ``topurl`` (or any URL), resumable,
  verified;
* :func:`download_task_output`: like ``koji download-task``;
* :func:`download_build`: like ``koji download-build``;
* :func:`upload`, :func:`upload_many`: raw uploads into the work area,
  resumable;
* :func:`build_from_srpm`: upload an SRPM and start a build of it.

Where files live is :mod:`txkoji.paths`.
"""

from txkoji.files.builds import download_build
from txkoji.files.download import download
from txkoji.files.naming import unique_upload_dir
from txkoji.files.task_output import download_task_output
from txkoji.files.upload import (
    DEFAULT_CHUNK_SIZE,
    Uploaded,
    build_from_srpm,
    upload,
    upload_many,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "Uploaded",
    "build_from_srpm",
    "download",
    "download_build",
    "download_task_output",
    "unique_upload_dir",
    "upload",
    "upload_many",
]
