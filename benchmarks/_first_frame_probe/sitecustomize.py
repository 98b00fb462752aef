"""CPU-time probe of ``bench_first_frame.py --cpu`` (not product code).

Python imports ``sitecustomize`` at start-up from any folder on ``PYTHONPATH``; the benchmark
puts this folder there. With ``FIRST_FRAME_PROBE=<file>`` set, it waits for ``textual.app`` to
be imported (whoever imports it, whenever), then records the process's CPU time (all threads:
``getrusage``) when ``App.run`` is called and when Textual hands the first frame of the screen
class named ``FIRST_FRAME_SCREEN`` to the terminal, and the time the cyclic garbage collector
took until then, and writes them to the file as JSON (ms). Without the variable it does nothing.
"""

from __future__ import annotations

import os

if os.environ.get("FIRST_FRAME_PROBE"):
    import gc
    import importlib.abc
    import importlib.machinery
    import json
    import resource
    import sys
    import time
    from typing import Any

    OUT = os.environ["FIRST_FRAME_PROBE"]
    WANT = os.environ.get("FIRST_FRAME_SCREEN", "Screen")
    marks: dict[str, float] = {}
    collecting = {"ms": 0.0, "since": 0.0}

    def cpu_ms() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return (usage.ru_utime + usage.ru_stime) * 1000

    def on_gc(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            collecting["since"] = time.thread_time()
        else:
            collecting["ms"] += (time.thread_time() - collecting["since"]) * 1000

    gc.callbacks.append(on_gc)

    def patch(module: Any) -> None:
        app_class = module.App
        run, display = app_class.run, app_class._display

        def probe_run(self: Any, *args: Any, **kwargs: Any) -> Any:
            marks["run"] = cpu_ms()
            return run(self, *args, **kwargs)

        def probe_display(self: Any, screen: Any, renderable: Any) -> None:
            display(self, screen, renderable)
            if (
                "frame" not in marks
                and renderable is not None
                and not self._batch_count
                and type(screen).__name__ == WANT
            ):
                marks["frame"] = cpu_ms()
                marks["gc"] = collecting["ms"]
                with open(OUT, "w", encoding="utf-8") as out:
                    json.dump(marks, out)

        app_class.run, app_class._display = probe_run, probe_display

    class Finder(importlib.abc.MetaPathFinder):
        """Patches ``textual.app`` right after it is executed."""

        def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
            if name != "textual.app":
                return None
            sys.meta_path.remove(self)
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is None or spec.loader is None:
                return spec
            execute = spec.loader.exec_module

            def exec_module(module: Any) -> None:
                execute(module)
                patch(module)

            spec.loader.exec_module = exec_module  # type: ignore[method-assign]
            return spec

    sys.meta_path.insert(0, Finder())
