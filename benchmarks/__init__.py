"""Benchmarks of the SideGears kernel against a bare websockets server (see README.md)."""
