"""File transfers: downloads of task output and builds, raw uploads.

Every function returns a Deferred; see :mod:`txkoji.files.download`,
:mod:`txkoji.files.task_output`, :mod:`txkoji.files.builds` and
:mod:`txkoji.files.upload`.  Where files live is :mod:`txkoji.paths`.
"""

from txkoji.files.download import download
from txkoji.files.naming import unique_upload_dir

__all__ = ["download", "unique_upload_dir"]
