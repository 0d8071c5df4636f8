"""Pure JAX kernels: arrays and small immutable configs in, arrays out.

Nothing in this sub-package imports xarray, touches files or prints.
Angles are radians, lengths km, times minutes or seconds as named.
"""
