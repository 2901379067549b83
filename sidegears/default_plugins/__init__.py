"""Bundled plugins: each module is one feature, made only of hook implementations.

The kernel registers them by name from :data:`sidegears.plugins.DEFAULT_PLUGINS`
and never imports them itself; any of them can be blocked.
"""
