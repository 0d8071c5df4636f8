"""Machine description printed by every benchmark."""

import os
import platform


def describe() -> str:
    import jax

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    devices = ", ".join(sorted({d.device_kind for d in jax.devices()}))
    return f"{cpu}; {os.cpu_count()} cores; jax {jax.__version__} on {jax.default_backend()} ({devices})"
