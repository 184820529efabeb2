"""The example scripts, the demo and README.rst's Python examples, each run
as a program against the fake hub."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import utils

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


async def run_python(*args: str, env: dict[str, str] | None = None) -> str:
    """Run ``python *args`` from the checkout without blocking the reactor.

    :returns: its standard output.
    :raises AssertionError: when it exits non-zero (with its output).
    """
    env = dict(os.environ if env is None else env)
    # This checkout's txkoji, not the one the virtualenv has installed.
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), env.get("PYTHONPATH")) if p
    )
    out, err, code = await utils.getProcessOutputAndValue(
        sys.executable, args, env=env, path=str(ROOT)
    )
    text = out.decode()
    assert code == 0, f"{args} exited {code}:\n{text}\n{err.decode()}"
    return text


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("user.py", ["alice"], r"user alice \(id 2\), kerberos principals: alice@"),
        ("task.py", ["50012"], r"task 50012: buildArch \(x86_64\) is CLOSED"),
        ("task.py", ["50001"], r"task 50001: build \(noarch\) is CLOSED"),
        ("tag.py", ["f40-build"], r"tag f40-build \(id 2\): arches x86_64 aarch64"),
        ("latest_build.py", ["bash"], r"bash-5\.2\.26-2\.fc40 completed 20"),
        (
            "durations.py",
            ["bash", "legacy-tool"],
            r"bash: 0:0.*\nlegacy-tool: no build",
        ),
        (
            "asyncio_app.py",
            ["1001", "1003"],
            r"bash-5\.2\.26-1\.fc40: COMPLETE\nbash-5\.2\.26-3\.fc40: FAILED",
        ),
    ],
)
@pytest_twisted.ensureDeferred
async def test_example_script_against_the_fake_hub(hub_server, script, args, expected):
    out = await run_python(
        str(EXAMPLES / script),
        "--server",
        hub_server.url,
        "--weburl",
        "https://koji.test/koji",
        *args,
    )
    assert re.search(expected, out), out


@pytest_twisted.ensureDeferred
async def test_example_script_takes_a_profile(hub_server, tmp_path):
    home = tmp_path / "home"
    (home / ".koji").mkdir(parents=True)
    (home / ".koji" / "config").write_text(f"[fake]\nserver = {hub_server.url}\n")
    env = dict(os.environ, HOME=str(home))
    out = await run_python(
        str(EXAMPLES / "user.py"), "--profile", "fake", "bob", env=env
    )
    assert "user bob (id 3)" in out


@pytest.mark.parametrize("tls", [False, True])
@pytest_twisted.ensureDeferred
async def test_demo_runs_against_its_own_fake_hub(tls):
    # Faster than the 20x a person watches, for the suite's time.
    out = await run_python(
        str(EXAMPLES / "demo.py"), "--speed", "100", *(["--tls"] if tls else [])
    )
    assert ("https://" if tls else "http://") + "127.0.0.1:" in out
    assert "bash-5.2.26-1.fc40" in out
    assert "50102 buildArch         x86_64" in out
    assert "legacy-tool  no history" in out
    assert not re.search(r"\d:\d\d:\d\d", out)  # durations read as people say them
    assert "  0 free  0 open  5 done  0 failed" in out
    assert out.rstrip().endswith("completed successfully")


def readme_python_blocks() -> list[str]:
    """Return the ``.. code-block:: python`` bodies of README.rst."""
    text = (ROOT / "README.rst").read_text()
    blocks = []
    for match in re.finditer(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text):
        lines = match.group(1).splitlines()
        blocks.append("\n".join(line[4:] for line in lines) + "\n")
    return blocks


#: What each README Python example prints, in the order they appear (the
#: documentation's examples are files run by test_docs.py).
README_OUTPUTS = ["bash-5.2.26-1.fc40 COMPLETE"]


def test_readme_has_the_expected_python_examples():
    assert len(readme_python_blocks()) == len(README_OUTPUTS)


@pytest.mark.parametrize("index", range(len(readme_python_blocks())))
@pytest_twisted.ensureDeferred
async def test_readme_python_example_runs(tls_hub_server, hub_pki, tmp_path, index):
    """Each README example runs with a ``fedora`` profile pointing at the
    fake hub over HTTPS, with a client certificate for the login example."""
    script = tmp_path / f"readme_{index}.py"
    script.write_text(readme_python_blocks()[index])
    env = fedora_profile(tmp_path, tls_hub_server, hub_pki)
    out = await run_python(str(script), env=env)
    assert README_OUTPUTS[index] in out, out


def fedora_profile(tmp_path: Path, hub_server, pki=None) -> dict[str, str]:
    """An environment whose ``~/.koji/config`` has a ``fedora`` profile
    pointing at ``hub_server``: over HTTPS with ``pki``'s CA and its client
    certificate (for ssl logins) when given."""
    home = tmp_path / "home"
    (home / ".koji").mkdir(parents=True)
    profile = (
        "[fedora]\n"
        f"server = {hub_server.url}\n"
        f"topurl = {hub_server.topurl}\n"
        "weburl = https://koji.test/koji\n"
    )
    if pki is not None:
        profile += (
            f"serverca = {pki.ca_cert}\ncert = {pki.client_pem}\nauthtype = ssl\n"
        )
    (home / ".koji" / "config").write_text(profile)
    return dict(os.environ, HOME=str(home))
