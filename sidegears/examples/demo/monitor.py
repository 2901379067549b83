"""What the demo's system monitor measures: CPU and memory use, from psutil when it is installed, else from the OS.

psutil is an optional dependency of the demo only (``pip install
sidegears[demo]``). Without it the monitor still works, with what the
standard library and the OS offer, and says so (``Sampler.note``):

* on Linux, CPU use from ``/proc/stat`` and memory from ``/proc/meminfo``,
  the same numbers psutil reads there;
* elsewhere, the 1-minute load average per core stands in for CPU use, and
  there are no memory figures.
"""

from __future__ import annotations

import os
import platform
import socket
import time
from pathlib import Path
from types import ModuleType
from typing import Any

PROC_STAT = Path("/proc/stat")
PROC_MEMINFO = Path("/proc/meminfo")


def _import_psutil() -> ModuleType | None:
    try:
        import psutil
    except ImportError:
        return None
    return psutil


class Sampler:
    """Takes samples of CPU and memory use; each call to :meth:`sample` measures the time since the previous one.

    A sample is a JSON object::

        {"time": 1718000000.5,         # seconds since the epoch
         "cpu": 12.5,                  # percent of all cores, or None
         "cores": [10.0, 15.0],        # percent per core ([] when unknown)
         "memory": 41.2,               # percent of memory in use, or None
         "memory_used": 6.6e9, "memory_total": 16e9,   # bytes, or None
         "load": [0.5, 0.4, 0.3]}      # load average (1, 5, 15 min), or None

    ``use_psutil=False`` takes the fallback even where psutil is installed
    (the tests check both).
    """

    def __init__(self, use_psutil: bool = True) -> None:
        self._psutil = _import_psutil() if use_psutil else None
        self._proc_stat = PROC_STAT.is_file()
        self._proc_meminfo = PROC_MEMINFO.is_file()
        self._last_ticks: list[tuple[int, int]] | None = None
        if self._psutil is not None:
            self.source = "psutil"
            self.note = ""
        elif self._proc_stat:
            self.source = "/proc"
            self.note = "psutil is not installed: CPU and memory come from /proc/stat and /proc/meminfo."
        elif hasattr(os, "getloadavg"):
            self.source = "load average"
            self.note = (
                "Reduced view: psutil is not installed, so CPU is the 1-minute load average per core "
                "and memory is not shown (pip install psutil)."
            )
        else:
            self.source = "none"
            self.note = "Reduced view: psutil is not installed, so there are no CPU or memory figures (pip install psutil)."
        # CPU use is a difference between two readings: the first reading only sets the start.
        self._cpu_cores()

    def info(self) -> dict[str, Any]:
        """What does not change between samples: the machine, and where the numbers come from."""
        return {
            "source": self.source,
            "note": self.note,
            "hostname": socket.gethostname(),
            "platform": f"{platform.system()} {platform.release()}".strip(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count() or 1,
        }

    def sample(self) -> dict[str, Any]:
        """Measure now."""
        cores = self._cpu_cores()
        used, total = self._memory()
        load: list[float] | None = None
        if hasattr(os, "getloadavg"):
            load = [round(value, 2) for value in os.getloadavg()]
        if cores is None and load is not None:
            # No CPU counters: the load average per core (capped at 100 %) is the closest stand-in.
            cpu: float | None = min(100.0, 100.0 * load[0] / (os.cpu_count() or 1))
        else:
            cpu = sum(cores) / len(cores) if cores else None
        return {
            "time": time.time(),
            "cpu": None if cpu is None else round(cpu, 1),
            "cores": [round(core, 1) for core in cores or []],
            "memory": None if used is None or not total else round(100.0 * used / total, 1),
            "memory_used": used,
            "memory_total": total,
            "load": load,
        }

    def _cpu_cores(self) -> list[float] | None:
        """Percent busy per core since the previous call; None without a source."""
        if self._psutil is not None:
            return [float(value) for value in self._psutil.cpu_percent(percpu=True)]
        if not self._proc_stat:
            return None
        ticks = _read_proc_stat()
        last, self._last_ticks = self._last_ticks, ticks
        if last is None or len(last) != len(ticks):
            return [0.0] * len(ticks)
        cores = []
        for (busy, total), (last_busy, last_total) in zip(ticks, last):
            elapsed = total - last_total
            cores.append(100.0 * (busy - last_busy) / elapsed if elapsed > 0 else 0.0)
        return cores

    def _memory(self) -> tuple[int | None, int | None]:
        """Bytes in use and in all, where known."""
        if self._psutil is not None:
            memory = self._psutil.virtual_memory()
            return int(memory.total - memory.available), int(memory.total)
        if not self._proc_meminfo:
            return None, None
        values = {}
        for line in PROC_MEMINFO.read_text().splitlines():
            name, _, rest = line.partition(":")
            fields = rest.split()
            if fields and fields[0].isdigit():
                values[name] = int(fields[0]) * 1024  # the file counts kB
        total = values.get("MemTotal")
        available = values.get("MemAvailable", values.get("MemFree"))
        if total is None or available is None:
            return None, None
        return total - available, total


def _read_proc_stat() -> list[tuple[int, int]]:
    """(busy ticks, all ticks) per core, from the ``cpuN`` lines of /proc/stat."""
    cores = []
    for line in PROC_STAT.read_text().splitlines():
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        ticks = [int(field) for field in fields]
        # user nice system idle iowait irq softirq steal guest guest_nice: guest time is counted in user already.
        total = sum(ticks[:8])
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
        cores.append((total - idle, total))
    return cores
