"""helga-koji's path end to end: Brew's frames published to a real ActiveMQ,
delivered by the stomp transport, and turned into chat lines by
helga-koji's own signal handlers (restated unchanged in
:mod:`tests.test_helga_koji`), which take the frame as 0.10's callers
handed it over."""

from __future__ import annotations

import re

import pytest_twisted
from twisted.internet.threads import deferToThread

from tests.bus_helpers import unique, wait_for
from tests.bus_messages import dataset_messages
from tests.compat_helpers import WEBURL, Frame
from tests.stomp_helpers import start_stomp
from tests.stomp_publish import publish_stomp
from tests.test_helga_koji import (
    build_state_change_callback,
    build_tag_untag,
    home,  # noqa: F401 - a fixture
    koji,  # noqa: F401 - a fixture
    task_state_change,
)

#: helga-koji's signal handlers, by the frame's ``type`` header (as its
#: helga plugin routes them by topic).
HANDLERS = {
    "BuildStateChange": build_state_change_callback,
    "TaskStateChange": task_state_change,
    "Tag": build_tag_untag,
    "Untag": build_tag_untag,
}


@pytest_twisted.ensureDeferred
async def test_helga_koji_announces_from_frames_over_stomp(activemq, koji):  # noqa: F811
    messages = dataset_messages()
    said: dict[str, object] = {}

    async def helga(event):
        frame = event.frame
        said[event.message_id] = await HANDLERS[frame.headers["type"]](frame, koji)

    sub = await start_stomp(
        koji,
        activemq.url,
        ["/topic/VirtualTopic.eng.brew.>"],
        helga,
        subscription=unique("helga"),
    )
    await deferToThread(publish_stomp, activemq.publisher_url, messages)
    await wait_for(lambda: len(said) >= len(messages), "every announcement")
    await sub.stop()

    # The same lines as from the frames helga-koji's bus client made for
    # txkoji 0.10 (the hub's properties, not text).
    expected = []
    for _, properties, body in messages:
        frame = Frame(properties, {})
        frame.body = body
        expected.append(await HANDLERS[properties["type"]](frame, koji))
    lines = [line for line in said.values() if line is not None]
    assert sorted(map(repr, lines)) == sorted(
        repr(line) for line in expected if line is not None
    )
    texts = [text for text, _ in lines]
    built = [t for t in texts if re.search(r"'s \S+ complete \(", t)]
    assert built and all(f"({WEBURL}/buildinfo?buildID=" in t for t in built)
    assert any(" tagged " in t and " into " in t for t in texts)
    assert any(f"task closed ({WEBURL}/taskinfo?taskID=" in t for t in texts)
