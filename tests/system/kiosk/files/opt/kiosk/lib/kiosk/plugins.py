"""Plugins: modules in /opt/kiosk/plugins, imported by name (their __pycache__ is written on
the first import)."""
import importlib
import os
import sys

PLUGIN_DIR = "/opt/kiosk/plugins"


def load_all():
    if PLUGIN_DIR not in sys.path:
        sys.path.insert(0, PLUGIN_DIR)
    loaded = []
    for name in sorted(os.listdir(PLUGIN_DIR)):
        if name.endswith(".py"):
            module = importlib.import_module(name[:-3])
            loaded.append(f"{name[:-3]}={module.describe()}")
    return loaded
