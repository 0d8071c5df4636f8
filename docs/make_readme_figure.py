"""Make docs/coverage_stages.png, the README's picture, from a real `orbitjax run` output.

Usage: python -m orbitjax run --out out && python docs/make_readme_figure.py out
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import orbitjax.compare  # noqa: E402


def main(run_dir="out", png=Path(__file__).with_name("coverage_stages.png")):
    ds = orbitjax.compare.open_stages(run_dir)
    n = ds.sizes["stage"]
    fig, axes = plt.subplots(2, (n + 1) // 2, figsize=(12, 6.2), constrained_layout=True)
    for ax, k in zip(axes.ravel(), range(n)):
        st = ds.isel(stage=k)
        im = ax.pcolormesh(st.lon, st.lat, st.percent_time_covered, vmin=0, vmax=100, cmap="viridis", shading="auto")
        ax.set_title(f"{str(st.stage_name.values)}: {int(st.n_satellites)} satellites, "
                     f"mean coverage {float(st.coverage_fraction.mean()):.0%}", fontsize=10)
        ax.set_xlim(-180, 180)
        ax.set_ylim(-90, 90)
        ax.set_xticks(range(-180, 181, 60))
        ax.set_yticks(range(-90, 91, 30))
    fig.colorbar(im, ax=axes, shrink=0.8, label="% of time covered (>= 1 satellite above 35 deg)")
    t0, t1 = ds.time.values[0], ds.time.values[-1]
    fig.suptitle(f"Project Kuiper coverage by launch stage, {str(t0)[:16]} to {str(t1)[:16]} UTC (orbitjax)")
    fig.savefig(png, dpi=90)
    print(f"wrote {png}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
