"""orbitjax: constellation coverage on GPU or CPU with JAX, xarray and NetCDF.

Importing orbitjax turns on JAX's float64 support (``jax_enable_x64``): the
kernels run in float64 on CPU. Set ``ORBITJAX_ENABLE_X64=0`` before importing
to leave JAX's setting alone (e.g. for float32 GPU runs).
"""

import os as _os

import jax as _jax

if _os.environ.get("ORBITJAX_ENABLE_X64", "1") != "0":
    _jax.config.update("jax_enable_x64", True)

from . import compare as compare
from . import landmask as landmask
from . import summaries as summaries
from . import timescales as timescales
from .analysis import coverage as coverage
from .catalog import Satellites as Satellites
from .catalog import group_by_launch as group_by_launch
from .constellation import Constellation as Constellation
from .constellation import from_elements as from_elements
from .constellation import walker as walker
from .compare import open_stages as open_stages
from .io.netcdf import open_netcdf as open_netcdf
from .io.netcdf import write_netcdf as write_netcdf
from .io.omm import read_omm as read_omm
from .io.tle import read_tle as read_tle
from .io.tle import write_tle as write_tle
from .propagation import propagate as propagate
from .scenario import Scenario as Scenario
from .scenario import load_preset as load_preset
from .scenario import load_scenario as load_scenario
from .stages import run as run
from .stages import stage_datasets as stage_datasets

__version__ = "0.1.0"
