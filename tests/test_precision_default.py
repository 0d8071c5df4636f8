"""The per-device precision default: float64 on CPU, float32 where JAX will run on a GPU."""

from importlib import metadata

import pytest

import orbitjax


class _Dist:
    def __init__(self, name):
        self.metadata = {"Name": name}


@pytest.fixture
def installed(monkeypatch):
    """Fake the installed distributions: installed(["jax", "jax-cuda12-plugin"])."""
    def set_names(names):
        monkeypatch.setattr(metadata, "distributions", lambda: [_Dist(n) for n in names])
    for var in ("JAX_PLATFORMS", "CUDA_VISIBLE_DEVICES", "ORBITJAX_ENABLE_X64"):
        monkeypatch.delenv(var, raising=False)
    return set_names


@pytest.mark.parametrize("names,platforms,visible,want", [
    (["jax", "jaxlib"], None, None, True),                          # CPU-only install
    (["jax", "jaxlib", "jax-cuda12-plugin"], None, None, False),     # CUDA plugin: GPU, float32
    (["jax", "jaxlib", "jax_rocm60_plugin"], None, None, False),     # ROCm plugin
    (["jax", "jax-cuda12-plugin"], "cpu", None, True),               # JAX_PLATFORMS picks the CPU
    (["jax", "jaxlib"], "cuda,cpu", None, False),                    # JAX_PLATFORMS picks the GPU
    (["jax", "jax-cuda12-plugin"], None, "", True),                  # every GPU hidden
    (["jax", "jax-cuda12-plugin"], None, "-1", True),
    (["jax", "jax-cuda12-plugin"], None, "0", False),
])  # fmt: skip
def test_float64_on_cpu_float32_on_gpu(installed, monkeypatch, names, platforms, visible, want):
    installed(names)
    if platforms is not None:
        monkeypatch.setenv("JAX_PLATFORMS", platforms)
    if visible is not None:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert orbitjax.float64_by_default() is want


@pytest.mark.parametrize("value,want", [("1", True), ("true", True), ("0", False), ("off", False)])
def test_environment_variable_overrides_the_device(installed, monkeypatch, value, want):
    installed(["jax", "jax-cuda12-plugin"] if want else ["jax"])  # against the device default
    monkeypatch.setenv("ORBITJAX_ENABLE_X64", value)
    assert orbitjax.float64_by_default() is want


def test_unknown_value_warns_and_uses_the_device_default(installed, monkeypatch):
    installed(["jax"])
    monkeypatch.setenv("ORBITJAX_ENABLE_X64", "maybe")
    with pytest.warns(UserWarning, match="ORBITJAX_ENABLE_X64='maybe' is not 0, 1 or auto"):
        assert orbitjax.float64_by_default() is True

