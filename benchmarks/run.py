"""Run the whole benchmark and rewrite ``benchmarks/RESULTS.md``.

::

    .venv/bin/python benchmarks/run.py            # everything, 3 runs
    .venv/bin/python benchmarks/run.py --runs 1 --clients txkoji,floor-agent

It installs the competitors into their own virtualenvs under
``benchmarks/.work/`` (once), makes throw-away TLS material, starts the
canned-answer hub (:mod:`hub`) on 127.0.0.1, then runs every client and
workload in a process of its own, ``--runs`` times, interleaved so that
machine noise spreads evenly.  Raw figures go to
``benchmarks/.work/results.json``; the summary to ``RESULTS.md``
(:mod:`report`), with a cProfile summary of txkoji (:mod:`profile`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORK = os.path.join(HERE, ".work")
sys.path.insert(0, HERE)

import certs  # noqa: E402
import report  # noqa: E402
from clientspecs import CLIENTS, VENVS, ClientSpec  # noqa: E402

#: A client process that takes longer than this is killed and reported.
CLIENT_TIMEOUT = 180


def base_python() -> str:
    """The interpreter the project's virtualenv was made from."""
    return getattr(sys, "_base_executable", None) or sys.executable


def ensure_venv(name: str, requirements: list[str]) -> str:
    """Create ``.work/<name>`` with ``requirements`` unless already done;
    return its python."""
    path = os.path.join(WORK, name)
    python = os.path.join(path, "bin", "python")
    marker = os.path.join(path, ".installed")
    wanted = "\n".join(requirements)
    if os.path.exists(marker):
        with open(marker, encoding="utf-8") as done:
            if done.read() == wanted:
                return python
    print(f"setting up {name}: {' '.join(requirements)}", flush=True)
    subprocess.run([base_python(), "-m", "venv", "--clear", path], check=True)
    pip = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        + requirements,
        capture_output=True,
        text=True,
    )
    if pip.returncode:
        raise SystemExit(f"pip install {requirements} failed:\n{pip.stderr}")
    with open(marker, "w", encoding="utf-8") as done:
        done.write(wanted)
    return python


def start_hub(cert_dir: str) -> tuple[subprocess.Popen, dict]:
    """Start the hub process; return it and its ports."""
    hub = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "hub.py"), "--certs", cert_dir],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = hub.stdout.readline()
    if not line:
        raise SystemExit("the benchmark hub did not start")
    return hub, json.loads(line)


def hub_call(url: str, method: str) -> dict:
    """Call one of the hub's ``benchmark.*`` methods."""
    return getattr(xmlrpc.client.ServerProxy(url), method)()


def write_profile_config(home: str, url: str) -> None:
    """The koji profile ``bench`` txkoji 0.10 reads its hub URL from."""
    conf_dir = os.path.join(home, ".koji", "config.d")
    os.makedirs(conf_dir, exist_ok=True)
    with open(os.path.join(conf_dir, "bench.conf"), "w", encoding="utf-8") as conf:
        conf.write(f"[bench]\nserver = {url}\nweburl = http://127.0.0.1/koji\n")


def run_client(spec: ClientSpec, python: str, workload: str, env: dict, ctx: dict):
    """Run one client process for one workload; return its figures."""
    command = [python, "-W", "ignore", os.path.join(HERE, "clients", spec.script)]
    command += [workload, "--url", ctx["url"], "--tls-url", ctx["tls_url"]]
    command += ["--certs", ctx["certs"]] + list(spec.args)
    hub_call(ctx["url"], "benchmark.reset")
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=CLIENT_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {CLIENT_TIMEOUT} s"}
    stats = hub_call(ctx["url"], "benchmark.stats")
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            figures = json.loads(line[len("RESULT ") :])
            figures["hub"] = stats
            return figures
        if line.startswith("SKIP "):
            return {"skipped": json.loads(line[len("SKIP ") :])["reason"]}
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    return {"error": f"exit {done.returncode}: " + " | ".join(tail)}


def versions(pythons: dict[str, str]) -> dict[str, dict]:
    """Package versions in each virtualenv the clients use."""
    probe = (
        "import importlib.metadata as m, json, sys\n"
        "names = ['koji', 'txkoji', 'Twisted', 'treq', 'munch', 'requests']\n"
        "found = {}\n"
        "for name in names:\n"
        "    try:\n"
        "        found[name] = m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        pass\n"
        "found['python'] = sys.version.split()[0]\n"
        "print(json.dumps(found))\n"
    )
    found = {}
    for venv, python in pythons.items():
        # Run outside the checkout: its txkoji.egg-info would be found first.
        done = subprocess.run(
            [python, "-c", probe], capture_output=True, text=True, check=True, cwd=WORK
        )
        found[venv] = json.loads(done.stdout)
    return found


def git_revision() -> str:
    """The work tree's commit, marked when txkoji/ has local changes."""
    try:
        rev = subprocess.run(
            ["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", ROOT, "status", "--porcelain", "--", "txkoji"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + (" (txkoji/ has uncommitted changes)" if dirty else "")


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per cell")
    parser.add_argument("--clients", help="comma-separated client names (default: all)")
    parser.add_argument("--workloads", help="comma-separated workloads (default: all)")
    parser.add_argument("--no-profile", action="store_true", help="skip cProfile")
    parser.add_argument(
        "--output", default=os.path.join(HERE, "RESULTS.md"), help="report file"
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite the report from .work/results.json without running",
    )
    return parser.parse_args()


def selected(args) -> list[tuple[ClientSpec, str]]:
    """The (client, workload) cells to run, in run order."""
    names = set(args.clients.split(",")) if args.clients else None
    loads = set(args.workloads.split(",")) if args.workloads else None
    cells = []
    for spec in CLIENTS:
        if names and spec.name not in names and spec.family not in names:
            continue
        for workload in spec.workloads:
            if loads and workload not in loads:
                continue
            cells.append((spec, workload))
    return cells


def main() -> None:
    """Set up, run every cell ``--runs`` times, write the report."""
    args = parse_args()
    if args.render_only:
        with open(os.path.join(WORK, "results.json"), encoding="utf-8") as saved:
            last = json.load(saved)
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(report.render(last["raw"], last["meta"], last.get("profile")))
        return
    cells = selected(args)
    started = time.time()
    load_before = os.getloadavg()
    os.makedirs(WORK, exist_ok=True)
    pythons = {"project": sys.executable}
    for venv, requirements in VENVS.items():
        if any(spec.venv == venv for spec, _ in cells):
            pythons[venv] = ensure_venv(venv, requirements)
    cert_dir = certs.ensure(os.path.join(WORK, "certs"))
    hub, ports = start_hub(cert_dir)
    ctx = {
        "url": f"http://127.0.0.1:{ports['http']}/kojihub",
        "tls_url": f"https://localhost:{ports['https']}/kojihub",
        "certs": cert_dir,
    }
    home_010 = os.path.join(WORK, "home-txkoji010")
    write_profile_config(home_010, ctx["url"])
    raw: list[dict] = []
    try:
        for run in range(args.runs):
            for spec, workload in cells:
                env = dict(os.environ)
                if spec.venv == "venv-txkoji010":
                    env["HOME"] = home_010
                figures = run_client(spec, pythons[spec.venv], workload, env, ctx)
                figures.update(client=spec.name, workload=workload, run=run)
                raw.append(figures)
                print(report.progress_line(figures), flush=True)
    finally:
        hub.terminate()
        hub.wait(10)
    profile_text = None
    if not args.no_profile:
        done = subprocess.run(
            [sys.executable, os.path.join(HERE, "profiling.py"), "--top", "25"],
            capture_output=True,
            text=True,
        )
        profile_text = done.stdout if done.returncode == 0 else done.stderr
    meta = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)),
        "duration_s": time.time() - started,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "runs": args.runs,
        "revision": git_revision(),
        "versions": versions(pythons),
        "machine": report.machine(),
    }
    with open(os.path.join(WORK, "results.json"), "w", encoding="utf-8") as out:
        json.dump({"meta": meta, "raw": raw, "profile": profile_text}, out, indent=1)
    with open(args.output, "w", encoding="utf-8") as out:
        out.write(report.render(raw, meta, profile_text))
    print(f"wrote {args.output} in {meta['duration_s']:.0f} s")


if __name__ == "__main__":
    main()
