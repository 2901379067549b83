"""The notifications app: see :mod:`sidegears.examples.notifications.app`."""
