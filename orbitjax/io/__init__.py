"""Readers and writers for satellite catalogues (no orbital math here).

- :mod:`orbitjax.io.tle`: two-line element sets (read, parse, format, write).
- :mod:`orbitjax.io.omm`: CCSDS Orbit Mean-Elements Messages as CelesTrak JSON/CSV and XML.

Both produce :class:`orbitjax.catalog.Satellites`.
"""
