"""txkoji 0.10's ``test_call.py``: any hub method is a call away."""

import pytest_twisted
from munch import Munch


@pytest_twisted.ensureDeferred
async def test_get_user(koji):
    user = await koji.getUser("kdreyer")
    assert user == Munch(
        id=2826,
        krb_principal="kdreyer@EXAMPLE.COM",
        name="kdreyer",
        status=0,
        usertype=0,
    )
