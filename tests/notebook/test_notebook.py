"""The example notebook (bindings-py/examples/notebook.ipynb) run headless, as a user's kernel runs it.

Run by scripts/suites/35-notebook.sh in a venv with nbclient, ipykernel, ipywidgets, nbconvert, matplotlib,
pandas, tqdm, chdb-core and the mesbackup wheel; MOCK_MES names the mock-mes binary. The executed
notebook, its HTML rendering and a headless Chromium screenshot of that HTML go to tests/artifacts/.
"""

from __future__ import annotations

import base64
import copy
import html
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbconvert import HTMLExporter

import mesbackup

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "bindings-py" / "examples" / "notebook.ipynb"
PACKAGE = REPO / "tests" / "fixtures" / "clickhouse" / "mesfix_stored.zip"
ARTIFACTS = Path(os.environ.get("NOTEBOOK_ARTIFACTS", REPO / "tests" / "artifacts"))
DATABASES = mesbackup.system_databases("MES")
CELL = "padding:2px 8px;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:top"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    os.environ["NOTEBOOK_PACKAGE"] = str(PACKAGE)  # the kernel inherits the environment
    run_dir = tmp_path_factory.mktemp("nb")
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(run_dir)}}).execute()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, ARTIFACTS / "notebook.ipynb")
    return nb


def cell(nb: Any, tag: str) -> Any:
    [found] = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    return found


def html_of(nb: Any, tag: str) -> str:
    outs = [o for o in cell(nb, tag).outputs if "text/html" in o.get("data", {})]
    assert len(outs) == 1, (tag, cell(nb, tag).outputs)
    return str(outs[0]["data"]["text/html"])


def test_every_cell_ran_without_error(executed: Any) -> None:
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert len(code) >= 12
    for c in code:
        assert c.execution_count is not None, c.source
        errors = [o for o in c.outputs if o.output_type == "error"]
        assert not errors, (c.source, errors)


def test_progress_bars_one_per_database(executed: Any) -> None:
    """progress=True in a kernel with ipywidgets: one tqdm widget per database, each ended full and green."""
    state = executed.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    bars = {}
    for o in cell(executed, "backup").outputs:
        box = state[o["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]]["state"]
        label, bar, _ = (state[k.removeprefix("IPY_MODEL_")]["state"] for k in box["children"])
        bars[label["value"].split(":")[0]] = (
            label["value"].split(":")[1].strip(),
            bar["value"] == bar["max"],
            bar["bar_style"],
        )
    assert bars == {db: ("100%", True, "success") for db in DATABASES}, bars


def test_results_are_tables(executed: Any) -> None:
    listing = html_of(executed, "packages-table")
    assert 'class="dataframe' in listing and all(db in listing for db in DATABASES)
    assert "<th>finished_at</th>" in listing
    assert "Package " in html_of(executed, "package")
    assert "OK" in html_of(executed, "verify")
    checked = html_of(executed, "verify-table")
    assert 'class="dataframe' in checked and checked.count("True") >= 2 * len(DATABASES)  # ok, sidecar_matched
    assert "MaterialHistory" in html_of(executed, "inspect")
    assert "re-run data processing from" in html_of(executed, "window")
    folder = html_of(executed, "folder")
    assert "Installer folder for MES 11.3.0" in folder and "problem" not in folder
    restored = html_of(executed, "test-restore-table")
    assert 'class="dataframe' in restored and restored.count("mesbackup_testrestore_MESFIX_") == len(DATABASES)
    assert "Test restore" in html_of(executed, "test-restore")
    assert "Package " in html_of(executed, "async")
    text = "".join(o.get("text", "") for o in cell(executed, "reprocess").outputs)
    m = re.fullmatch(r"re-run data processing from (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC)\n", text)
    assert m, text
    # The SQL Server backup, 3 s before the first ClickHouse backup started, is where to re-run from.
    assert f'SQL Server backup</th><td style="{CELL}">{m.group(1)}</td>' in html_of(executed, "window")


def test_window_plot_is_a_figure(executed: Any) -> None:
    [png] = [o["data"]["image/png"] for o in cell(executed, "window-plot").outputs if "image/png" in o.get("data", {})]
    raw = base64.b64decode(png)
    assert raw.startswith(b"\x89PNG") and len(raw) > 5000


def widgets_as_text(nb: Any) -> Any:
    """A copy whose progress widgets are their final text. nbconvert draws widgets with JavaScript
    fetched from unpkg.com, which this machine cannot reach, so the rendering would show nothing
    where the bars are; this shows what the stored widget state says instead (label, bar, counts)."""
    nb = copy.deepcopy(nb)
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    for c in nb.cells:
        for o in c.get("outputs", []):
            view = o.get("data", {}).pop("application/vnd.jupyter.widget-view+json", None)
            if view is None:
                continue
            parts = [state[k.removeprefix("IPY_MODEL_")]["state"] for k in state[view["model_id"]]["state"]["children"]]
            label, bar, counts = parts
            filled = round(10 * bar["value"] / bar["max"]) if bar.get("max") else 0
            o["data"]["text/plain"] = html.unescape(
                f"{label['value']}|{'█' * filled}{' ' * (10 - filled)}|{counts['value']}"
            )
    nb.metadata.pop("widgets", None)
    return nb


def test_html_rendering_and_screenshot(executed: Any) -> None:
    body, _ = HTMLExporter().from_notebook_node(widgets_as_text(executed))
    assert "MESDWH:\u2007100%|██████████|" in body
    page = ARTIFACTS / "notebook.html"
    page.write_text(body)
    assert "data:image/png;base64," in body and 'class="dataframe' in body and "Installer folder for MES" in body
    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed (35-notebook.sh installs it)"
    shot = ARTIFACTS / "notebook.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--screenshot=" + str(shot),
         "--window-size=1200,9000", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 50_000
    print(f"screenshot: {shot}")


# ---- interrupting the kernel --------------------------------------------------------------------


@pytest.fixture
def slow_mes() -> Any:
    proc = subprocess.Popen([os.environ["MOCK_MES"], "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    base = proc.stdout.readline().strip()
    scenario = {
        "payload": {"size": 8_000_000, "seed": 7},
        "download": {"drip": {"chunk": 32768, "interval_ms": 50}, "every": True},
    }
    req = urllib.request.Request(
        base + "/_mock/scenario", data=json.dumps(scenario).encode(), method="PUT",
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    urllib.request.urlopen(req, timeout=10).close()
    yield base
    proc.kill()
    proc.wait()


def run(kc: Any, code: str, timeout: float = 60) -> dict[str, Any]:
    msg_id = kc.execute(code)
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            content: dict[str, Any] = reply["content"]
            return content


def interrupted(km: KernelManager, kc: Any, code: str, out: Path) -> dict[str, Any]:
    """Runs `code` in the kernel, interrupts it once a partial file is being written, returns the reply."""
    msg_id = kc.execute(code)
    deadline = time.monotonic() + 30
    while not any(p.name.endswith(mesbackup.PARTIAL_SUFFIX) for p in out.glob("*")):
        assert time.monotonic() < deadline, "no download started"
        time.sleep(0.05)
    time.sleep(0.3)
    km.interrupt_kernel()
    while True:
        reply = kc.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg_id:
            content: dict[str, Any] = reply["content"]
            return content


def test_interrupt_kernel_stops_the_transfer(slow_mes: str, tmp_path: Path) -> None:
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(tmp_path))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        setup = (
            "import mesbackup\n"
            f"client = mesbackup.Client({slow_mes!r}, token='admin-token', min_poll_delay=0.05)\n"
            f"aclient = mesbackup.AsyncClient({slow_mes!r}, token='admin-token', min_poll_delay=0.05)\n"
        )
        assert run(kc, setup)["status"] == "ok"

        sync_out = tmp_path / "sync"
        reply = interrupted(km, kc, f"client.backup('MESCDM', {str(sync_out)!r}, progress=True)", sync_out)
        assert (reply["status"], reply["ename"]) == ("error", "KeyboardInterrupt"), reply
        assert list(sync_out.iterdir()) == [], "a partial or saved file was left"

        async_out = tmp_path / "async"
        reply = interrupted(km, kc, f"await aclient.backup('MESCDM', {str(async_out)!r})", async_out)
        assert reply["status"] == "error" and reply["ename"] in ("KeyboardInterrupt", "CancelledError"), reply
        assert list(async_out.iterdir()) == [], "a partial or saved file was left"

        # The kernel lives on, and the sync client still works inside its running event loop.
        check = run(
            kc, "import asyncio\nloop = asyncio.get_running_loop()\njob = client.start('MESCDM')\nassert job.guid"
        )
        assert check["status"] == "ok", check
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
