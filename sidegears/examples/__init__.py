"""Runnable example apps, shipped with SideGears; each folder holds an ``app.py`` and the ``index.html`` it serves.

* ``demo``: the original demo (multiply, getcwd, scandir); ``sidegears demo`` runs it.
* ``notifications``: the kernel pushes a clock and a progress bar to the page.

Run one with ``sidegears run <folder>/app.py`` or ``python -m sidegears.examples.<name>.app``.
"""
