"""The demo app: see :mod:`sidegears.examples.demo.app`."""
