"""orbitjax: constellation coverage on GPU or CPU with JAX, xarray and NetCDF."""

from .catalog import Satellites as Satellites

__version__ = "0.1.0"
