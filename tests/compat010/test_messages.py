"""txkoji 0.10's ``test_messages.py``: the message classes exist (0.10's
own tests went no further; ``tests/test_compat_010.py`` and
``tests/test_helga_koji.py`` use them)."""

from txkoji.messages import BuildStateChange, TagUntag, TaskStateChange


def test_message_classes_import():
    for cls in (TaskStateChange, BuildStateChange, TagUntag):
        assert callable(cls.from_frame)
