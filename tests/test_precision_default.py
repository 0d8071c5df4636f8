"""The per-device precision default: float64 on CPU, float32 where JAX will run on a GPU."""

import pytest

import orbitjax


@pytest.fixture
def installed(monkeypatch, tmp_path):
    """Fake the installed JAX plugins: installed(["xla_cuda12"]) puts jax_plugins/xla_cuda12 on sys.path."""
    def set_names(names):
        for name in names:
            pkg = tmp_path / "jax_plugins" / name
            pkg.mkdir(parents=True)
            (pkg / "__init__.py").write_text("")
        monkeypatch.syspath_prepend(str(tmp_path))
    for var in ("JAX_PLATFORMS", "CUDA_VISIBLE_DEVICES", "ORBITJAX_ENABLE_X64"):
        monkeypatch.delenv(var, raising=False)
    return set_names


@pytest.mark.parametrize("names,platforms,visible,want", [
    ([], None, None, True),                                 # CPU-only install
    (["xla_cuda12"], None, None, False),                    # CUDA plugin: GPU, float32
    (["xla_rocm60"], None, None, False),                    # ROCm plugin
    (["xla_cuda12"], "cpu", None, True),                    # JAX_PLATFORMS picks the CPU
    ([], "cuda,cpu", None, False),                          # JAX_PLATFORMS picks the GPU
    (["xla_cuda12"], None, "", True),                       # every GPU hidden
    (["xla_cuda12"], None, "-1", True),
    (["xla_cuda12"], None, "0", False),
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
    installed(["xla_cuda12"] if want else [])  # against the device default
    monkeypatch.setenv("ORBITJAX_ENABLE_X64", value)
    assert orbitjax.float64_by_default() is want


def test_unknown_value_warns_and_uses_the_device_default(installed, monkeypatch):
    installed([])
    monkeypatch.setenv("ORBITJAX_ENABLE_X64", "maybe")
    with pytest.warns(UserWarning, match="ORBITJAX_ENABLE_X64='maybe' is not 0, 1 or auto"):
        assert orbitjax.float64_by_default() is True

