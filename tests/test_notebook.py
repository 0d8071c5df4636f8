"""The notebook in notebooks/ runs top to bottom through the public API."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "kuiper_falcon9_stages.ipynb"


@pytest.mark.slow
def test_notebook_executes(monkeypatch, tmp_path):
    monkeypatch.setenv("ORBITJAX_NB_DURATION", "1h")
    monkeypatch.setenv("ORBITJAX_NB_RESOLUTION", "2")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    text = "".join(o.get("text", "") for o in outputs)
    assert "KF-03" in text and "3236" in text
