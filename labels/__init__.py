"""Label rendering: values in, SVG/PDF/ZPL bytes out. No database, no HTTP.

The Labels issue fills this package; the own label-code format it prints is
defined in ``server.core.rules`` (one kind letter, six base-36 characters, one
ISO 7064 MOD 37,36 check character).
"""
